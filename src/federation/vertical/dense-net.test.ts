import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../core/errors.js';
import { seededRng } from '../../core/rng.js';
import { DenseNet } from './dense-net.js';

/** Σ out·weights, a linear loss whose gradient with respect to the output is `weights`. */
function loss(net: DenseNet, x: Float64Array, rows: number, weights: Float64Array): number {
  const out = net.forward(x, rows);
  let s = 0;
  out.forEach((v, i) => (s += v * weights[i]!));
  return s;
}

test('backward returns ∂loss/∂input matching central finite differences', () => {
  // Prepare
  const rng = seededRng(3);
  const net = new DenseNet([4, 5, 3], rng);
  const rows = 2;
  const x = Float64Array.from({ length: rows * 4 }, () => rng.normal());
  const upstream = Float64Array.from({ length: rows * 3 }, () => rng.normal());
  // Execute: the analytic input gradient (learning rate 0 leaves the weights as they are).
  net.forward(x, rows);
  const analytic = net.backward(upstream, 0);
  // Assert
  const h = 1e-6;
  for (let i = 0; i < x.length; i++) {
    const plus = Float64Array.from(x);
    const minus = Float64Array.from(x);
    plus[i] = plus[i]! + h;
    minus[i] = minus[i]! - h;
    const numeric = (loss(net, plus, rows, upstream) - loss(net, minus, rows, upstream)) / (2 * h);
    assert.ok(Math.abs(numeric - analytic[i]!) < 1e-5, `input ${i}: ${numeric} vs ${analytic[i]}`);
  }
});

test('an SGD step along the output gradient lowers the loss', () => {
  const rng = seededRng(8);
  const net = new DenseNet([3, 6, 2], rng);
  const x = Float64Array.from({ length: 3 * 4 }, () => rng.normal());
  const upstream = Float64Array.from({ length: 4 * 2 }, () => rng.normal());
  const before = loss(net, x, 4, upstream);
  net.forward(x, 4);
  net.backward(upstream, 0.01);
  assert.ok(loss(net, x, 4, upstream) < before);
  assert.equal(net.numParams, 3 * 6 + 6 + 6 * 2 + 2);
});

test('bad widths and a gradient of the wrong shape are refused', () => {
  assert.throws(() => new DenseNet([3, 0, 1], seededRng(1)), ConfigError);
  assert.throws(() => new DenseNet([3], seededRng(1)), ConfigError);
  const net = new DenseNet([2, 1], seededRng(1));
  net.forward(new Float64Array(4), 2);
  assert.throws(() => net.backward(new Float64Array(3), 0.1), ConfigError);
});
