import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ValidationError } from '../core/errors.js';
import { seededRng } from '../core/rng.js';
import { scalarWeightedSum, weightedAverage, type WeightedParams } from './aggregate.js';
import { SIMD_BLOCK, simdAvailable, simdWeightedSum } from './simd-weighted-sum.js';

const EPS32 = 2 ** -24;

/** Exact float64 reference Σ (w_k / W) p_k and the per-element magnitude Σ |w_k / W · p_k|. */
function reference(updates: readonly WeightedParams[]): { value: Float64Array; magnitude: Float64Array } {
  const n = updates[0]?.params.length ?? 0;
  const total = updates.reduce((s, u) => s + u.weight, 0);
  const value = new Float64Array(n);
  const magnitude = new Float64Array(n);
  for (const u of updates) {
    const c = u.weight / total;
    for (let i = 0; i < n; i++) {
      value[i] = (value[i] as number) + c * (u.params[i] as number);
      magnitude[i] = (magnitude[i] as number) + Math.abs(c * (u.params[i] as number));
    }
  }
  return { value, magnitude };
}

/** Updates that look like one FL round: a common model plus small participant-specific changes. */
function roundLike(count: number, n: number, seed: number): WeightedParams[] {
  const rng = seededRng(seed);
  const base = Float32Array.from({ length: n }, () => rng.normal());
  return Array.from({ length: count }, () => ({
    params: Float32Array.from(base, (b) => b + 0.05 * rng.normal()),
    weight: 1 + rng.int(500),
  }));
}

function maxRelError(got: Float32Array, want: Float64Array): number {
  let err = 0;
  let scale = 0;
  for (let i = 0; i < want.length; i++) {
    err = Math.max(err, Math.abs((got[i] as number) - (want[i] as number)));
    scale = Math.max(scale, Math.abs(want[i] as number));
  }
  return err / scale;
}

const KERNELS: readonly [string, (p: readonly Float32Array[], c: Float64Array, out: Float32Array) => void][] = [
  ['SIMD', (p, c, out) => assert.ok(simdWeightedSum(p, c, out))],
  ['scalar', scalarWeightedSum],
];

test('weightedAverage matches a hand-computed case: (1·[1,2,3] + 3·[5,6,7]) / 4 = [4,5,6]', () => {
  // Prepare
  const updates = [
    { params: Float32Array.of(1, 2, 3), weight: 1 },
    { params: Float32Array.of(5, 6, 7), weight: 3 },
  ];
  // Execute
  const avg = weightedAverage(updates);
  // Assert
  assert.deepEqual([...avg], [4, 5, 6]);
});

test('the WebAssembly SIMD kernel loads on this Node version, so its tests below exercise it', () => {
  assert.equal(simdAvailable(), true);
});

for (const [label, kernel] of KERNELS) {
  test(`${label} kernel: relative error vs a float64 reference is below 1e-6 for 37 round-like updates`, () => {
    // Prepare: a length that is neither a multiple of 4 nor of the block, a count not a multiple of 4.
    const n = SIMD_BLOCK * 2 + 13;
    const updates = roundLike(37, n, 7);
    const total = updates.reduce((s, u) => s + u.weight, 0);
    const coeffs = Float64Array.from(updates, (u) => u.weight / total);
    const out = new Float32Array(n);
    // Execute
    kernel(updates.map((u) => u.params), coeffs, out);
    // Assert
    assert.ok(maxRelError(out, reference(updates).value) < 1e-6);
  });

  test(`${label} kernel: each element is within 8 float32 ulps of Σ|c_k p_k| even under cancellation`, () => {
    // Prepare: signs alternate so that the sums nearly cancel.
    const rng = seededRng(3);
    const n = 3001;
    const updates = Array.from({ length: 10 }, (_, k) => ({
      params: Float32Array.from({ length: n }, () => (k % 2 === 0 ? 1 : -1) * (1 + rng.next())),
      weight: 1,
    }));
    const coeffs = new Float64Array(10).fill(0.1);
    const out = new Float32Array(n);
    // Execute
    kernel(updates.map((u) => u.params), coeffs, out);
    // Assert
    const { value, magnitude } = reference(updates);
    for (let i = 0; i < n; i++) {
      const bound = 8 * EPS32 * (magnitude[i] as number);
      assert.ok(Math.abs((out[i] as number) - (value[i] as number)) <= bound, `element ${i}`);
    }
  });
}

test('weightedAverage picks the SIMD path for long vectors and the result agrees with the scalar kernel', () => {
  // Prepare
  const updates = roundLike(6, 5000, 11);
  const total = updates.reduce((s, u) => s + u.weight, 0);
  const scalar = new Float32Array(5000);
  scalarWeightedSum(updates.map((u) => u.params), Float64Array.from(updates, (u) => u.weight / total), scalar);
  // Execute
  const avg = weightedAverage(updates);
  // Assert
  for (let i = 0; i < 5000; i++) assert.ok(Math.abs((avg[i] as number) - (scalar[i] as number)) <= 4 * EPS32 * 4);
});

test('weightedAverage with one non-zero weight returns that vector bit for bit', () => {
  // Prepare
  const p = Float32Array.of(0.1, -7.3, 1e-30);
  // Execute
  const avg = weightedAverage([{ params: p, weight: 5 }, { params: Float32Array.of(9, 9, 9), weight: 0 }]);
  // Assert
  assert.deepEqual(avg, p);
  assert.notEqual(avg, p);
});

test('zero-weight updates are skipped, so their NaNs do not reach the result', () => {
  const n = 4096;
  const good = roundLike(3, n, 5);
  const bad = { params: new Float32Array(n).fill(Number.NaN), weight: 0 };
  const avg = weightedAverage([...good, bad]);
  assert.ok(avg.every(Number.isFinite));
});

test('an infinite parameter gives ±Infinity, not NaN from the SIMD padding lanes (5 updates)', () => {
  // Prepare
  const n = 2048;
  const updates = roundLike(5, n, 9);
  const last = updates[4];
  assert.ok(last !== undefined);
  last.params[100] = Number.POSITIVE_INFINITY;
  // Execute
  const avg = weightedAverage(updates);
  // Assert
  assert.equal(avg[100], Number.POSITIVE_INFINITY);
  assert.ok(Number.isFinite(avg[101] as number));
});

test('out may be one of the inputs (both kernels read a block before writing it)', () => {
  for (const n of [100, 20000]) {
    // Prepare
    const updates = roundLike(5, n, 13);
    const want = reference(updates).value;
    const first = updates[0];
    assert.ok(first !== undefined);
    // Execute
    const avg = weightedAverage(updates, first.params);
    // Assert
    assert.equal(avg, first.params);
    assert.ok(maxRelError(avg, want) < 1e-6, `length ${n}`);
  }
});

test('weightedAverage rejects bad input with a ValidationError naming the argument', () => {
  const a = Float32Array.of(1, 2);
  assert.throws(() => weightedAverage([]), ValidationError);
  assert.throws(() => weightedAverage([{ params: a, weight: 1 }, { params: Float32Array.of(1), weight: 1 }]), /updates\[1\]\.params has length 1/);
  assert.throws(() => weightedAverage([{ params: a, weight: -1 }]), /updates\[0\]\.weight/);
  assert.throws(() => weightedAverage([{ params: a, weight: Number.NaN }]), /updates\[0\]\.weight/);
  assert.throws(() => weightedAverage([{ params: a, weight: 0 }]), /total weight/);
  assert.throws(() => weightedAverage([{ params: a, weight: 1 }], new Float32Array(3)), /out has length 3/);
});
