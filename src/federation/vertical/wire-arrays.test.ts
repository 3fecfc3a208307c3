import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ValidationError } from '../../core/errors.js';
import { bytesToFloat64, bytesToWords, float64ToBytes, wordsToBytes } from './wire-arrays.js';

test('ring words and float64 values survive the trip through little-endian bytes, even from unaligned buffers', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 0xffffffff })), fc.array(fc.double()), (words, values) => {
      const w = Uint32Array.from(words);
      assert.deepEqual(bytesToWords(wordsToBytes(w)), w);
      const shifted = new Uint8Array(w.length * 4 + 1).subarray(1);
      shifted.set(wordsToBytes(w));
      assert.deepEqual(bytesToWords(shifted), w);
      const f = Float64Array.from(values);
      assert.deepEqual(bytesToFloat64(float64ToBytes(f)), f);
    }),
  );
  assert.deepEqual([...wordsToBytes(Uint32Array.of(0x04030201))], [1, 2, 3, 4]);
});

test('byte lengths that are not whole elements are refused', () => {
  assert.throws(() => bytesToWords(new Uint8Array(3)), ValidationError);
  assert.throws(() => bytesToFloat64(new Uint8Array(12)), ValidationError);
});
