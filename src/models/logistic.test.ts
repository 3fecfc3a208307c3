import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DataError, EduFedError } from '../core/errors.js';
import { seededRng } from '../core/rng.js';
import { LogisticRegression } from './logistic.js';

const allRows = (n: number): Uint32Array => Uint32Array.from({ length: n }, (_, i) => i);

describe('LogisticRegression layout and init', () => {
  it('binary: blocks weight [d] then bias [1]', () => {
    const m = new LogisticRegression({ kind: 'logistic' }, 4, 2);
    assert.equal(m.numParams, 5);
    assert.deepEqual(
      m.layout.map((b) => [b.name, b.offset, b.length, [...b.shape]]),
      [
        ['weight', 0, 4, [4]],
        ['bias', 4, 1, [1]],
      ],
    );
  });

  it('multinomial: blocks weight [k, d] then bias [k]', () => {
    const m = new LogisticRegression({ kind: 'logistic' }, 4, 3);
    assert.equal(m.numParams, 15);
    assert.deepEqual(
      m.layout.map((b) => [b.name, b.offset, b.length, [...b.shape]]),
      [
        ['weight', 0, 12, [3, 4]],
        ['bias', 12, 3, [3]],
      ],
    );
  });

  it('init is all zeros, so predictions start uniform', () => {
    const m = new LogisticRegression({ kind: 'logistic' }, 3, 3);
    const p = m.init(seededRng(1));
    assert.ok(p.every((v) => v === 0));
    const probs = m.predict(p, new Float32Array([1, 2, 3]), 1);
    for (const v of probs) assert.ok(Math.abs(v - 1 / 3) < 1e-7);
  });
});

describe('LogisticRegression loss and gradient', () => {
  it('binary at zero parameters: loss ln 2 and gradient mean((0.5 − y)·x)', () => {
    // Prepare
    const m = new LogisticRegression({ kind: 'logistic' }, 2, 2);
    const x = new Float32Array([1, 2, -3, 4]);
    const y = new Float32Array([1, 0]);
    const grad = new Float32Array(3);
    // Execute
    const loss = m.lossAndGrad(new Float32Array(3), x, y, allRows(2), 0, 2, grad);
    // Assert
    assert.ok(Math.abs(loss - Math.LN2) < 1e-12);
    assert.deepEqual(Array.from(grad), [(-0.5 * 1 + 0.5 * -3) / 2, (-0.5 * 2 + 0.5 * 4) / 2, 0]);
  });

  it('stays finite for logits of ±1e8: loss ≈ |z| when wrong, 0 when right', () => {
    const m = new LogisticRegression({ kind: 'logistic' }, 1, 2);
    const params = new Float32Array([1e4, 0]);
    const x = new Float32Array([1e4, -1e4]);
    const grad = new Float32Array(2);
    const wrong = m.lossAndGrad(params, x, new Float32Array([0, 1]), allRows(2), 0, 2, grad);
    assert.equal(wrong, 1e8);
    assert.ok(grad.every(Number.isFinite));
    const right = m.lossAndGrad(params, x, new Float32Array([1, 0]), allRows(2), 0, 2, grad);
    assert.equal(right, 0);
    const mm = new LogisticRegression({ kind: 'logistic' }, 1, 3);
    const big = new Float32Array([1e4, -1e4, 0, 0, 0, 0]);
    const lossMulti = mm.lossAndGrad(big, new Float32Array([1e4]), new Float32Array([1]), allRows(1), 0, 1, new Float32Array(6));
    assert.equal(lossMulti, 2e8);
    assert.ok(mm.predict(big, new Float32Array([1e4]), 1).every(Number.isFinite));
  });

  it('the L2 term penalises weights but not the bias', () => {
    const plain = new LogisticRegression({ kind: 'logistic' }, 1, 2);
    const reg = new LogisticRegression({ kind: 'logistic', l2: 2 }, 1, 2);
    const x = new Float32Array([0.5]);
    const y = new Float32Array([1]);
    const params = new Float32Array([3, 5]);
    const g0 = new Float32Array(2);
    const g1 = new Float32Array(2);
    const l0 = plain.lossAndGrad(params, x, y, allRows(1), 0, 1, g0);
    const l1 = reg.lossAndGrad(params, x, y, allRows(1), 0, 1, g1);
    assert.ok(Math.abs(l1 - l0 - 0.5 * 2 * 9) < 1e-9);
    assert.ok(Math.abs(g1[0]! - g0[0]! - 2 * 3) < 1e-5);
    assert.equal(g1[1], g0[1]);
  });

  it('uses only rows[start..end), through the index', () => {
    const m = new LogisticRegression({ kind: 'logistic' }, 1, 2);
    const x = new Float32Array([1, 100, 2]);
    const y = new Float32Array([1, 0, 1]);
    const g = new Float32Array(2);
    const gRef = new Float32Array(2);
    const params = new Float32Array([0.3, -0.1]);
    const lSub = m.lossAndGrad(params, x, y, new Uint32Array([1, 2, 0, 1]), 1, 3, g);
    const lRef = m.lossAndGrad(params, new Float32Array([2, 1]), new Float32Array([1, 1]), allRows(2), 0, 2, gRef);
    assert.equal(lSub, lRef);
    assert.deepEqual(g, gRef);
  });

  it('rejects a non-class label naming the row, and wrong shapes as MODEL errors', () => {
    const m = new LogisticRegression({ kind: 'logistic' }, 1, 3);
    const params = m.init(seededRng(0));
    const g = new Float32Array(m.numParams);
    assert.throws(
      () => m.lossAndGrad(params, new Float32Array([1, 1]), new Float32Array([0, 1.5]), allRows(2), 0, 2, g),
      (e: unknown) => e instanceof DataError && /row 2/.test(e.message),
    );
    assert.throws(() => m.lossAndGrad(params, new Float32Array([1]), new Float32Array([0]), allRows(1), 0, 0, g), EduFedError);
    assert.throws(() => m.lossAndGrad(params, new Float32Array([1]), new Float32Array([0]), new Uint32Array([4]), 0, 1, g), EduFedError);
    assert.throws(() => m.predict(new Float32Array(2), new Float32Array([1]), 1), EduFedError);
    assert.throws(() => m.predict(params, new Float32Array([1]), 1, new Float32Array(2)), EduFedError);
  });

  it('predict writes into the given buffer', () => {
    const m = new LogisticRegression({ kind: 'logistic' }, 2, 2);
    const out = new Float32Array(2);
    const res = m.predict(new Float32Array([1, -1, 0]), new Float32Array([2, 2, 3, 0]), 2, out);
    assert.equal(res, out);
    assert.equal(out[0], 0.5);
    assert.ok(Math.abs(out[1]! - 1 / (1 + Math.exp(-3))) < 1e-7);
  });
});
