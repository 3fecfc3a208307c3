/**
 * A compact hash set of 128-bit fingerprints (truncated group elements), numbered in insertion
 * order: the memory-bounded index PSI needs for millions of identifiers. No object per entry —
 * 16 bytes of key plus about 5.3 bytes of open-addressing slot per entry (load factor ≤ 0.75),
 * so 10 million fingerprints take about 213 MB.
 *
 * Fingerprints are outputs of a random-looking function (blinded group elements), so their first
 * 32 bits serve as the hash directly; equal fingerprints mean equal elements except with
 * probability about n² / 2¹²⁹.
 */
import { EduFedError } from '../../../core/errors.js';

/** Bytes of a fingerprint. */
export const FINGERPRINT_BYTES = 16;
const WORDS = FINGERPRINT_BYTES / 4;
const MAX_LOAD = 0.75;

function word(b: Uint8Array, o: number): number {
  return ((b[o] as number) | ((b[o + 1] as number) << 8) | ((b[o + 2] as number) << 16) | ((b[o + 3] as number) << 24)) >>> 0;
}

/** Insertion-ordered set of 16-byte fingerprints with a fixed capacity. */
export class FingerprintSet {
  private readonly keys: Uint32Array;
  private readonly slots: Uint32Array;
  private count = 0;

  /** @throws EduFedError (INTERNAL) for a capacity that is not a non-negative safe array size. */
  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 0 || capacity > 0x3fffffff) {
      throw new EduFedError('INTERNAL', `FingerprintSet: capacity ${capacity} is not an integer in 0 … 2³⁰`);
    }
    this.keys = new Uint32Array(capacity * WORDS);
    this.slots = new Uint32Array(Math.max(2, Math.ceil(capacity / MAX_LOAD) + 1));
  }

  /** Number of fingerprints held. */
  get size(): number {
    return this.count;
  }

  /** Bytes this set allocated. */
  get byteLength(): number {
    return this.keys.byteLength + this.slots.byteLength;
  }

  private home(w0: number): number {
    return Math.min(this.slots.length - 1, Math.floor((w0 / 4294967296) * this.slots.length));
  }

  private equalAt(index: number, w0: number, w1: number, w2: number, w3: number): boolean {
    const k = index * WORDS;
    return this.keys[k] === w0 && this.keys[k + 1] === w1 && this.keys[k + 2] === w2 && this.keys[k + 3] === w3;
  }

  /**
   * Adds the fingerprint `bytes[offset, offset + 16)` unless present.
   * @returns the index of the equal fingerprint already held, or −1 when it was added (its index is `size − 1`).
   * @throws EduFedError (INTERNAL) when the set is full.
   */
  add(bytes: Uint8Array, offset = 0): number {
    const w0 = word(bytes, offset);
    const w1 = word(bytes, offset + 4);
    const w2 = word(bytes, offset + 8);
    const w3 = word(bytes, offset + 12);
    const found = this.probe(w0, w1, w2, w3);
    if (found >= 0) return found;
    const s = -1 - found;
    if (this.count >= this.capacity) throw new EduFedError('INTERNAL', `FingerprintSet: capacity of ${this.capacity} exceeded`);
    const index = this.count++;
    const k = index * WORDS;
    this.keys[k] = w0;
    this.keys[k + 1] = w1;
    this.keys[k + 2] = w2;
    this.keys[k + 3] = w3;
    this.slots[s] = index + 1;
    return -1;
  }

  /** The index of fingerprint `bytes[offset, offset + 16)`, or −1 when absent. */
  indexOf(bytes: Uint8Array, offset = 0): number {
    const w0 = word(bytes, offset);
    const w1 = word(bytes, offset + 4);
    const w2 = word(bytes, offset + 8);
    const w3 = word(bytes, offset + 12);
    const found = this.probe(w0, w1, w2, w3);
    return found >= 0 ? found : -1;
  }

  /**
   * Linear probing from the fingerprint's home slot: the index of the equal fingerprint held, or
   * −1 − s for the empty slot s where it would go (one encoding, so lookups allocate nothing).
   */
  private probe(w0: number, w1: number, w2: number, w3: number): number {
    const n = this.slots.length;
    let s = this.home(w0);
    for (;;) {
      const v = this.slots[s] as number;
      if (v === 0) return -1 - s;
      if (this.equalAt(v - 1, w0, w1, w2, w3)) return v - 1;
      if (++s === n) s = 0;
    }
  }

  /** Orders two held fingerprints by their bytes read as little-endian words (a fixed total order). */
  compare(i: number, j: number): number {
    const a = i * WORDS;
    const b = j * WORDS;
    for (let w = WORDS - 1; w >= 0; w--) {
      const x = this.keys[a + w] as number;
      const y = this.keys[b + w] as number;
      if (x !== y) return x < y ? -1 : 1;
    }
    return 0;
  }

  /** The fingerprint at `index`, as 16 bytes. */
  keyAt(index: number): Uint8Array {
    const out = new Uint8Array(FINGERPRINT_BYTES);
    for (let w = 0; w < WORDS; w++) {
      const v = this.keys[index * WORDS + w] as number;
      out[w * 4] = v & 0xff;
      out[w * 4 + 1] = (v >>> 8) & 0xff;
      out[w * 4 + 2] = (v >>> 16) & 0xff;
      out[w * 4 + 3] = v >>> 24;
    }
    return out;
  }
}
