import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, DataError } from '../core/errors.js';
import { l2norm } from '../core/math.js';
import { seededRng } from '../core/rng.js';
import type { Dataset } from '../data/dataset.js';
import { createModel } from '../models/create-model.js';
import type { Model } from '../models/model.js';
import { trainLocal } from '../models/train.js';
import { dpSgdSchedule, trainDpSgd } from './dp-sgd.js';

/** n rows of d features; label 1 when the first two features sum above 0 (linearly separable). */
function synthetic(n: number, d: number, seed: number): Dataset {
  const rng = seededRng(seed);
  const x = new Float32Array(n * d);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) x[i * d + j] = rng.normal();
    y[i] = x[i * d]! + x[i * d + 1]! > 0 ? 1 : 0;
  }
  return { x, y, n, d, numClasses: 2 };
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

const NO_DP = { clipNorm: 1e9, noiseMultiplier: 0 };

test('σ = 0, a huge clip and q = 1 reproduce full-batch gradient descent of trainLocal (logistic, with and without L2; MLP)', () => {
  const data = synthetic(60, 4, 1);
  const cases = [
    { spec: { kind: 'logistic' } as const, tol: 1e-6 },
    { spec: { kind: 'logistic', l2: 0.1 } as const, tol: 1e-5 },
    { spec: { kind: 'mlp', hidden: [5], l2: 0.01 } as const, tol: 1e-4 },
  ];
  for (const { spec, tol } of cases) {
    // Prepare
    const model = createModel(spec, data.d, 2);
    const initial = model.init(seededRng(3));
    const instructions = { epochs: 6, batchSize: 0, learningRate: 0.3 };
    // Execute
    const gd = trainLocal(model, initial, data, instructions, seededRng(4));
    const dp = trainDpSgd(model, initial, data, instructions, NO_DP, seededRng(5), seededRng(6));
    // Assert
    assert.ok(maxAbsDiff(gd.params, dp.params) < tol, `${spec.kind}: differs by ${maxAbsDiff(gd.params, dp.params)}`);
    assert.equal(dp.steps, 6);
    assert.equal(dp.sampleRate, 1);
    assert.equal(dp.numExamples, 60);
    assert.ok(Math.abs(dp.meanLoss - gd.meanLoss) < 1e-4);
  }
});

test('clipping bounds one row’s influence: an enormous feature moves a step by at most 2·C·η/(q·n), unlike plain SGD', () => {
  // Prepare: neighbouring datasets (row 0 replaced); q = 15/20 = 0.75 gives one step per epoch.
  const data = synthetic(20, 3, 2);
  const x = data.x.slice();
  x[0] = 1e6;
  const outlier: Dataset = { ...data, x };
  const model = createModel({ kind: 'logistic' }, 3, 2);
  const initial = model.init(seededRng(1));
  const instructions = { epochs: 1, batchSize: 15, learningRate: 0.5 };
  const dp = { clipNorm: 1, noiseMultiplier: 0 };
  // Execute: the same sampling seed picks the same rows on both datasets.
  const a = trainDpSgd(model, initial, data, instructions, dp, seededRng(7), seededRng(8)).params;
  const b = trainDpSgd(model, initial, outlier, instructions, dp, seededRng(7), seededRng(8)).params;
  const plainA = trainLocal(model, initial, data, { ...instructions, batchSize: 0 }, seededRng(7)).params;
  const plainB = trainLocal(model, initial, outlier, { ...instructions, batchSize: 0 }, seededRng(7)).params;
  // Assert
  const bound = (2 * 1 * 0.5) / (0.75 * 20);
  const moved = l2norm(a.map((v, i) => v - b[i]!));
  assert.ok(moved <= bound * (1 + 1e-5), `moved ${moved} > ${bound}`);
  assert.ok(l2norm(plainA.map((v, i) => v - plainB[i]!)) > 1000 * bound, 'without clipping the row dominates');
});

test('noise comes from noiseRng: same seeds give identical parameters, another noise seed gives others', () => {
  const data = synthetic(40, 3, 3);
  const model = createModel({ kind: 'logistic' }, 3, 2);
  const init = model.init(seededRng(1));
  const ins = { epochs: 2, batchSize: 8, learningRate: 0.2 };
  const dp = { clipNorm: 1, noiseMultiplier: 1.1 };
  const a = trainDpSgd(model, init, data, ins, dp, seededRng(10), seededRng(20));
  const b = trainDpSgd(model, init, data, ins, dp, seededRng(10), seededRng(20));
  const c = trainDpSgd(model, init, data, ins, dp, seededRng(10), seededRng(21));
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.params, c.params);
  assert.equal(a.steps, 2 * 5);
  assert.equal(a.sampleRate, 0.2);
});

test('Poisson sampling: every row joins each step independently with probability q (counts over 1000 steps)', () => {
  // Prepare: a model wrapper that counts the single-row gradient calls per row.
  const inner = createModel({ kind: 'logistic' }, 2, 2);
  const counts = new Array<number>(50).fill(0);
  const recorder: Model = {
    spec: inner.spec,
    inputDim: inner.inputDim,
    numClasses: inner.numClasses,
    numParams: inner.numParams,
    layout: inner.layout,
    init: (r) => inner.init(r),
    predict: (p, x, n, out) => inner.predict(p, x, n, out),
    lossAndGrad: (p, x, y, rows, start, end, grad) => {
      for (let k = start; k < end; k++) counts[rows[k]!] = counts[rows[k]!]! + 1;
      return inner.lossAndGrad(p, x, y, rows, start, end, grad);
    },
  };
  const data = synthetic(50, 2, 4);
  // Execute: q = 5/50 = 0.1, 10 steps per epoch, 100 epochs.
  const r = trainDpSgd(recorder, recorder.init(seededRng(1)), data, { epochs: 100, batchSize: 5, learningRate: 0.01 }, { clipNorm: 1, noiseMultiplier: 1 }, seededRng(5), seededRng(6));
  // Assert: each count is Binomial(1000, 0.1): mean 100, sd ≈ 9.5; the total is Binomial(50 000, 0.1).
  assert.equal(r.steps, 1000);
  for (const [row, c] of counts.entries()) assert.ok(c > 100 - 6 * 9.5 && c < 100 + 6 * 9.5, `row ${row} sampled ${c} times`);
  const total = counts.reduce((s, c) => s + c, 0);
  assert.ok(Math.abs(total - 5000) < 5 * Math.sqrt(50_000 * 0.1 * 0.9), `total ${total}`);
});

test('frozen blocks are neither noised nor updated', () => {
  const data = synthetic(30, 3, 5);
  const model = createModel({ kind: 'logistic' }, 3, 2);
  const init = Float32Array.of(0.1, 0.2, 0.3, 0.4);
  const r = trainDpSgd(model, init, data, { epochs: 3, batchSize: 10, learningRate: 0.1 }, { clipNorm: 1, noiseMultiplier: 2 }, seededRng(1), seededRng(2), {
    frozenBlocks: ['bias'],
  });
  assert.equal(r.params[3], init[3]);
  assert.notEqual(r.params[0], init[0]);
});

test('with σ = 1 and C = 1, DP-SGD still learns a separable task (accuracy > 0.85 on 2000 rows, seeded)', () => {
  const data = synthetic(2000, 5, 6);
  const model = createModel({ kind: 'logistic' }, 5, 2);
  const r = trainDpSgd(model, model.init(seededRng(1)), data, { epochs: 5, batchSize: 100, learningRate: 0.5 }, { clipNorm: 1, noiseMultiplier: 1 }, seededRng(2), seededRng(3));
  const p = model.predict(r.params, data.x, data.n);
  let correct = 0;
  for (let i = 0; i < data.n; i++) if ((p[i]! > 0.5 ? 1 : 0) === data.y[i]) correct++;
  assert.ok(correct / data.n > 0.85, `accuracy ${correct / data.n}`);
});

test('dpSgdSchedule: q = min(1, B/n) (B = 0 means 1), round(1/q) steps per epoch', () => {
  assert.deepEqual(dpSgdSchedule(1000, 32, 3), { sampleRate: 0.032, stepsPerEpoch: 31, steps: 93 });
  assert.deepEqual(dpSgdSchedule(10, 0, 2), { sampleRate: 1, stepsPerEpoch: 1, steps: 2 });
  assert.deepEqual(dpSgdSchedule(10, 50, 1), { sampleRate: 1, stepsPerEpoch: 1, steps: 1 });
  assert.throws(() => dpSgdSchedule(0, 1, 1), (e: unknown) => e instanceof ConfigError && e.field === 'numExamples');
});

test('invalid inputs: ConfigError names the hyper-parameter or block; an empty dataset is a DataError', () => {
  const data = synthetic(10, 2, 7);
  const model = createModel({ kind: 'logistic' }, 2, 2);
  const init = model.init(seededRng(1));
  const ins = { epochs: 1, batchSize: 2, learningRate: 0.1 };
  const field = (f: string) => (e: unknown) => e instanceof ConfigError && e.field === f;
  assert.throws(() => trainDpSgd(model, init, data, ins, { clipNorm: 0, noiseMultiplier: 1 }, seededRng(1), seededRng(2)), field('clipNorm'));
  assert.throws(() => trainDpSgd(model, init, data, ins, { clipNorm: 1, noiseMultiplier: -1 }, seededRng(1), seededRng(2)), field('noiseMultiplier'));
  assert.throws(() => trainDpSgd(model, init, data, { ...ins, learningRate: 0 }, NO_DP, seededRng(1), seededRng(2)), field('learningRate'));
  assert.throws(() => trainDpSgd(model, init, data, ins, NO_DP, seededRng(1), seededRng(2), { frozenBlocks: ['nope'] }), field('frozenBlocks'));
  const empty: Dataset = { x: new Float32Array(0), y: new Float32Array(0), n: 0, d: 2, numClasses: 2 };
  assert.throws(() => trainDpSgd(model, init, empty, ins, NO_DP, seededRng(1), seededRng(2)), DataError);
});
