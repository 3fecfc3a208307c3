/**
 * Arithmetic in the ring Z_2^64 with fixed-point encoding, for additive secret sharing
 * (as in SecureML, Mohassel & Zhang, IEEE S&P 2017, section 3).
 *
 * A ring vector of n elements is a `Uint32Array` of 2n words: element i is `lo + 2^32·hi` with
 * `lo = words[2i]`, `hi = words[2i + 1]`, i.e. the little-endian bytes of a `BigUint64Array`, so the
 * same buffer is the wire form and can be copied straight into WebAssembly memory. Working on
 * 32-bit limbs keeps every operation on plain numbers (no BigInt on the hot path).
 *
 * Fixed point: a real x is encoded as round(x·2^f) in two's complement. The product of two
 * encodings carries 2f fractional bits and is decoded with 2f; no truncation protocol is needed
 * because every product is reconstructed (never multiplied again) before it is decoded.
 * Values must stay below 2^(63 − 2f) in magnitude after the sums, which {@link productCapacity} states.
 *
 * Variable-time: these functions branch on nothing secret beyond carries, but JavaScript gives no
 * constant-time guarantee; the shares they handle are one-time masked values, not long-term keys.
 */
import { ValidationError } from '../../core/errors.js';
import { expandSeed } from '../../crypto/prg.js';

const TWO_32 = 4294967296;
const INV_TWO_32 = 2 ** -32;
/** Largest integer magnitude a fixed-point encoding may reach: it must be exact in a double. */
const MAX_ENCODED = 2 ** 53;

/** Number of 32-bit words per ring element. */
export const RING_WORDS = 2;

/** The default number of fractional bits f of the fixed-point encoding. */
export const DEFAULT_FRACTION_BITS = 20;

/** A ring vector of n zeros (2n words). */
export function ringZeros(n: number): Uint32Array {
  return new Uint32Array(n * RING_WORDS);
}

/**
 * Number of elements of a ring vector.
 * @throws {ValidationError} if the word count is odd (not a ring vector).
 */
export function ringLength(v: Uint32Array): number {
  if (v.length % RING_WORDS !== 0) throw new ValidationError(undefined, `ring vector: ${v.length} words is not a whole number of 64-bit elements`);
  return v.length / RING_WORDS;
}

/** Elements [start, end) of a ring vector, as a view (no copy). */
export function ringSlice(v: Uint32Array, start: number, end: number): Uint32Array {
  return v.subarray(start * RING_WORDS, end * RING_WORDS);
}

/**
 * Checks a fixed-point fraction width: an integer in [1, 30], so that one encoding has room for
 * an integer part and the product of two encodings (2f bits) still leaves at least 3 integer bits.
 * @throws {ValidationError} naming `what` otherwise.
 */
export function checkFractionBits(fracBits: number, what = 'fracBits'): void {
  if (!Number.isInteger(fracBits) || fracBits < 1 || fracBits > 30) {
    throw new ValidationError(undefined, `${what}: fixed-point fraction bits must be an integer in [1, 30], got ${String(fracBits)}`);
  }
}

/**
 * The bound on |Σ products| of two encodings with `fracBits` each: sums of products must stay
 * strictly below this magnitude to decode correctly (2^(63 − 2f)).
 */
export function productCapacity(fracBits: number): number {
  checkFractionBits(fracBits);
  return 2 ** (63 - 2 * fracBits);
}

/**
 * Encodes reals as fixed-point ring elements round(x·2^f), into `out` when given.
 * @throws {ValidationError} naming `what` and the index for a non-finite value or one whose
 *   encoding reaches 2^53 in magnitude (it would not be exact).
 */
export function encodeFixed(values: Float64Array, fracBits: number, out?: Uint32Array, what = 'value'): Uint32Array {
  checkFractionBits(fracBits);
  const n = values.length;
  const words = out ?? ringZeros(n);
  if (words.length !== n * RING_WORDS) {
    throw new ValidationError(undefined, `encodeFixed: out has ${words.length} words, expected ${n * RING_WORDS}`);
  }
  const scale = 2 ** fracBits;
  // Written through an Int32Array view: storing negative numbers into a Uint32Array takes V8's slow path (10× here).
  const signed = new Int32Array(words.buffer, words.byteOffset, words.length);
  for (let i = 0; i < n; i++) {
    const v = Math.round(values[i]! * scale);
    // Also false for NaN, so non-finite values are caught here.
    if (!(v < MAX_ENCODED && v > -MAX_ENCODED)) {
      throw new ValidationError(undefined, `encodeFixed: ${what} ${i} is ${String(values[i])}, outside the fixed-point range ±2^${53 - fracBits}`);
    }
    // Multiplying by 2^−32 is exact, so hi·2^32 + lo = v with 0 ≤ lo < 2^32.
    const hi = Math.floor(v * INV_TWO_32);
    signed[2 * i] = (v - hi * TWO_32) | 0;
    signed[2 * i + 1] = hi;
  }
  return words;
}

/**
 * Decodes ring elements as signed fixed-point numbers with `fracBits` fractional bits (use 2f for
 * a product of two encodings). Magnitudes beyond 2^53 are rounded to the nearest double.
 */
export function decodeFixed(v: Uint32Array, fracBits: number, out?: Float64Array): Float64Array {
  const n = ringLength(v);
  const result = out ?? new Float64Array(n);
  const inv = 2 ** -fracBits;
  for (let i = 0; i < n; i++) result[i] = ((v[2 * i + 1]! | 0) * TWO_32 + v[2 * i]!) * inv;
  return result;
}

/** out = a + b (mod 2^64), elementwise; `out` may alias `a` or `b`. Lengths are the caller's to match. */
export function ringAdd(a: Uint32Array, b: Uint32Array, out: Uint32Array = new Uint32Array(a.length)): Uint32Array {
  for (let i = 0; i < a.length; i += 2) {
    const lo = a[i]! + b[i]!;
    const carry = lo >= TWO_32 ? 1 : 0;
    out[i + 1] = (a[i + 1]! + b[i + 1]! + carry) >>> 0;
    out[i] = lo >>> 0;
  }
  return out;
}

/** out = a − b (mod 2^64), elementwise; `out` may alias `a` or `b`. */
export function ringSub(a: Uint32Array, b: Uint32Array, out: Uint32Array = new Uint32Array(a.length)): Uint32Array {
  for (let i = 0; i < a.length; i += 2) {
    const lo = a[i]! - b[i]!;
    const borrow = lo < 0 ? 1 : 0;
    out[i + 1] = (a[i + 1]! - b[i + 1]! - borrow) >>> 0;
    out[i] = lo >>> 0;
  }
  return out;
}

/** out = −a (mod 2^64). */
export function ringNeg(a: Uint32Array, out: Uint32Array = new Uint32Array(a.length)): Uint32Array {
  return ringSub(new Uint32Array(a.length), a, out);
}

/**
 * n uniformly random ring elements expanded from a 32-byte seed with the AES-256-CTR PRG
 * (`crypto/prg.ts`): the same seed always gives the same elements, on every host.
 * @throws {EduFedError} on a seed that is not 32 bytes.
 */
export function ringRandom(seed: Uint8Array, n: number): Uint32Array {
  return expandSeed(seed, n * RING_WORDS);
}

/** Element i as an unsigned BigInt in [0, 2^64); for tests and diagnostics, not for hot loops. */
export function ringElement(v: Uint32Array, i: number): bigint {
  return (BigInt(v[2 * i + 1]!) << 32n) | BigInt(v[2 * i]!);
}

/** A ring vector from BigInts (reduced mod 2^64); for tests and diagnostics. */
export function ringFromBigInts(values: readonly bigint[]): Uint32Array {
  const out = ringZeros(values.length);
  values.forEach((x, i) => {
    const u = BigInt.asUintN(64, x);
    out[2 * i] = Number(u & 0xffffffffn);
    out[2 * i + 1] = Number(u >> 32n);
  });
  return out;
}
