/**
 * Little-endian byte forms of the typed arrays that vertical messages seal: ring vectors
 * (`Uint32Array` words) and float64 values. On little-endian hosts (all common ones) these are
 * plain copies; a big-endian host swaps bytes, so both ends always agree on the wire form.
 */
import { endianness } from 'node:os';
import { ValidationError } from '../../core/errors.js';

const LITTLE_ENDIAN_HOST = endianness() === 'LE';

/** The little-endian bytes of 32-bit words: a view of the same memory on little-endian hosts, else a copy. */
export function wordsToBytes(words: Uint32Array): Uint8Array {
  if (LITTLE_ENDIAN_HOST) return new Uint8Array(words.buffer, words.byteOffset, words.byteLength);
  const out = new Uint8Array(words.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < words.length; i++) view.setUint32(i * 4, words[i]!, true);
  return out;
}

/**
 * 32-bit words from little-endian bytes: a view of the same memory when the host is
 * little-endian and the bytes are 4-byte aligned, else a copy.
 * @throws {ValidationError} naming `what` when the length is not a multiple of 4.
 */
export function bytesToWords(bytes: Uint8Array, what = 'ring vector'): Uint32Array {
  if (bytes.length % 4 !== 0) throw new ValidationError(undefined, `${what}: ${bytes.length} bytes is not a whole number of 32-bit words`);
  if (LITTLE_ENDIAN_HOST && bytes.byteOffset % 4 === 0) return new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
  const out = new Uint32Array(bytes.length / 4);
  if (LITTLE_ENDIAN_HOST) {
    new Uint8Array(out.buffer).set(bytes);
    return out;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = view.getUint32(i * 4, true);
  return out;
}

/** The little-endian IEEE 754 bytes of float64 values (a copy). */
export function float64ToBytes(values: Float64Array): Uint8Array {
  const out = new Uint8Array(values.length * 8);
  if (LITTLE_ENDIAN_HOST) {
    out.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
    return out;
  }
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat64(i * 8, values[i]!, true);
  return out;
}

/**
 * Float64 values from little-endian bytes (a copy).
 * @throws {ValidationError} naming `what` when the length is not a multiple of 8.
 */
export function bytesToFloat64(bytes: Uint8Array, what = 'float64 vector'): Float64Array {
  if (bytes.length % 8 !== 0) throw new ValidationError(undefined, `${what}: ${bytes.length} bytes is not a whole number of float64 values`);
  const out = new Float64Array(bytes.length / 8);
  if (LITTLE_ENDIAN_HOST) {
    new Uint8Array(out.buffer).set(bytes);
    return out;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat64(i * 8, true);
  return out;
}
