/**
 * CKKS approximate homomorphic encryption (Cheon, Kim, Kim, Song: "Homomorphic Encryption for
 * Arithmetic of Approximate Numbers", ASIACRYPT 2017) for adding real vectors under encryption,
 * through Microsoft SEAL compiled to WebAssembly (`node-seal@6.0.3`). Only encryption, addition and
 * decryption are exposed: that is all secure aggregation needs, and it needs no relinearisation or
 * Galois keys, so no evaluation key ever leaves the key holder.
 *
 * Default parameters ({@link DEFAULT_CKKS_PARAMS}) and why:
 * - N = 8192, so 4096 real values per ciphertext.
 * - Coefficient modulus of three 60-bit primes (180 bits). The HE security standard
 *   (homomorphicencryption.org, 2018, table of ternary secrets) allows up to 218 bits at N = 8192 for
 *   128-bit classical security; SEAL enforces the same table and refuses anything above it.
 *   The last prime is SEAL's "special" prime: public-key encryption works modulo all three primes and
 *   then divides by it, which shrinks the noise; ciphertexts live modulo q = the other two, q > 2^118.
 * - Scale Δ = 2^60. Addition needs no rescaling, so Δ only trades precision against headroom: a
 *   slot decrypts correctly while |value| · Δ stays below q/2. The noise of a fresh encryption is
 *   at most about 2^19.5 (Lemma 1 of the paper), so each input adds at most 6.3·10^-13 of absolute
 *   error; measured, the error of a sum of 100 inputs of magnitude 1 is about 2·10^-14, which is
 *   double-precision rounding. The headroom ({@link Ckks.capacity}) is 2^56 ≈ 7·10^16, so a sum of
 *   up to 1000 inputs of magnitude up to 7·10^13 each decrypts to within 6.3·10^-10 absolute plus
 *   9.1·10^-13 relative to its largest slot ({@link Ckks.errorBound}): far finer than the float32
 *   models it aggregates.
 * - Ciphertexts are serialised with zstd (SEAL's own compression): about 262 KB per 4096 values
 *   with the public key, 131 KB when the encryptor holds the secret key (SEAL then sends a seed in
 *   place of the uniform half of the ciphertext).
 *
 * Randomness: SEAL's Blake2-based PRNG is seeded from `std::random_device`, which Emscripten maps to
 * `crypto.randomFillSync` (the operating system's CSPRNG). SEAL's arithmetic is not designed to be
 * constant time, and WebAssembly engines promise nothing either (see docs/threat-model.md).
 */
import { createRequire } from 'node:module';
import type { CipherText } from 'node-seal/implementation/cipher-text.js';
import type { CKKSEncoder } from 'node-seal/implementation/ckks-encoder.js';
import type { Context } from 'node-seal/implementation/context.js';
import type { Decryptor } from 'node-seal/implementation/decryptor.js';
import type { Encryptor } from 'node-seal/implementation/encryptor.js';
import type { Evaluator } from 'node-seal/implementation/evaluator.js';
import type { PublicKey } from 'node-seal/implementation/public-key.js';
import type { SEALLibrary } from 'node-seal/implementation/seal.js';
import type { SecretKey } from 'node-seal/implementation/secret-key.js';
import { ConfigError, EduFedError, ValidationError } from '../core/errors.js';
import { isRecord } from '../core/validate.js';

/** CKKS encryption parameters. */
export interface CkksParams {
  /** N, a power of two; a ciphertext holds N/2 real values. */
  readonly polyModulusDegree: number;
  /** Bit sizes of the RNS primes of the coefficient modulus; the last is SEAL's special prime. */
  readonly coeffModulusBits: readonly number[];
  /** log2 of the encoding scale Δ. */
  readonly scaleBits: number;
}

/** The parameters EduFed uses unless configured otherwise (justified in this file's header). */
export const DEFAULT_CKKS_PARAMS: CkksParams = Object.freeze({
  polyModulusDegree: 8192,
  coeffModulusBits: Object.freeze([60, 60, 60]),
  scaleBits: 60,
});

/**
 * Largest total coefficient-modulus size with 128-bit classical security for a ternary secret, by
 * N (HE security standard, 2018, table 1; the same table SEAL enforces as `tc128`).
 */
export const MAX_COEFF_BITS_128: Readonly<Record<number, number>> = Object.freeze({ 4096: 109, 8192: 218, 16384: 438, 32768: 881 });

/** Standard deviation of SEAL's error distribution. */
const NOISE_SIGMA = 3.2;
/** Smallest headroom (log2 of the largest slot magnitude) a parameter set must leave. */
const MIN_CAPACITY_BITS = 10;

/** Bits of the ciphertext modulus q guaranteed by the primes (each b-bit prime exceeds 2^(b-1)). */
function dataModulusBits(p: CkksParams): number {
  const data = p.coeffModulusBits.slice(0, -1);
  return data.reduce((a, b) => a + b, 0) - data.length;
}

/** log2 of {@link Ckks.capacity}: one bit for the centred representation, one of margin for noise. */
function capacityBits(p: CkksParams): number {
  return dataModulusBits(p) - p.scaleBits - 2;
}

/**
 * Checks a CKKS parameter set (from a config file or the network) and returns it typed.
 * @throws ConfigError naming `field` and the offending member: N not a power of two in
 *   [4096, 32768], primes outside [20, 60] bits or fewer than two, a modulus above the 128-bit
 *   security limit, or a scale that leaves less than 2^10 of headroom.
 */
export function validateCkksParams(value: unknown, field = 'ckks.params'): CkksParams {
  if (!isRecord(value)) throw new ConfigError(field, 'expected an object');
  const n = value['polyModulusDegree'];
  if (typeof n !== 'number' || MAX_COEFF_BITS_128[n] === undefined) {
    throw new ConfigError(`${field}.polyModulusDegree`, `expected one of ${Object.keys(MAX_COEFF_BITS_128).join(', ')}, got ${String(n)}`);
  }
  const bits = value['coeffModulusBits'];
  if (!Array.isArray(bits) || bits.length < 2 || bits.length > 16) {
    throw new ConfigError(`${field}.coeffModulusBits`, 'expected an array of 2 to 16 prime sizes');
  }
  const sizes: number[] = [];
  for (const [i, b] of bits.entries()) {
    if (typeof b !== 'number' || !Number.isInteger(b) || b < 20 || b > 60) {
      throw new ConfigError(`${field}.coeffModulusBits[${i}]`, `expected an integer from 20 to 60, got ${String(b)}`);
    }
    sizes.push(b);
  }
  const total = sizes.reduce((a, b) => a + b, 0);
  const limit = MAX_COEFF_BITS_128[n] ?? 0;
  if (total > limit) {
    throw new ConfigError(`${field}.coeffModulusBits`, `${total} bits in total exceed ${limit}, the 128-bit security limit at N = ${n}`);
  }
  const scaleBits = value['scaleBits'];
  if (typeof scaleBits !== 'number' || !Number.isInteger(scaleBits) || scaleBits < 20) {
    throw new ConfigError(`${field}.scaleBits`, `expected an integer of at least 20, got ${String(scaleBits)}`);
  }
  const params: CkksParams = { polyModulusDegree: n, coeffModulusBits: sizes, scaleBits };
  if (capacityBits(params) < MIN_CAPACITY_BITS) {
    throw new ConfigError(
      `${field}.scaleBits`,
      `scale 2^${scaleBits} leaves 2^${capacityBits(params)} of headroom under the ciphertext modulus; at least 2^${MIN_CAPACITY_BITS} is needed`,
    );
  }
  return params;
}

type SealFactory = () => Promise<SEALLibrary>;

function isSealFactory(v: unknown): v is SealFactory {
  return typeof v === 'function';
}

let library: Promise<SEALLibrary> | undefined;

/**
 * The SEAL WebAssembly library, initialised once per process on first use (about 60 ms).
 * @throws EduFedError (INTERNAL) when node-seal cannot be loaded.
 */
export function loadSeal(): Promise<SEALLibrary> {
  if (library === undefined) {
    // node-seal's type declarations describe its ES build, but Node loads its CommonJS build, whose
    // module.exports is the factory itself: load it the CommonJS way and check what came back.
    const factory: unknown = createRequire(import.meta.url)('node-seal');
    if (!isSealFactory(factory)) throw new EduFedError('INTERNAL', 'node-seal did not export its factory function');
    library = factory().catch((err: unknown) => {
      library = undefined;
      throw new EduFedError('INTERNAL', `node-seal failed to initialise: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    });
  }
  return library;
}

/** A running sum of ciphertext vectors, kept loaded so that adding does not re-serialise. */
export interface CkksSum {
  /** How many vectors have been added. */
  readonly inputs: number;
  /** Ciphertexts per vector, fixed by the first vector added (0 before). */
  readonly parts: number;
  /** The serialised sum, one ciphertext per 4096 slots. @throws EduFedError (PROTOCOL) when nothing was added */
  save(): Uint8Array[];
  /** Frees the WebAssembly memory of the sum. */
  dispose(): void;
}

/** A CKKS instance: parameters, keys, and the operations secure aggregation needs. */
export interface Ckks {
  readonly params: CkksParams;
  /** Real values per ciphertext (N/2). */
  readonly slotCount: number;
  /** Δ. */
  readonly scale: number;
  /** Largest magnitude a slot (of an input or of any sum) may reach and still decrypt correctly. */
  readonly capacity: number;
  readonly hasPublicKey: boolean;
  readonly hasSecretKey: boolean;
  /** Replaces the keys by a fresh secret key and its public key. */
  generateKeys(): void;
  /** The public key, serialised. @throws EduFedError (PROTOCOL) without one */
  savePublicKey(): Uint8Array;
  /** Installs a serialised public key. @throws ValidationError when the bytes are not a public key of these parameters */
  loadPublicKey(bytes: Uint8Array): void;
  /** The secret key, serialised: wipe the returned bytes after use. @throws EduFedError (PROTOCOL) without one */
  saveSecretKey(): Uint8Array;
  /** Installs a serialised secret key. @throws ValidationError when the bytes are not a secret key of these parameters */
  loadSecretKey(bytes: Uint8Array): void;
  /**
   * True when the public and the secret key belong together: a probe vector encrypted with the
   * public key decrypts, with the secret key, to itself within {@link errorBound}.
   * @throws EduFedError (PROTOCOL) unless both keys are loaded.
   */
  checkKeyPair(): boolean;
  /** Number of ciphertexts a vector of `length` values takes. */
  ciphertextCount(length: number): number;
  /**
   * Encrypts a vector, 4096 values per ciphertext (the last one zero-padded), serialised. Uses the
   * secret key when held (half the bytes), else the public key.
   * @throws ValidationError when a value is not finite or exceeds `maxAbs` (default {@link capacity});
   *   EduFedError (PROTOCOL) without a key.
   */
  encrypt(vector: Float64Array | Float32Array, options?: { readonly maxAbs?: number }): Uint8Array[];
  /** An empty running sum. */
  createSum(): CkksSum;
  /**
   * Adds one encrypted vector to `acc`; all of its ciphertexts are checked before any is added, so a
   * refused vector leaves `acc` unchanged.
   * @throws ValidationError naming `what` when a ciphertext fails to load, is not a fresh-size
   *   ciphertext at this scale and level, or the count differs from the vectors already added.
   */
  addInto(acc: CkksSum, ciphertexts: readonly Uint8Array[], what?: string): void;
  /** The serialised sum of encrypted vectors. @throws ValidationError as {@link addInto}; EduFedError (PROTOCOL) for an empty list */
  sum(vectors: readonly (readonly Uint8Array[])[]): Uint8Array[];
  /**
   * Decrypts a (summed) encrypted vector to its first `length` values.
   * @throws ValidationError when the ciphertext count does not match `length` or one fails to load;
   *   EduFedError (PROTOCOL) without the secret key.
   */
  decrypt(ciphertexts: readonly Uint8Array[], length: number, what?: string): Float64Array;
  /**
   * A bound on the absolute error of each decrypted slot of a sum of `inputs` fresh encryptions whose
   * slots (and partial sums) stay within ±maxAbs: inputs · (B_clean + N/2) / Δ + 2^-40 · maxAbs, with
   * B_clean = 8√2·σN + 6σ√N + 16σ√(hN) the fresh-noise bound of the CKKS paper (Lemma 1, h = N),
   * N/2 the encoding rounding, and 2^-40 a generous allowance for the double-precision FFT of SEAL's encoder.
   */
  errorBound(inputs: number, maxAbs: number): number;
  /** Frees every WebAssembly object; the instance is unusable afterwards. */
  dispose(): void;
}

/**
 * Creates a CKKS instance without keys (call `generateKeys` or load keys).
 * @throws ConfigError for invalid parameters; EduFedError (INTERNAL) when SEAL refuses them.
 */
export async function createCkks(params: CkksParams = DEFAULT_CKKS_PARAMS): Promise<Ckks> {
  const checked = validateCkksParams(params);
  return new SealCkks(await loadSeal(), checked);
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** What every instance with the same parameters shares: immutable once built. */
interface SealShared {
  readonly context: Context;
  readonly encoder: CKKSEncoder;
  readonly evaluator: Evaluator;
  /** Parameter id of the first data level, where ciphertexts live. */
  readonly firstParms: BigUint64Array;
}

// Building a SEAL context takes about 200 ms at N = 8192 (prime search, NTT tables), so each
// parameter set is built once per process and shared; contexts are immutable, so sharing is safe.
const sharedByParams = new Map<string, SealShared>();

function sharedFor(seal: SEALLibrary, params: CkksParams): SealShared {
  const key = JSON.stringify([params.polyModulusDegree, params.coeffModulusBits]);
  const cached = sharedByParams.get(key);
  if (cached !== undefined) return cached;
  const n = params.polyModulusDegree;
  const parms = seal.EncryptionParameters(seal.SchemeType.ckks);
  let context: Context;
  try {
    parms.setPolyModulusDegree(n);
    const moduli = seal.CoeffModulus.Create(n, Int32Array.from(params.coeffModulusBits));
    parms.setCoeffModulus(moduli);
    moduli.delete();
    context = seal.Context(parms, true, seal.SecurityLevel.tc128);
  } catch (err) {
    throw new EduFedError('INTERNAL', `SEAL refused the CKKS parameters: ${message(err)}`, { cause: err });
  } finally {
    parms.delete();
  }
  if (!context.parametersSet()) {
    context.delete();
    throw new EduFedError('INTERNAL', 'SEAL refused the CKKS parameters (not valid at 128-bit security)');
  }
  const first = context.firstParmsId;
  const shared: SealShared = { context, encoder: seal.CKKSEncoder(context), evaluator: seal.Evaluator(context), firstParms: first.values };
  first.delete();
  sharedByParams.set(key, shared);
  return shared;
}

class SealSum implements CkksSum {
  inputs = 0;
  parts = 0;
  cts: CipherText[] = [];
  constructor(readonly owner: SealCkks) {}
  save(): Uint8Array[] {
    if (this.inputs === 0) throw new EduFedError('PROTOCOL', 'CKKS sum: nothing was added');
    return this.cts.map((ct) => this.owner.serialize(ct));
  }
  dispose(): void {
    for (const ct of this.cts) ct.delete();
    this.cts = [];
  }
}

class SealCkks implements Ckks {
  readonly params: CkksParams;
  readonly slotCount: number;
  readonly scale: number;
  readonly capacity: number;
  private readonly seal: SEALLibrary;
  private readonly context: Context;
  private readonly encoder: CKKSEncoder;
  private readonly evaluator: Evaluator;
  private readonly firstParms: BigUint64Array;
  private readonly maxCiphertextBytes: number;
  private readonly maxKeyBytes: number;
  private publicKey: PublicKey | undefined;
  private secretKey: SecretKey | undefined;
  private encryptor: Encryptor | undefined;
  private decryptor: Decryptor | undefined;
  private disposed = false;

  constructor(seal: SEALLibrary, params: CkksParams) {
    this.seal = seal;
    this.params = params;
    const shared = sharedFor(seal, params);
    this.context = shared.context;
    this.encoder = shared.encoder;
    this.evaluator = shared.evaluator;
    this.firstParms = shared.firstParms;
    const n = params.polyModulusDegree;
    this.slotCount = this.encoder.slotCount;
    this.scale = 2 ** params.scaleBits;
    this.capacity = 2 ** capacityBits(params);
    const primes = params.coeffModulusBits.length;
    // A serialised object is never larger than its raw words plus SEAL's small headers; refusing
    // bigger inputs up front bounds what a hostile peer can make SEAL decompress.
    this.maxCiphertextBytes = 2 * n * (primes - 1) * 8 + 4096;
    this.maxKeyBytes = 2 * n * primes * 8 + 4096;
  }

  get hasPublicKey(): boolean {
    return this.publicKey !== undefined;
  }

  get hasSecretKey(): boolean {
    return this.secretKey !== undefined;
  }

  private live(): void {
    if (this.disposed) throw new EduFedError('INTERNAL', 'CKKS instance used after dispose()');
  }

  private resetKeys(): void {
    this.encryptor?.delete();
    this.decryptor?.delete();
    this.publicKey?.delete();
    this.secretKey?.delete();
    this.encryptor = undefined;
    this.decryptor = undefined;
    this.publicKey = undefined;
    this.secretKey = undefined;
  }

  private rebuild(): void {
    this.encryptor?.delete();
    this.decryptor?.delete();
    this.encryptor = undefined;
    this.decryptor = undefined;
    if (this.publicKey !== undefined) this.encryptor = this.seal.Encryptor(this.context, this.publicKey, this.secretKey);
    else if (this.secretKey !== undefined) {
      // SEAL's Encryptor wants a public key; symmetric encryption only uses the secret key.
      const keygen = this.seal.KeyGenerator(this.context, this.secretKey);
      this.publicKey = keygen.createPublicKey();
      keygen.delete();
      this.encryptor = this.seal.Encryptor(this.context, this.publicKey, this.secretKey);
    }
    if (this.secretKey !== undefined) this.decryptor = this.seal.Decryptor(this.context, this.secretKey);
  }

  generateKeys(): void {
    this.live();
    this.resetKeys();
    const keygen = this.seal.KeyGenerator(this.context);
    try {
      this.secretKey = keygen.secretKey();
      this.publicKey = keygen.createPublicKey();
    } finally {
      keygen.delete();
    }
    this.rebuild();
  }

  savePublicKey(): Uint8Array {
    this.live();
    if (this.publicKey === undefined) throw new EduFedError('PROTOCOL', 'CKKS: no public key to save');
    return this.publicKey.saveArray(this.seal.ComprModeType.zstd);
  }

  loadPublicKey(bytes: Uint8Array): void {
    this.live();
    checkBytes(bytes, 'CKKS public key', this.maxKeyBytes);
    const key = this.seal.PublicKey();
    try {
      key.loadArray(this.context, bytes);
    } catch (err) {
      key.delete();
      throw new ValidationError(undefined, `CKKS public key: not a public key of these parameters (${message(err)})`, { cause: err });
    }
    this.publicKey?.delete();
    this.publicKey = key;
    this.rebuild();
  }

  saveSecretKey(): Uint8Array {
    this.live();
    if (this.secretKey === undefined) throw new EduFedError('PROTOCOL', 'CKKS: no secret key to save');
    return this.secretKey.saveArray(this.seal.ComprModeType.zstd);
  }

  loadSecretKey(bytes: Uint8Array): void {
    this.live();
    checkBytes(bytes, 'CKKS secret key', this.maxKeyBytes);
    const key = this.seal.SecretKey();
    try {
      key.loadArray(this.context, bytes);
    } catch (err) {
      key.delete();
      throw new ValidationError(undefined, `CKKS secret key: not a secret key of these parameters (${message(err)})`, { cause: err });
    }
    this.secretKey?.delete();
    this.secretKey = key;
    this.rebuild();
  }

  checkKeyPair(): boolean {
    this.live();
    const { encryptor, decryptor } = this;
    if (encryptor === undefined || decryptor === undefined) throw new EduFedError('PROTOCOL', 'CKKS checkKeyPair: both keys are needed');
    const probe = new Float64Array(this.slotCount);
    for (let i = 0; i < probe.length; i++) probe[i] = (i % 17) - 8;
    const plain = this.seal.PlainText();
    const cipher = this.seal.CipherText();
    try {
      this.encoder.encode(probe, this.scale, plain);
      encryptor.encrypt(plain, cipher);
      decryptor.decrypt(cipher, plain);
      const back = this.encoder.decode(plain);
      const bound = this.errorBound(1, 8);
      return back.every((v, i) => Math.abs(v - (probe[i] as number)) <= bound);
    } finally {
      plain.delete();
      cipher.delete();
    }
  }

  ciphertextCount(length: number): number {
    return Math.ceil(length / this.slotCount);
  }

  encrypt(vector: Float64Array | Float32Array, options: { readonly maxAbs?: number } = {}): Uint8Array[] {
    this.live();
    if (!(vector instanceof Float64Array) && !(vector instanceof Float32Array)) {
      throw new ValidationError(undefined, 'CKKS encrypt: vector must be a Float64Array or Float32Array');
    }
    if (vector.length === 0) throw new ValidationError(undefined, 'CKKS encrypt: vector is empty');
    const encryptor = this.encryptor;
    if (encryptor === undefined) throw new EduFedError('PROTOCOL', 'CKKS encrypt: no key loaded');
    const maxAbs = Math.min(options.maxAbs ?? this.capacity, this.capacity);
    for (let i = 0; i < vector.length; i++) {
      const v = vector[i] as number;
      if (!(Math.abs(v) <= maxAbs)) {
        // The value itself stays out of the message: errors travel to the coordinator.
        throw new ValidationError(undefined, `CKKS encrypt: vector[${i}] is not finite or exceeds ±${maxAbs}`);
      }
    }
    const out: Uint8Array[] = [];
    const chunk = new Float64Array(this.slotCount);
    const plain = this.seal.PlainText();
    const cipher = this.seal.CipherText();
    const symmetric = this.secretKey !== undefined;
    try {
      for (let start = 0; start < vector.length; start += this.slotCount) {
        const end = Math.min(start + this.slotCount, vector.length);
        chunk.fill(0);
        for (let i = start; i < end; i++) chunk[i - start] = vector[i] as number;
        this.encoder.encode(chunk, this.scale, plain);
        if (symmetric) {
          const seeded = encryptor.encryptSymmetricSerializable(plain);
          out.push(seeded.saveArray(this.seal.ComprModeType.zstd));
          seeded.delete();
        } else {
          encryptor.encrypt(plain, cipher);
          out.push(this.serialize(cipher));
        }
      }
    } finally {
      chunk.fill(0);
      plain.delete();
      cipher.delete();
    }
    return out;
  }

  serialize(ct: CipherText): Uint8Array {
    return ct.saveArray(this.seal.ComprModeType.zstd);
  }

  /** Loads and checks one ciphertext; the caller owns (and deletes) the result. */
  private load(bytes: Uint8Array, what: string): CipherText {
    checkBytes(bytes, what, this.maxCiphertextBytes);
    const ct = this.seal.CipherText();
    try {
      ct.loadArray(this.context, bytes);
    } catch (err) {
      ct.delete();
      throw new ValidationError(undefined, `${what}: not a CKKS ciphertext of these parameters (${message(err)})`, { cause: err });
    }
    const parms = ct.parmsId;
    const level = parms.values;
    parms.delete();
    let problem: string | undefined;
    if (ct.size !== 2) problem = `has ${ct.size} polynomials, expected 2`;
    else if (ct.isTransparent) problem = 'is transparent (it would reveal its plaintext)';
    else if (!ct.isNttForm) problem = 'is not in NTT form';
    else if (ct.scale !== this.scale) problem = `has scale ${ct.scale}, expected 2^${this.params.scaleBits}`;
    else if (level.length !== this.firstParms.length || level.some((w, i) => w !== this.firstParms[i])) problem = 'is not at the first data level';
    if (problem !== undefined) {
      ct.delete();
      throw new ValidationError(undefined, `${what}: ciphertext ${problem}`);
    }
    return ct;
  }

  createSum(): CkksSum {
    this.live();
    return new SealSum(this);
  }

  addInto(acc: CkksSum, ciphertexts: readonly Uint8Array[], what = 'ciphertexts'): void {
    this.live();
    if (!(acc instanceof SealSum) || acc.owner !== this) throw new EduFedError('INTERNAL', 'CKKS addInto: the sum belongs to another instance');
    if (!Array.isArray(ciphertexts) || ciphertexts.length === 0) throw new ValidationError(undefined, `${what}: expected at least one ciphertext`);
    if (acc.inputs > 0 && ciphertexts.length !== acc.parts) {
      throw new ValidationError(undefined, `${what}: ${ciphertexts.length} ciphertexts, but the sum holds ${acc.parts}`);
    }
    const loaded: CipherText[] = [];
    try {
      for (const [i, bytes] of ciphertexts.entries()) loaded.push(this.load(bytes, `${what}[${i}]`));
    } catch (err) {
      for (const ct of loaded) ct.delete();
      throw err;
    }
    if (acc.inputs === 0) {
      acc.cts = loaded;
      acc.parts = loaded.length;
    } else {
      loaded.forEach((ct, i) => {
        const target = acc.cts[i] as CipherText;
        this.evaluator.add(target, ct, target);
        ct.delete();
      });
    }
    acc.inputs++;
  }

  sum(vectors: readonly (readonly Uint8Array[])[]): Uint8Array[] {
    if (vectors.length === 0) throw new EduFedError('PROTOCOL', 'CKKS sum: no vectors');
    const acc = this.createSum();
    try {
      vectors.forEach((v, i) => this.addInto(acc, v, `vectors[${i}]`));
      return acc.save();
    } finally {
      acc.dispose();
    }
  }

  decrypt(ciphertexts: readonly Uint8Array[], length: number, what = 'ciphertexts'): Float64Array {
    this.live();
    if (!Number.isSafeInteger(length) || length < 1) throw new ValidationError(undefined, `CKKS decrypt: length ${length} is not a positive integer`);
    const decryptor = this.decryptor;
    if (decryptor === undefined) throw new EduFedError('PROTOCOL', 'CKKS decrypt: no secret key loaded');
    const expected = this.ciphertextCount(length);
    if (!Array.isArray(ciphertexts) || ciphertexts.length !== expected) {
      throw new ValidationError(undefined, `${what}: ${Array.isArray(ciphertexts) ? ciphertexts.length : 'no'} ciphertexts for ${length} values, expected ${expected}`);
    }
    const out = new Float64Array(length);
    const plain = this.seal.PlainText();
    try {
      ciphertexts.forEach((bytes, i) => {
        const ct = this.load(bytes, `${what}[${i}]`);
        try {
          decryptor.decrypt(ct, plain);
        } finally {
          ct.delete();
        }
        const slots = this.encoder.decode(plain);
        const start = i * this.slotCount;
        out.set(slots.subarray(0, Math.min(this.slotCount, length - start)), start);
        slots.fill(0);
      });
    } finally {
      plain.delete();
    }
    return out;
  }

  errorBound(inputs: number, maxAbs: number): number {
    const n = this.params.polyModulusDegree;
    // 16σ√(hN) with the secret's Hamming weight h at its maximum N is 16σN.
    const fresh = 8 * Math.SQRT2 * NOISE_SIGMA * n + 6 * NOISE_SIGMA * Math.sqrt(n) + 16 * NOISE_SIGMA * n;
    return (inputs * (fresh + n / 2)) / this.scale + 2 ** -40 * maxAbs;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    // The context, encoder and evaluator are shared by every instance of these parameters.
    this.resetKeys();
  }
}

function checkBytes(bytes: unknown, what: string, max: number): asserts bytes is Uint8Array {
  if (!(bytes instanceof Uint8Array)) throw new ValidationError(undefined, `${what}: expected bytes`);
  if (bytes.length === 0) throw new ValidationError(undefined, `${what}: empty`);
  if (bytes.length > max) throw new ValidationError(undefined, `${what}: ${bytes.length} bytes exceed the ${max} a valid one can take`);
}
