/**
 * Hashing identifiers into the ristretto255 group: `expand_message_xmd` with SHA-512 (RFC 9380
 * §5.3.1) feeding the ristretto255 one-way map (RFC 9496 §4.3.4), i.e. `hash_to_ristretto255` of
 * RFC 9380 Appendix B. SHA-512 comes from `node:crypto`; the map from libsodium
 * (`crypto_core_ristretto255_from_hash`, which implements exactly the RFC 9496 element derivation
 * from 64 uniform bytes).
 *
 * libsodium is WebAssembly and must be loaded once per thread: call {@link loadSodium} (or
 * `loadPsiGroup`) and await it before any function here that takes a `Sodium`.
 */
import { hash } from 'node:crypto';
import sodium from 'libsodium-wrappers-sumo';
import { ConfigError } from '../../../core/errors.js';

/** The loaded libsodium API. */
export type Sodium = typeof sodium;

/** SHA-512 output size b_in_bytes (RFC 9380 §5.3.1). */
const B_IN_BYTES = 64;
/** SHA-512 input block size s_in_bytes. */
const S_IN_BYTES = 128;
/** Bytes of uniform input the ristretto255 one-way map takes (RFC 9496 §4.3.4). */
export const RISTRETTO_HASH_BYTES = 64;
/** Bytes of a ristretto255 encoding. */
export const RISTRETTO_BYTES = 32;

/**
 * The domain separation tag of EduFed's PSI hash, in the format RFC 9380 §3.1 recommends
 * (application, version, ciphersuite id of Appendix B's `hash_to_ristretto255`).
 */
export const PSI_DST = 'EDUFED-PSI-V01-CS01-with-ristretto255_XMD:SHA-512_R255MAP_RO_';

let loading: Promise<Sodium> | undefined;

/** Loads libsodium's WebAssembly in this thread (once) and resolves with its API. */
export function loadSodium(): Promise<Sodium> {
  loading ??= sodium.ready.then(() => sodium);
  return loading;
}

/**
 * `expand_message_xmd` with SHA-512 (RFC 9380 §5.3.1): `lenInBytes` uniform bytes from `msg`
 * under the domain separation tag `dst`.
 * @throws ConfigError when `dst` is empty or longer than 255 bytes, or `lenInBytes` is not in
 *   1 … min(255·64, 65535).
 */
export function expandMessageXmd(msg: Uint8Array, dst: Uint8Array | string, lenInBytes: number): Uint8Array {
  const tag = typeof dst === 'string' ? Buffer.from(dst, 'utf8') : dst;
  if (tag.length === 0 || tag.length > 255) throw new ConfigError('dst', `expand_message_xmd: DST must be 1 to 255 bytes, got ${tag.length}`);
  const ell = Math.ceil(lenInBytes / B_IN_BYTES);
  if (!Number.isInteger(lenInBytes) || lenInBytes < 1 || ell > 255 || lenInBytes > 65535) {
    throw new ConfigError('lenInBytes', `expand_message_xmd: ${lenInBytes} is not in 1 … ${255 * B_IN_BYTES}`);
  }
  const dstPrime = Buffer.concat([tag, Buffer.from([tag.length])]);
  // b_0 = H(Z_pad ‖ msg ‖ I2OSP(len_in_bytes, 2) ‖ I2OSP(0, 1) ‖ DST_prime)
  const first = Buffer.alloc(S_IN_BYTES + msg.length + 3 + dstPrime.length);
  first.set(msg, S_IN_BYTES);
  first.writeUInt16BE(lenInBytes, S_IN_BYTES + msg.length);
  first.set(dstPrime, S_IN_BYTES + msg.length + 3);
  const b0 = hash('sha512', first, 'buffer');
  const out = new Uint8Array(ell * B_IN_BYTES);
  // b_i = H(strxor(b_0, b_{i-1}) ‖ I2OSP(i, 1) ‖ DST_prime), with b_1 = H(b_0 ‖ 1 ‖ DST_prime).
  const next = Buffer.alloc(B_IN_BYTES + 1 + dstPrime.length);
  next.set(dstPrime, B_IN_BYTES + 1);
  let prev: Uint8Array = new Uint8Array(B_IN_BYTES);
  for (let i = 1; i <= ell; i++) {
    for (let k = 0; k < B_IN_BYTES; k++) next[k] = (b0[k] as number) ^ (prev[k] as number);
    next[B_IN_BYTES] = i;
    const bi = hash('sha512', next, 'buffer');
    prev = new Uint8Array(bi.buffer, bi.byteOffset, bi.length);
    out.set(prev, (i - 1) * B_IN_BYTES);
  }
  return lenInBytes === out.length ? out : out.slice(0, lenInBytes);
}

/**
 * A precomputed `expand_message_xmd`-SHA-512 for 64-byte outputs under one DST: the hot path of
 * hashing millions of identifiers, with its scratch buffers reused between calls (so it is not
 * re-entrant; one instance per thread).
 */
export class Xmd64 {
  private readonly dstPrime: Buffer;
  private first: Buffer;
  private readonly second: Buffer;

  /** @throws ConfigError when `dst` is empty or longer than 255 bytes. */
  constructor(dst: Uint8Array | string) {
    const tag = typeof dst === 'string' ? Buffer.from(dst, 'utf8') : Buffer.from(dst);
    if (tag.length === 0 || tag.length > 255) throw new ConfigError('dst', `expand_message_xmd: DST must be 1 to 255 bytes, got ${tag.length}`);
    this.dstPrime = Buffer.concat([tag, Buffer.from([tag.length])]);
    this.first = Buffer.alloc(S_IN_BYTES + 256 + 3 + this.dstPrime.length);
    this.second = Buffer.alloc(B_IN_BYTES + 1 + this.dstPrime.length);
    this.second[B_IN_BYTES] = 1;
    this.second.set(this.dstPrime, B_IN_BYTES + 1);
  }

  /** `expand_message_xmd(msg, DST, 64)`; `msg` is `bytes[start, end)`. */
  expand(bytes: Uint8Array, start = 0, end = bytes.length): Uint8Array {
    const len = end - start;
    const need = S_IN_BYTES + len + 3 + this.dstPrime.length;
    if (need > this.first.length) this.first = Buffer.alloc(need * 2);
    const first = this.first;
    first.set(bytes.subarray(start, end), S_IN_BYTES);
    let o = S_IN_BYTES + len;
    first[o++] = 0;
    first[o++] = RISTRETTO_HASH_BYTES;
    first[o++] = 0;
    first.set(this.dstPrime, o);
    const b0 = hash('sha512', first.subarray(0, need), 'buffer');
    // 64 bytes is one SHA-512 output (ell = 1): b_1 = H(b_0 ‖ I2OSP(1, 1) ‖ DST_prime) is all of it.
    this.second.set(b0, 0);
    const b1 = hash('sha512', this.second, 'buffer');
    return new Uint8Array(b1.buffer, b1.byteOffset, b1.length);
  }
}

/**
 * `hash_to_ristretto255(msg)` (RFC 9380 Appendix B): the ristretto255 encoding of the RFC 9496
 * §4.3.4 one-way map of `expand_message_xmd(msg, DST, 64)`.
 * @throws ConfigError for an invalid DST.
 */
export function hashToRistretto255(na: Sodium, msg: Uint8Array, dst: Uint8Array | string = PSI_DST): Uint8Array {
  return na.crypto_core_ristretto255_from_hash(expandMessageXmd(msg, dst, RISTRETTO_HASH_BYTES));
}
