/**
 * Shamir t-of-n secret sharing (A. Shamir, "How to share a secret", CACM 22(11), 1979) over a prime
 * field GF(p): the secret is the constant term of a random polynomial of degree t − 1, each share is
 * one point of it, and any t points give the secret back by Lagrange interpolation at 0, while t − 1
 * points are consistent with every secret.
 *
 * The generic scheme ({@link shamir}) works for any prime; {@link shamir521} is the instance SecAgg+
 * uses: p = 2^521 − 1 (a Mersenne prime larger than every 32-byte secret), shares of 66 bytes.
 *
 * Not constant-time: JavaScript BigInt arithmetic takes data-dependent time. Shares and secrets are
 * handled by the participants and the coordinator in one short protocol step, not in a long-lived
 * service an attacker could time repeatedly; this is accepted, not hidden.
 */
import { randomBytes } from 'node:crypto';
import { ConfigError, EduFedError } from '../core/errors.js';

/** The Mersenne prime 2^521 − 1. */
export const P521 = (1n << 521n) - 1n;

/** One share: the point (x, f(x)); `y` is big-endian, {@link ShamirScheme.shareBytes} wide. */
export interface Share {
  readonly x: number;
  readonly y: Uint8Array;
}

/** Uniform random bytes (the coefficients' source); node:crypto `randomBytes` in production. */
export type RandomSource = (length: number) => Uint8Array;

/** A Shamir scheme over one prime field for secrets of a fixed byte length. */
export interface ShamirScheme {
  readonly prime: bigint;
  /** Length of every secret, in bytes (big-endian encoding of a field element below `prime`). */
  readonly secretBytes: number;
  /** Length of every share's `y`, in bytes. */
  readonly shareBytes: number;
  /**
   * Splits `secret` into one share per x-coordinate in `xs`, any `t` of which reconstruct it.
   * @throws ConfigError naming the argument: t not in [1, xs.length], xs not distinct integers in
   *   [1, min(p − 1, 2^31 − 1)], a secret of the wrong length or not below the prime.
   */
  split(secret: Uint8Array, t: number, xs: readonly number[], random?: RandomSource): Share[];
  /**
   * The secret from the first `t` of `shares` (Lagrange interpolation at 0).
   * @throws ConfigError naming the argument: fewer than t shares, repeated or invalid x, a share of
   *   the wrong width or not below the prime.
   * @throws EduFedError (PROTOCOL) when the interpolated value does not fit in `secretBytes` (the
   *   shares were not made from one secret of this scheme).
   */
  combine(shares: readonly Share[], t: number): Uint8Array;
}

const defaultRandom: RandomSource = (length) => new Uint8Array(randomBytes(length));

function bitLength(v: bigint): number {
  return v.toString(2).length;
}

function toBigInt(bytes: Uint8Array): bigint {
  let v = 0n;
  for (const b of bytes) v = (v << 8n) | BigInt(b);
  return v;
}

function toBytes(v: bigint, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let r = v;
  for (let i = length - 1; i >= 0; i--) {
    out[i] = Number(r & 0xffn);
    r >>= 8n;
  }
  return out;
}

function mod(a: bigint, p: bigint): bigint {
  const r = a % p;
  return r < 0n ? r + p : r;
}

/** a⁻¹ mod p by the extended Euclidean algorithm; `a` must be nonzero mod p. */
function invert(a: bigint, p: bigint): bigint {
  let [r0, r1] = [mod(a, p), p];
  let [s0, s1] = [1n, 0n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  if (r0 !== 1n) throw new EduFedError('INTERNAL', 'Shamir: inverse of a non-invertible element (is the modulus prime?)');
  return mod(s0, p);
}

function checkThreshold(t: number, n: number, what: string): void {
  if (!Number.isInteger(t) || t < 1) throw new ConfigError('t', `must be an integer ≥ 1, got ${t}`);
  if (t > n) throw new ConfigError(what, `need at least t = ${t} ${what === 'xs' ? 'x-coordinates' : 'shares'}, got ${n}`);
}

/**
 * A Shamir scheme over GF(`prime`) for secrets of `secretBytes` bytes. The caller vouches that
 * `prime` is prime (checked only to be odd and > 2); secrets must encode values below it.
 * @throws ConfigError for an even or tiny modulus or a non-positive secret length.
 */
export function shamir(prime: bigint, secretBytes: number): ShamirScheme {
  if (typeof prime !== 'bigint' || prime < 3n || prime % 2n === 0n) throw new ConfigError('prime', `must be an odd prime ≥ 3, got ${String(prime)}`);
  if (!Number.isInteger(secretBytes) || secretBytes < 1) throw new ConfigError('secretBytes', `must be a positive integer, got ${secretBytes}`);
  const bits = bitLength(prime);
  const shareBytes = Math.ceil(bits / 8);
  // Highest x accepted: below p (so x ≠ 0 mod p) and a safe small integer on the wire.
  const maxX = prime - 1n < 0x7fffffffn ? Number(prime - 1n) : 0x7fffffff;
  const topMask = (1 << (bits - (shareBytes - 1) * 8)) - 1;

  /** A uniform element of GF(p): rejection sampling over `bits`-bit strings (accepts with probability > 1/2). */
  function randomElement(random: RandomSource): bigint {
    for (;;) {
      const bytes = random(shareBytes);
      if (!(bytes instanceof Uint8Array) || bytes.length !== shareBytes) {
        throw new ConfigError('random', `must return ${shareBytes} bytes, returned ${bytes instanceof Uint8Array ? bytes.length : typeof bytes}`);
      }
      const masked = bytes.slice();
      masked[0] = (masked[0] as number) & topMask;
      const v = toBigInt(masked);
      masked.fill(0);
      if (v < prime) return v;
    }
  }

  function checkXs(xs: readonly number[], what: string): void {
    const seen = new Set<number>();
    for (const x of xs) {
      if (!Number.isInteger(x) || x < 1 || x > maxX) throw new ConfigError(what, `x-coordinate ${x} is not an integer in [1, ${maxX}]`);
      if (seen.has(x)) throw new ConfigError(what, `x-coordinate ${x} appears twice`);
      seen.add(x);
    }
  }

  return {
    prime,
    secretBytes,
    shareBytes,
    split(secret, t, xs, random = defaultRandom) {
      if (!(secret instanceof Uint8Array) || secret.length !== secretBytes) {
        throw new ConfigError('secret', `expected ${secretBytes} bytes, got ${secret instanceof Uint8Array ? secret.length : typeof secret}`);
      }
      checkThreshold(t, xs.length, 'xs');
      checkXs(xs, 'xs');
      const s = toBigInt(secret);
      if (s >= prime) throw new ConfigError('secret', `its value must be below the field prime (${bits} bits)`);
      // f(x) = s + a_1 x + ... + a_{t−1} x^{t−1}, coefficients uniform in GF(p).
      const coeffs: bigint[] = [s];
      for (let i = 1; i < t; i++) coeffs.push(randomElement(random));
      const shares = xs.map((x): Share => {
        const bx = BigInt(x);
        let y = 0n;
        for (let i = coeffs.length - 1; i >= 0; i--) y = (y * bx + (coeffs[i] as bigint)) % prime;
        return { x, y: toBytes(y, shareBytes) };
      });
      // Best effort: BigInts cannot be wiped, but the references can go.
      coeffs.length = 0;
      return shares;
    },
    combine(shares, t) {
      checkThreshold(t, shares.length, 'shares');
      const used = shares.slice(0, t);
      checkXs(
        used.map((sh) => sh.x),
        'shares',
      );
      const xs = used.map((sh) => BigInt(sh.x));
      const ys = used.map((sh, i) => {
        if (!(sh.y instanceof Uint8Array) || sh.y.length !== shareBytes) {
          throw new ConfigError('shares', `share ${i} (x = ${sh.x}): y must be ${shareBytes} bytes, got ${sh.y instanceof Uint8Array ? sh.y.length : typeof sh.y}`);
        }
        const y = toBigInt(sh.y);
        if (y >= prime) throw new ConfigError('shares', `share ${i} (x = ${sh.x}): y is not below the field prime`);
        return y;
      });
      // f(0) = Σ_i y_i · Π_{j≠i} x_j / (x_j − x_i).
      let s = 0n;
      for (let i = 0; i < t; i++) {
        const xi = xs[i] as bigint;
        let num = 1n;
        let den = 1n;
        for (let j = 0; j < t; j++) {
          if (j === i) continue;
          const xj = xs[j] as bigint;
          num = (num * xj) % prime;
          den = (den * mod(xj - xi, prime)) % prime;
        }
        s = (s + (ys[i] as bigint) * num % prime * invert(den, prime)) % prime;
      }
      if (bitLength(s) > secretBytes * 8) {
        throw new EduFedError('PROTOCOL', `Shamir: the ${t} shares interpolate to a value wider than ${secretBytes} bytes; they do not come from one secret`);
      }
      return toBytes(s, secretBytes);
    },
  };
}

/** The SecAgg+ instance: 32-byte secrets over GF(2^521 − 1), 66-byte shares. */
export const shamir521: ShamirScheme = shamir(P521, 32);

/**
 * Splits a 32-byte secret over GF(2^521 − 1) ({@link shamir521}): one share per x in `xs`, any `t` reconstruct it.
 * @throws ConfigError naming the argument (see {@link ShamirScheme.split}).
 */
export function split(secret: Uint8Array, t: number, xs: readonly number[], random: RandomSource = defaultRandom): Share[] {
  return shamir521.split(secret, t, xs, random);
}

/**
 * The 32-byte secret from the first `t` of `shares` over GF(2^521 − 1) ({@link shamir521}).
 * @throws ConfigError for too few or malformed shares; EduFedError (PROTOCOL) for inconsistent ones.
 */
export function combine(shares: readonly Share[], t: number): Uint8Array {
  return shamir521.combine(shares, t);
}
