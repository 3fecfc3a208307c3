import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seededRng } from '../core/rng.js';
import { LogisticRegression } from './logistic.js';
import { Mlp } from './mlp.js';

const allRows = (n: number): Uint32Array => Uint32Array.from({ length: n }, (_, i) => i);

describe('Mlp layout', () => {
  it('names blocks layerI.weight [out, in] and layerI.bias [out], the output layer last', () => {
    const m = new Mlp({ kind: 'mlp', hidden: [4, 3] }, 5, 6);
    assert.deepEqual(
      m.layout.map((b) => [b.name, b.offset, [...b.shape]]),
      [
        ['layer0.weight', 0, [4, 5]],
        ['layer0.bias', 20, [4]],
        ['layer1.weight', 24, [3, 4]],
        ['layer1.bias', 36, [3]],
        ['layer2.weight', 39, [6, 3]],
        ['layer2.bias', 57, [6]],
      ],
    );
    assert.equal(m.numParams, 63);
    assert.deepEqual(m.outputBlocks, ['layer2.weight', 'layer2.bias']);
  });

  it('a binary network has a single output unit', () => {
    const m = new Mlp({ kind: 'mlp', hidden: [2] }, 3, 2);
    assert.deepEqual([...m.layout[m.layout.length - 1]!.shape], [1]);
  });
});

describe('Mlp init', () => {
  it('is deterministic by seed, with zero biases and He-scaled ReLU weights', () => {
    // Prepare
    const m = new Mlp({ kind: 'mlp', hidden: [200] }, 100, 3);
    // Execute
    const a = m.init(seededRng(42));
    const b = m.init(seededRng(42));
    const c = m.init(seededRng(43));
    // Assert
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
    const w0 = m.layout[0]!;
    let ss = 0;
    for (let i = w0.offset; i < w0.offset + w0.length; i++) ss += a[i]! * a[i]!;
    const std = Math.sqrt(ss / w0.length);
    assert.ok(Math.abs(std / Math.sqrt(2 / 100) - 1) < 0.05, `std ${std}`);
    const b0 = m.layout[1]!;
    assert.ok(a.subarray(b0.offset, b0.offset + b0.length).every((v) => v === 0));
  });

  it('uses Glorot scaling for tanh layers', () => {
    const m = new Mlp({ kind: 'mlp', hidden: [300], activation: 'tanh' }, 100, 2);
    const p = m.init(seededRng(5));
    const w0 = m.layout[0]!;
    let ss = 0;
    for (let i = w0.offset; i < w0.offset + w0.length; i++) ss += p[i]! * p[i]!;
    assert.ok(Math.abs(Math.sqrt(ss / w0.length) / Math.sqrt(2 / 400) - 1) < 0.05);
  });
});

describe('Mlp predict and loss', () => {
  it('multiclass rows are probabilities summing to 1, finite even for huge inputs', () => {
    const m = new Mlp({ kind: 'mlp', hidden: [8, 8] }, 3, 4);
    const p = m.init(seededRng(1));
    const probs = m.predict(p, new Float32Array([1, 2, 3, 1e6, -1e6, 1e6]), 2);
    for (let i = 0; i < 2; i++) {
      let s = 0;
      for (let c = 0; c < 4; c++) {
        assert.ok(Number.isFinite(probs[i * 4 + c]!));
        s += probs[i * 4 + c]!;
      }
      assert.ok(Math.abs(s - 1) < 1e-6);
    }
    const grad = new Float32Array(m.numParams);
    const loss = m.lossAndGrad(p, new Float32Array([1e6, -1e6, 1e6]), new Float32Array([2]), allRows(1), 0, 1, grad);
    assert.ok(Number.isFinite(loss) && grad.every(Number.isFinite));
  });

  it('without hidden layers it computes exactly what logistic regression computes', () => {
    // Prepare: the two layouts coincide ([k, d] weights then [k] biases).
    for (const k of [2, 3]) {
      const mlp = new Mlp({ kind: 'mlp', hidden: [], l2: 0.1 }, 3, k);
      const lr = new LogisticRegression({ kind: 'logistic', l2: 0.1 }, 3, k);
      const rng = seededRng(k);
      const params = Float32Array.from({ length: lr.numParams }, () => rng.normal());
      const x = Float32Array.from({ length: 12 }, () => rng.normal());
      const y = new Float32Array([0, 1, k - 1, 1]);
      const g1 = new Float32Array(lr.numParams);
      const g2 = new Float32Array(lr.numParams);
      // Execute
      const l1 = mlp.lossAndGrad(params, x, y, allRows(4), 0, 4, g1);
      const l2 = lr.lossAndGrad(params, x, y, allRows(4), 0, 4, g2);
      // Assert
      assert.equal(mlp.numParams, lr.numParams);
      assert.ok(Math.abs(l1 - l2) < 1e-12);
      for (let i = 0; i < g1.length; i++) assert.ok(Math.abs(g1[i]! - g2[i]!) < 1e-6);
      assert.deepEqual(mlp.predict(params, x, 4), lr.predict(params, x, 4));
    }
  });

  it('gives the same result when called twice (buffers are reset between calls)', () => {
    const m = new Mlp({ kind: 'mlp', hidden: [5], activation: 'tanh' }, 2, 3);
    const p = m.init(seededRng(9));
    const x = new Float32Array([0.1, 0.2, -0.3, 0.4, 0.5, -0.6]);
    const y = new Float32Array([0, 2, 1]);
    const g1 = new Float32Array(m.numParams);
    const g2 = new Float32Array(m.numParams);
    const l1 = m.lossAndGrad(p, x, y, allRows(3), 0, 3, g1);
    m.lossAndGrad(p, x, y, allRows(3), 1, 2, g2);
    const l2 = m.lossAndGrad(p, x, y, allRows(3), 0, 3, g2);
    assert.equal(l1, l2);
    assert.deepEqual(g1, g2);
  });
});
