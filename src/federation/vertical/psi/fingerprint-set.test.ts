import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { EduFedError } from '../../../core/errors.js';
import { FINGERPRINT_BYTES, FingerprintSet } from './fingerprint-set.js';

const hexOf = (b: Uint8Array, o: number): string => Buffer.from(b.subarray(o, o + FINGERPRINT_BYTES)).toString('hex');
const leValue = (b: Uint8Array): bigint => BigInt('0x' + Buffer.from(b).reverse().toString('hex'));

test('add and indexOf agree with a Map on random fingerprints with repeats', () => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ minLength: 16, maxLength: 16 }), { maxLength: 60 }), fc.array(fc.nat(59), { maxLength: 60 }), (distinct, repeats) => {
      // Prepare: a stream of fingerprints in which some appear several times.
      const stream = [...distinct, ...repeats.filter((r) => r < distinct.length).map((r) => distinct[r] as Uint8Array)];
      const set = new FingerprintSet(stream.length);
      const reference = new Map<string, number>();
      for (const fp of stream) {
        // Execute
        const existing = set.add(fp);
        // Assert
        const key = hexOf(fp, 0);
        assert.equal(existing, reference.get(key) ?? -1);
        if (!reference.has(key)) reference.set(key, reference.size);
      }
      assert.equal(set.size, reference.size);
      for (const [key, index] of reference) assert.equal(set.indexOf(new Uint8Array(Buffer.from(key, 'hex'))), index);
    }),
    { numRuns: 200 },
  );
});

test('a fingerprint never added is absent, and keyAt returns what was added at an offset', () => {
  const host = new Uint8Array(40).map((_, i) => i * 7);
  const set = new FingerprintSet(4);
  assert.equal(set.add(host, 3), -1);
  assert.deepEqual(set.keyAt(0), host.subarray(3, 19));
  assert.equal(set.indexOf(host, 4), -1);
  assert.equal(set.indexOf(host, 3), 0);
});

test('compare orders fingerprints as little-endian 128-bit numbers', () => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ minLength: 16, maxLength: 16 }), { minLength: 2, maxLength: 30 }), (fps) => {
      const set = new FingerprintSet(fps.length);
      const kept = fps.filter((fp) => set.add(fp) === -1);
      const byCompare = Array.from({ length: set.size }, (_, i) => i).sort((i, j) => set.compare(i, j));
      const byValue = Array.from({ length: kept.length }, (_, i) => i).sort((i, j) => (leValue(kept[i] as Uint8Array) < leValue(kept[j] as Uint8Array) ? -1 : 1));
      assert.deepEqual(byCompare, byValue);
    }),
    { numRuns: 100 },
  );
});

test('adding past the capacity throws, re-adding a held fingerprint does not', () => {
  const set = new FingerprintSet(1);
  const a = new Uint8Array(16).fill(1);
  set.add(a);
  assert.equal(set.add(a), 0);
  assert.throws(() => set.add(new Uint8Array(16).fill(2)), EduFedError);
  assert.throws(() => new FingerprintSet(-1), EduFedError);
});

test('an empty set holds nothing and takes almost no memory', () => {
  const set = new FingerprintSet(0);
  assert.equal(set.indexOf(new Uint8Array(16)), -1);
  assert.ok(set.byteLength <= 8);
});
