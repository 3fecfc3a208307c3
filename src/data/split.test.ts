import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ConfigError } from '../core/errors.js';
import { stratifiedSplit } from './split.js';

const labelsArb = fc.array(fc.integer({ min: -1, max: 4 }), { maxLength: 200 }).map((xs) => Int32Array.from(xs));
const fractionArb = fc.double({ min: 0, max: 1, noNaN: true });

function count(labels: Int32Array, rows: Uint32Array, k: number): number {
  let c = 0;
  for (const r of rows) if (labels[r] === k) c++;
  return c;
}

describe('stratifiedSplit', () => {
  it('gives disjoint, sorted sides that together cover every row once (property)', () => {
    fc.assert(
      fc.property(labelsArb, fractionArb, fc.integer(), (labels, f, seed) => {
        const { train, test } = stratifiedSplit(labels, f, seed);
        const all = [...train, ...test].sort((a, b) => a - b);
        assert.deepEqual(all, Array.from({ length: labels.length }, (_, i) => i));
        assert.deepEqual([...train], [...train].sort((a, b) => a - b));
        assert.deepEqual([...test], [...test].sort((a, b) => a - b));
      }),
      { numRuns: 200 },
    );
  });

  it('puts within one row of testFraction of every class in the test side (property)', () => {
    fc.assert(
      fc.property(labelsArb, fractionArb, fc.integer(), (labels, f, seed) => {
        const { test } = stratifiedSplit(labels, f, seed);
        for (const k of new Set(labels)) {
          const total = labels.filter((l) => l === k).length;
          assert.ok(Math.abs(count(labels, test, k) - f * total) <= 1, `class ${k}`);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('is deterministic per seed and differs between seeds', () => {
    const labels = Int32Array.from({ length: 100 }, (_, i) => i % 3);
    assert.deepEqual(stratifiedSplit(labels, 0.3, 7), stratifiedSplit(labels, 0.3, 7));
    assert.notDeepEqual(stratifiedSplit(labels, 0.3, 7).test, stratifiedSplit(labels, 0.3, 8).test);
  });

  it('handles the extremes 0 and 1 and an empty label array', () => {
    const labels = Int32Array.from([0, 1, 0, 1]);
    assert.deepEqual([...stratifiedSplit(labels, 0, 1).train], [0, 1, 2, 3]);
    assert.deepEqual([...stratifiedSplit(labels, 1, 1).test], [0, 1, 2, 3]);
    assert.equal(stratifiedSplit(new Int32Array(0), 0.5, 1).train.length, 0);
  });

  it('rejects a fraction outside [0, 1] or a non-integer seed, naming the argument', () => {
    for (const bad of [-0.1, 1.5, Number.NaN]) {
      assert.throws(() => stratifiedSplit(new Int32Array(1), bad, 1), (err: unknown) => err instanceof ConfigError && err.field === 'testFraction');
    }
    assert.throws(() => stratifiedSplit(new Int32Array(1), 0.5, 1.5), (err: unknown) => err instanceof ConfigError && err.field === 'seed');
  });
});
