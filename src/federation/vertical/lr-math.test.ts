import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRng } from '../../core/rng.js';
import { LogisticRegression } from '../../models/logistic.js';
import { gradientSum, partialLogits, residuals, sgdStep } from './lr-math.js';

test('partial logits, residuals and gradient sums split by columns reproduce LogisticRegression’s loss and gradient', () => {
  // Prepare: 12 rows, 5 features split 3 + 2 between two parties, a batch of 6 rows.
  const rng = seededRng(11);
  const n = 12;
  const x = Float32Array.from({ length: n * 5 }, () => rng.normal());
  const y = Float32Array.from({ length: n }, (_, i) => i % 2);
  const params = Float32Array.from({ length: 6 }, () => rng.normal() * 0.3);
  const rows = Uint32Array.of(3, 7, 1, 10, 0, 5);
  const split = (cols: number[]): Float32Array => Float32Array.from({ length: n * cols.length }, (_, k) => x[Math.floor(k / cols.length) * 5 + cols[k % cols.length]!]!);
  const xa = split([0, 1, 2]);
  const xb = split([3, 4]);
  // Execute
  const z = partialLogits(xa, 3, params.subarray(0, 3), rows, 0, 6);
  const zb = partialLogits(xb, 2, params.subarray(3, 5), rows, 0, 6);
  z.forEach((v, i) => (z[i] = params[5]! + v + zb[i]!));
  const { residual, lossSum } = residuals(z, Array.from(rows, (r) => y[r]!));
  const ga = gradientSum(xa, 3, rows, 0, 6, residual);
  const gb = gradientSum(xb, 2, rows, 0, 6, residual);
  // Assert
  const model = new LogisticRegression({ kind: 'logistic' }, 5, 2);
  const grad = new Float32Array(6);
  const loss = model.lossAndGrad(params, x, y, rows, 0, 6, grad);
  assert.ok(Math.abs(lossSum / 6 - loss) < 1e-12);
  [...ga, ...gb].forEach((g, j) => assert.ok(Math.abs(Math.fround(g / 6) - grad[j]!) < 1e-7));
  assert.ok(Math.abs(residual.reduce((s, r) => s + r, 0) / 6 - grad[5]!) < 1e-7);
});

test('sgdStep applies L2 to weights only and rounds like trainLocal', () => {
  const w = Float32Array.of(1, -2, 0.5);
  sgdStep(w, [0.6, 0, 0.3], 3, 0.1, 0.5, 0, 2);
  sgdStep(w, [0.3], 3, 0.1, 0, 2, 1);
  assert.deepEqual([...w], [Math.fround(1 - 0.1 * Math.fround(0.2 + 0.5)), Math.fround(-2 - 0.1 * Math.fround(-1)), Math.fround(0.5 - 0.1 * Math.fround(0.1))]);
});
