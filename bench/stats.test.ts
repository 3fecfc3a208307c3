import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../src/core/errors.js';
import { linearFit, median, timeRepeats } from './stats.js';

test('median picks the middle of an odd list and averages the two middles of an even one', () => {
  // Prepare
  const odd = [5, 1, 3];
  const even = [4, 1, 3, 2];
  // Execute
  const a = median(odd);
  const b = median(even);
  // Assert
  assert.equal(a, 3);
  assert.equal(b, 2.5);
  assert.deepEqual(odd, [5, 1, 3], 'the input is not reordered');
});

test('median of an empty list throws ConfigError', () => {
  assert.throws(() => median([]), ConfigError);
});

test('linearFit recovers an exact line with R² = 1', () => {
  // Prepare
  const xs = [10, 100, 300, 1000];
  const ys = xs.map((x) => 2 + 0.5 * x);
  // Execute
  const fit = linearFit(xs, ys);
  // Assert
  assert.ok(Math.abs(fit.slope - 0.5) < 1e-12);
  assert.ok(Math.abs(fit.intercept - 2) < 1e-9);
  assert.ok(Math.abs(fit.r2 - 1) < 1e-12);
});

test('linearFit matches a hand-computed fit of noisy points', () => {
  // Prepare: x = 0,1,2 and y = 0,2,1: slope 0.5, intercept 0.5, SS_res 1.5, SS_tot 2, R² 0.25.
  const xs = [0, 1, 2];
  const ys = [0, 2, 1];
  // Execute
  const fit = linearFit(xs, ys);
  // Assert
  assert.ok(Math.abs(fit.slope - 0.5) < 1e-12);
  assert.ok(Math.abs(fit.intercept - 0.5) < 1e-12);
  assert.ok(Math.abs(fit.r2 - 0.25) < 1e-12);
});

test('linearFit rejects a single point and constant x', () => {
  assert.throws(() => linearFit([1], [1]), ConfigError);
  assert.throws(() => linearFit([2, 2], [1, 3]), ConfigError);
});

test('timeRepeats runs one warm-up plus the requested repeats', () => {
  // Prepare
  let calls = 0;
  // Execute
  const times = timeRepeats(() => {
    calls++;
  }, 4);
  // Assert
  assert.equal(calls, 5);
  assert.equal(times.length, 4);
  assert.ok(times.every((t) => t >= 0));
});
