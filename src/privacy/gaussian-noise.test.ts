import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../core/errors.js';
import { seededRng, type Rng } from '../core/rng.js';
import { addGaussianNoise, gaussianNoise } from './gaussian-noise.js';

/** A generator that fails the test if anything draws from it. */
const untouchable: Rng = {
  next: () => assert.fail('drew from the generator'),
  nextU32: () => assert.fail('drew from the generator'),
  int: () => assert.fail('drew from the generator'),
  normal: () => assert.fail('drew from the generator'),
  fork: () => assert.fail('forked the generator'),
};

test('gaussianNoise has mean 0 and variance std² (200 000 seeded samples, 5-sigma bounds)', () => {
  // Prepare
  const n = 200_000;
  const std = 3;
  // Execute
  const v = gaussianNoise(n, std, seededRng(42));
  // Assert: the sample mean has sd std/√n; the sample variance has sd std²·√(2/n).
  let sum = 0;
  for (const x of v) sum += x;
  const mean = sum / n;
  let ss = 0;
  for (const x of v) ss += (x - mean) ** 2;
  const variance = ss / (n - 1);
  assert.ok(Math.abs(mean) < (5 * std) / Math.sqrt(n), `mean ${mean}`);
  assert.ok(Math.abs(variance - std * std) < 5 * std * std * Math.sqrt(2 / n), `variance ${variance}`);
});

test('addGaussianNoise adds to a Float32Array in place, reproducibly for the same seed', () => {
  const a = new Float32Array(1000).fill(10);
  const b = new Float32Array(1000).fill(10);
  addGaussianNoise(a, 0.5, seededRng(7));
  addGaussianNoise(b, 0.5, seededRng(7));
  assert.deepEqual(a, b);
  assert.ok(a.some((x) => x !== 10));
  const mean = a.reduce((s, x) => s + x, 0) / a.length;
  assert.ok(Math.abs(mean - 10) < (5 * 0.5) / Math.sqrt(1000), `mean ${mean}`);
});

test('std = 0 leaves the vector unchanged and draws nothing; a negative or infinite std throws ConfigError', () => {
  const v = Float64Array.of(1, 2, 3);
  addGaussianNoise(v, 0, untouchable);
  assert.deepEqual(v, Float64Array.of(1, 2, 3));
  assert.throws(() => addGaussianNoise(v, -1, seededRng(1)), (e: unknown) => e instanceof ConfigError && e.field === 'std');
  assert.throws(() => addGaussianNoise(v, Infinity, seededRng(1)), (e: unknown) => e instanceof ConfigError && e.field === 'std');
  assert.throws(() => gaussianNoise(-1, 1, seededRng(1)), (e: unknown) => e instanceof ConfigError && e.field === 'length');
});
