import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { seededRng } from '../core/rng.js';
import { sampleSize, sampleWithoutReplacement } from './sample-participants.js';

test('sampleSize is max(⌈C·K⌉, minFit, 1) capped at K, as in FedAvg Algorithm 1', () => {
  assert.equal(sampleSize(100, 0.1, 1), 10);
  assert.equal(sampleSize(15, 0.1, 1), 2); // ⌈1.5⌉
  assert.equal(sampleSize(100, 0, 1), 1); // C = 0: one client per round
  assert.equal(sampleSize(100, 0.1, 25), 25); // minFit floor
  assert.equal(sampleSize(3, 0.5, 10), 3); // capped at K
  assert.equal(sampleSize(0, 1, 1), 0);
});

test('sampleSize is not pushed up by binary rounding of C·K (0.07 · 100 = 7.000000000000001)', () => {
  assert.ok(0.07 * 100 > 7);
  assert.equal(sampleSize(100, 0.07, 1), 7);
});

test('sampleWithoutReplacement returns m distinct items of the input, reproducibly for a seed', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 0, max: 40 }), fc.integer(), (k, m, seed) => {
      const items = Array.from({ length: k }, (_, i) => `p${i}`);
      const a = sampleWithoutReplacement(items, m, seededRng(seed));
      const b = sampleWithoutReplacement(items, m, seededRng(seed));
      assert.deepEqual(a, b);
      assert.equal(a.length, Math.min(m, k));
      assert.equal(new Set(a).size, a.length);
      for (const x of a) assert.ok(items.includes(x));
    }),
  );
});

test('sampleWithoutReplacement is uniform: each of 10 items is picked in 30% ± 1.5% of 20 000 draws of 3', () => {
  // Prepare
  const items = Array.from({ length: 10 }, (_, i) => i);
  const counts = new Array<number>(10).fill(0);
  const rng = seededRng(42);
  const draws = 20000;
  // Execute
  for (let t = 0; t < draws; t++) for (const i of sampleWithoutReplacement(items, 3, rng)) counts[i] = (counts[i] as number) + 1;
  // Assert: binomial sd is √(0.3·0.7/20000) ≈ 0.32%, so ±1.5% is a 4.6σ band.
  for (const c of counts) assert.ok(Math.abs(c / draws - 0.3) < 0.015, `frequency ${c / draws}`);
});

test('with m ≥ K every item is returned in input order and the generator is not advanced', () => {
  const rng = seededRng(5);
  const twin = seededRng(5);
  assert.deepEqual(sampleWithoutReplacement(['a', 'b', 'c'], 3, rng), ['a', 'b', 'c']);
  assert.equal(rng.nextU32(), twin.nextU32());
});
