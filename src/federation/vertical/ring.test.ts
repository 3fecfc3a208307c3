import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ValidationError } from '../../core/errors.js';
import {
  decodeFixed,
  encodeFixed,
  productCapacity,
  ringAdd,
  ringElement,
  ringFromBigInts,
  ringNeg,
  ringRandom,
  ringSub,
} from './ring.js';
import { RingMatrix } from './ring-kernel.js';

const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });

test('ringAdd and ringSub agree with BigInt arithmetic modulo 2^64, carries and borrows included', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(u64, u64), { minLength: 1, maxLength: 20 }), (pairs) => {
      // Prepare
      const a = ringFromBigInts(pairs.map(([x]) => x));
      const b = ringFromBigInts(pairs.map(([, y]) => y));
      // Execute
      const sum = ringAdd(a, b);
      const diff = ringSub(a, b);
      // Assert
      pairs.forEach(([x, y], i) => {
        assert.equal(ringElement(sum, i), BigInt.asUintN(64, x + y));
        assert.equal(ringElement(diff, i), BigInt.asUintN(64, x - y));
      });
      assert.deepEqual(ringAdd(diff, b), a);
      assert.deepEqual(ringAdd(a, ringNeg(a)), new Uint32Array(a.length));
    }),
  );
});

test('fixed-point encoding decodes within half a step, and negative values are two’s complement', () => {
  fc.assert(
    fc.property(fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 30 }), fc.integer({ min: 1, max: 24 }), (values, f) => {
      const enc = encodeFixed(Float64Array.from(values), f);
      const dec = decodeFixed(enc, f);
      values.forEach((v, i) => {
        assert.ok(Math.abs(dec[i]! - v) <= 2 ** -(f + 1) * (1 + 1e-12), `${v} decoded as ${dec[i]}`);
        assert.equal(ringElement(enc, i), BigInt.asUintN(64, BigInt(Math.round(v * 2 ** f))));
      });
    }),
  );
});

test('the encoding is additively homomorphic: decode(enc(a) + enc(b)) = a + b within one step', () => {
  fc.assert(
    fc.property(fc.double({ min: -1e5, max: 1e5, noNaN: true }), fc.double({ min: -1e5, max: 1e5, noNaN: true }), (a, b) => {
      const f = 20;
      const sum = decodeFixed(ringAdd(encodeFixed(Float64Array.of(a), f), encodeFixed(Float64Array.of(b), f)), f)[0]!;
      assert.ok(Math.abs(sum - (a + b)) <= 2 ** -f);
    }),
  );
});

test('a product of two encodings decodes with 2f bits to the product, within the rounding of both factors', () => {
  fc.assert(
    fc.property(fc.double({ min: -100, max: 100, noNaN: true }), fc.double({ min: -1, max: 1, noNaN: true }), (x, d) => {
      // Prepare: a 1 × 1 ring matrix holding enc(x).
      const f = 20;
      const m = new RingMatrix(1, 1, 1);
      m.words.set(encodeFixed(Float64Array.of(x), f));
      // Execute
      const product = decodeFixed(m.gatherMulT([0], encodeFixed(Float64Array.of(d), f)), 2 * f)[0]!;
      // Assert: |x·δd| + |d·δx| + |δx·δd| with |δ| ≤ 2^−(f+1).
      const step = 2 ** -(f + 1);
      assert.ok(Math.abs(product - x * d) <= (Math.abs(x) + Math.abs(d) + step) * step * (1 + 1e-9), `${product} vs ${x * d}`);
    }),
  );
});

test('encodeFixed rejects non-finite values and values beyond ±2^(53−f), naming what and where', () => {
  for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, 2 ** 40]) {
    assert.throws(() => encodeFixed(Float64Array.of(0, bad), 20, undefined, 'feature'), (e: unknown) => e instanceof ValidationError && /feature 1/.test(e.message));
  }
  assert.throws(() => encodeFixed(Float64Array.of(1), 31), ValidationError);
  assert.equal(productCapacity(20), 2 ** 23);
});

test('ringRandom is a deterministic expansion of its seed, and different seeds give different elements', () => {
  const seed = new Uint8Array(32).fill(7);
  const other = new Uint8Array(32).fill(8);
  assert.deepEqual(ringRandom(seed, 100), ringRandom(seed, 100));
  assert.deepEqual(ringRandom(seed, 10), ringRandom(seed, 100).subarray(0, 20));
  assert.notDeepEqual(ringRandom(seed, 4), ringRandom(other, 4));
});
