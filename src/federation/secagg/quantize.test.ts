import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ConfigError, ValidationError } from '../../core/errors.js';
import { seededRng } from '../../core/rng.js';
import {
  checkRingCapacity,
  decodeWeightedSum,
  dequantizeSum,
  quantizationLevels,
  quantize,
  quantizeWeightedDelta,
  ringAdd,
  updateWeight,
} from './quantize.js';

test('stochastic rounding is unbiased: the mean of many encodings of v decodes to v within 6 standard errors (coarse 4-bit grid)', () => {
  fc.assert(
    fc.property(fc.double({ min: -1, max: 1, noNaN: true }), fc.integer({ min: 1, max: 2 ** 31 }), (v, seed) => {
      // Prepare: a coarse grid, where round-to-nearest would be off by up to half a step (1/15).
      const grid = { lo: -1, hi: 1, bits: 4 };
      const step = 2 / quantizationLevels(4);
      const n = 4000;
      const rng = seededRng(seed);
      // Execute: the ring sum of n independent encodings of the same value.
      const sum = new Uint32Array(1);
      for (let i = 0; i < n; i++) ringAdd(sum, quantize([v], grid, rng));
      const mean = (dequantizeSum(sum, n, grid)[0] as number) / n;
      // Assert: each encoding's error has variance ≤ step²/4.
      assert.ok(Math.abs(mean - v) <= (6 * step) / (2 * Math.sqrt(n)), `mean ${mean} vs ${v}`);
    }),
    { numRuns: 25 },
  );
});

test('each code is the floor or the ceiling of the exact grid position, so one value decodes within one step, and the grid ends map to 0 and 2^bits − 1', () => {
  fc.assert(
    fc.property(
      fc.array(fc.double({ min: -20, max: 20, noNaN: true }), { minLength: 1, maxLength: 40 }),
      fc.integer({ min: 1, max: 24 }),
      fc.double({ min: 0.01, max: 10, noNaN: true }),
      fc.nat(),
      (values, bits, c, seed) => {
        const grid = { lo: -c, hi: c, bits };
        const levels = quantizationLevels(bits);
        const step = (2 * c) / levels;
        const codes = quantize(values, grid, seededRng(seed));
        values.forEach((v, i) => {
          const clipped = Math.min(c, Math.max(-c, v));
          const exact = ((clipped + c) / (2 * c)) * levels;
          const code = codes[i] as number;
          assert.ok(code === Math.floor(exact) || code === Math.ceil(exact) || (code === levels && exact > levels - 1e-6), `code ${code} for ${exact}`);
          const decoded = dequantizeSum(Uint32Array.of(code), 1, grid)[0] as number;
          assert.ok(Math.abs(decoded - clipped) <= step * (1 + 1e-9), `decoded ${decoded} vs clipped ${clipped}`);
        });
        assert.deepEqual([...quantize([-c, c, -1e9, 1e9], grid, seededRng(seed))], [0, levels, 0, levels]);
      },
    ),
    { numRuns: 100 },
  );
});

test('the decoded ring sum of n inputs is within n steps of the sum of the clipped values', () => {
  fc.assert(
    fc.property(
      fc.array(fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: 5, maxLength: 5 }), { minLength: 1, maxLength: 30 }),
      fc.nat(),
      (inputs, seed) => {
        const grid = { lo: -2, hi: 2, bits: 22 };
        const step = 4 / quantizationLevels(22);
        const rng = seededRng(seed);
        const sum = new Uint32Array(5);
        for (const x of inputs) ringAdd(sum, quantize(x, grid, rng));
        const decoded = dequantizeSum(sum, inputs.length, grid);
        for (let i = 0; i < 5; i++) {
          const exact = inputs.reduce((s, x) => s + Math.min(2, Math.max(-2, x[i] as number)), 0);
          assert.ok(Math.abs((decoded[i] as number) - exact) <= inputs.length * step, `element ${i}: ${decoded[i]} vs ${exact}`);
        }
      },
    ),
    { numRuns: 50 },
  );
});

test('the ring capacity guard allows exactly n · (2^bits − 1) < 2^32, and the sum really wraps one participant beyond it', () => {
  // Prepare / Execute / Assert: 1024 · (2^22 − 1) < 2^32 ≤ 1025 · (2^22 − 1).
  assert.doesNotThrow(() => checkRingCapacity(1024, 22));
  assert.throws(() => checkRingCapacity(1025, 22), (e: unknown) => e instanceof ConfigError && e.field === 'quantizationBits' && /at most 21 bits/.test(e.message));
  assert.doesNotThrow(() => checkRingCapacity(1, 32));
  assert.throws(() => checkRingCapacity(2, 32), ConfigError);
  assert.throws(() => dequantizeSum(new Uint32Array(1), 1025, { lo: 0, hi: 1, bits: 22 }), ConfigError);
  // Why the guard exists: 1025 top codes wrap to a small number.
  const sum = new Uint32Array(1);
  for (let i = 0; i < 1025; i++) ringAdd(sum, Uint32Array.of(quantizationLevels(22)));
  assert.notEqual(sum[0], 1025 * quantizationLevels(22));
});

test('invalid grids, bits and values are refused with typed errors naming the field', () => {
  const rng = seededRng(1);
  assert.throws(() => quantize([0], { lo: 1, hi: 1, bits: 8 }, rng), (e: unknown) => e instanceof ConfigError && e.field === 'grid');
  assert.throws(() => quantize([0], { lo: 0, hi: 1, bits: 33 }, rng), (e: unknown) => e instanceof ConfigError && e.field === 'quantizationBits');
  assert.throws(() => quantize([0, NaN], { lo: 0, hi: 1, bits: 8 }, rng), (e: unknown) => e instanceof ValidationError && /value 1 is NaN/.test(e.message));
  assert.throws(() => quantize([0, 1], { lo: 0, hi: 1, bits: 8 }, rng, new Uint32Array(2), 1), (e: unknown) => e instanceof ConfigError && e.field === 'out');
  assert.throws(() => ringAdd(new Uint32Array(2), new Uint32Array(3)), ConfigError);
});

test('update weights: examples capped at maxWeight and scaled to (0, 1], uniform is 1, and a zero example count is refused', () => {
  assert.equal(updateWeight(250, 'examples', 1000), 0.25);
  assert.equal(updateWeight(5000, 'examples', 1000), 1);
  assert.equal(updateWeight(0, 'uniform', 1000), 1);
  assert.throws(() => updateWeight(0, 'examples', 1000), ValidationError);
  assert.throws(() => updateWeight(3.5, 'examples', 1000), ValidationError);
  assert.throws(() => updateWeight(3, 'examples', 0), ConfigError);
});

test('the SecAgg+ input vector decodes to Σ w and Σ w·clip(Δ) of several updates within quantisation error', () => {
  // Prepare
  const global = Float32Array.from([0.5, -1, 2, 0]);
  const updates = [
    { params: Float32Array.from([0.7, -1.2, 2.1, 9]), w: 0.3 },
    { params: Float32Array.from([0.4, -0.5, 1.0, -9]), w: 1 },
    { params: Float32Array.from([0.5, -1, 2, 0.25]), w: 0.05 },
  ];
  const clip = 1;
  const bits = 20;
  const rng = seededRng(7);
  // Execute
  const sum = new Uint32Array(5);
  for (const u of updates) ringAdd(sum, quantizeWeightedDelta(global, u.params, u.w, clip, bits, rng));
  const { weightSum, weightedDeltaSum } = decodeWeightedSum(sum, updates.length, clip, bits);
  // Assert: each input carries ≤ one step of rounding on w (scaled by |Δ| ≤ clip) and one on w·Δ.
  const step = 1 / quantizationLevels(bits);
  assert.ok(Math.abs(weightSum - 1.35) <= 3 * step);
  for (let i = 0; i < 4; i++) {
    const exact = updates.reduce((s, u) => s + u.w * Math.max(-clip, Math.min(clip, (u.params[i] as number) - (global[i] as number))), 0);
    assert.ok(Math.abs((weightedDeltaSum[i] as number) - exact) <= 3 * (step * clip + 2 * clip * step), `element ${i}: ${weightedDeltaSum[i]} vs ${exact}`);
  }
  assert.throws(() => quantizeWeightedDelta(global, Float32Array.from([1, NaN, 0, 0]), 1, clip, bits, rng), (e: unknown) => e instanceof ValidationError && /parameter 1/.test(e.message));
  assert.throws(() => quantizeWeightedDelta(global, new Float32Array(3), 1, clip, bits, rng), (e: unknown) => e instanceof ConfigError && e.field === 'params');
});
