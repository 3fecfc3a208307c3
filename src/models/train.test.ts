import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, DataError, EduFedError } from '../core/errors.js';
import { l2norm } from '../core/math.js';
import { metricsFromSummary } from '../core/metrics.js';
import { seededRng, type Rng } from '../core/rng.js';
import type { Dataset } from '../data/dataset.js';
import type { TrainInstructions } from '../strategy/strategy.js';
import { createModel } from './create-model.js';
import { evaluateModel, trainLocal } from './train.js';

/** Labels from the sign of a random hyperplane through the origin: linearly separable. */
function separable(rng: Rng, n: number, d: number): Dataset {
  const w = Float32Array.from({ length: d }, () => rng.normal());
  const x = Float32Array.from({ length: n * d }, () => rng.normal());
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let z = 0;
    for (let j = 0; j < d; j++) z += w[j]! * x[i * d + j]!;
    y[i] = z > 0 ? 1 : 0;
  }
  return { x, y, n, d, numClasses: 2 };
}

/** Three Gaussian blobs in the plane, one per class. */
function blobs(rng: Rng, perClass: number): Dataset {
  const centres = [
    [0, 0],
    [4, 0],
    [0, 4],
  ];
  const n = perClass * 3;
  const x = new Float32Array(n * 2);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 3;
    y[i] = c;
    x[2 * i] = centres[c]![0]! + 0.8 * rng.normal();
    x[2 * i + 1] = centres[c]![1]! + 0.8 * rng.normal();
  }
  return { x, y, n, d: 2, numClasses: 3 };
}

/** XOR of the signs of two coordinates, with points near the four corners. */
function xor(rng: Rng, n: number): Dataset {
  const x = new Float32Array(n * 2);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const a = i % 2;
    const b = (i >> 1) % 2;
    x[2 * i] = (a === 1 ? 1 : -1) + 0.1 * rng.normal();
    x[2 * i + 1] = (b === 1 ? 1 : -1) + 0.1 * rng.normal();
    y[i] = a ^ b;
  }
  return { x, y, n, d: 2, numClasses: 2 };
}

const sgd = (over: Partial<TrainInstructions> = {}): TrainInstructions => ({
  epochs: 5,
  batchSize: 32,
  learningRate: 0.5,
  ...over,
});

function accuracyOf(model: ReturnType<typeof createModel>, params: Float32Array, data: Dataset): number {
  return metricsFromSummary(evaluateModel(model, params, data)).accuracy;
}

describe('trainLocal learns', () => {
  it('binary logistic regression reaches ≥ 0.95 accuracy on a linearly separable set', () => {
    // Prepare
    const data = separable(seededRng(1), 600, 5);
    const model = createModel({ kind: 'logistic' }, 5, 2);
    const start = model.init(seededRng(0));
    // Execute
    const res = trainLocal(model, start, data, sgd({ epochs: 20 }), seededRng(2));
    // Assert
    assert.ok(accuracyOf(model, start, data) < 0.95);
    assert.ok(accuracyOf(model, res.params, data) >= 0.95);
    assert.equal(res.numExamples, 600);
    assert.equal(res.steps, 20 * Math.ceil(600 / 32));
  });

  it('multinomial logistic regression separates three Gaussian blobs', () => {
    const data = blobs(seededRng(3), 100);
    const model = createModel({ kind: 'logistic' }, 2, 3);
    const res = trainLocal(model, model.init(seededRng(0)), data, sgd({ epochs: 20, learningRate: 0.1 }), seededRng(4));
    assert.ok(accuracyOf(model, res.params, data) >= 0.95);
  });

  it('an MLP learns XOR, which logistic regression cannot', () => {
    // Prepare
    const data = xor(seededRng(5), 200);
    const mlp = createModel({ kind: 'mlp', hidden: [8] }, 2, 2);
    const lr = createModel({ kind: 'logistic' }, 2, 2);
    const config = sgd({ epochs: 60, batchSize: 16, learningRate: 0.2 });
    // Execute
    const mlpRes = trainLocal(mlp, mlp.init(seededRng(6)), data, config, seededRng(7));
    const lrRes = trainLocal(lr, lr.init(seededRng(6)), data, config, seededRng(7));
    // Assert
    assert.equal(accuracyOf(mlp, mlpRes.params, data), 1);
    assert.ok(accuracyOf(lr, lrRes.params, data) <= 0.8);
  });

  it('the mean training loss decreases from one round to the next', () => {
    const data = separable(seededRng(8), 300, 4);
    const model = createModel({ kind: 'mlp', hidden: [6], activation: 'tanh' }, 4, 2);
    const first = trainLocal(model, model.init(seededRng(0)), data, sgd({ epochs: 2, learningRate: 0.1 }), seededRng(1));
    const second = trainLocal(model, first.params, data, sgd({ epochs: 2, learningRate: 0.1 }), seededRng(2));
    assert.ok(second.meanLoss < first.meanLoss);
  });
});

describe('trainLocal FedProx', () => {
  it('a huge proximal μ keeps the parameters near the anchor', () => {
    // Prepare: with η·μ = 1 each step lands at anchor − η·∇F, so w cannot drift away.
    const data = separable(seededRng(9), 300, 5);
    const model = createModel({ kind: 'logistic' }, 5, 2);
    const anchor = Float32Array.from({ length: model.numParams }, (_, i) => (i % 2 === 0 ? 1 : -1));
    const start = new Float32Array(model.numParams);
    const dist = (w: Float32Array): number => l2norm(w.map((v, i) => v - anchor[i]!));
    // Execute
    const free = trainLocal(model, start, data, sgd({ epochs: 10, learningRate: 0.1 }), seededRng(1), { anchor });
    const prox = trainLocal(model, start, data, sgd({ epochs: 10, learningRate: 0.1, proximalMu: 10 }), seededRng(1), { anchor });
    // Assert
    assert.ok(dist(prox.params) < 0.2 * dist(free.params), `${dist(prox.params)} vs ${dist(free.params)}`);
    assert.ok(dist(prox.params) < 0.15);
  });

  it('the anchor defaults to the initial parameters', () => {
    const data = separable(seededRng(10), 100, 3);
    const model = createModel({ kind: 'logistic' }, 3, 2);
    const start = Float32Array.from([0.3, -0.2, 0.1, 0.5]);
    const res = trainLocal(model, start, data, sgd({ learningRate: 0.1, proximalMu: 10 }), seededRng(1));
    const explicit = trainLocal(model, start, data, sgd({ learningRate: 0.1, proximalMu: 10 }), seededRng(1), {
      anchor: start.slice(),
    });
    assert.deepEqual(res.params, explicit.params);
    assert.ok(l2norm(res.params.map((v, i) => v - start[i]!)) < 0.1);
  });
});

describe('trainLocal contract', () => {
  it('is bit-for-bit deterministic given the seed, and the seed matters', () => {
    const data = separable(seededRng(11), 200, 4);
    const model = createModel({ kind: 'mlp', hidden: [5] }, 4, 2);
    const start = model.init(seededRng(0));
    const a = trainLocal(model, start, data, sgd(), seededRng(99));
    const b = trainLocal(model, start, data, sgd(), seededRng(99));
    const c = trainLocal(model, start, data, sgd(), seededRng(100));
    assert.deepEqual(new Uint8Array(a.params.buffer), new Uint8Array(b.params.buffer));
    assert.equal(a.meanLoss, b.meanLoss);
    assert.notDeepEqual(a.params, c.params);
  });

  it('does not modify the initial parameters', () => {
    const data = separable(seededRng(12), 50, 3);
    const model = createModel({ kind: 'logistic' }, 3, 2);
    const start = Float32Array.from([0.1, 0.2, 0.3, 0.4]);
    const res = trainLocal(model, start, data, sgd(), seededRng(1));
    assert.deepEqual(Array.from(start), Array.from(Float32Array.from([0.1, 0.2, 0.3, 0.4])));
    assert.notEqual(res.params, start);
  });

  it('batchSize 0 is one full-batch step per epoch', () => {
    const data = separable(seededRng(13), 70, 3);
    const model = createModel({ kind: 'logistic' }, 3, 2);
    const res = trainLocal(model, model.init(seededRng(0)), data, sgd({ epochs: 3, batchSize: 0 }), seededRng(1));
    assert.equal(res.steps, 3);
  });

  it('frozen blocks keep their values, even under the proximal pull', () => {
    const data = blobs(seededRng(14), 20);
    const model = createModel({ kind: 'mlp', hidden: [4] }, 2, 3);
    const start = model.init(seededRng(0));
    const anchor = new Float32Array(model.numParams);
    const res = trainLocal(model, start, data, sgd({ proximalMu: 1 }), seededRng(1), {
      frozenBlocks: ['layer0.weight'],
      anchor,
    });
    const w0 = model.layout[0]!;
    const b0 = model.layout[1]!;
    assert.deepEqual(res.params.subarray(w0.offset, w0.offset + w0.length), start.subarray(w0.offset, w0.offset + w0.length));
    assert.notDeepEqual(res.params.subarray(b0.offset, b0.offset + b0.length), start.subarray(b0.offset, b0.offset + b0.length));
  });

  it('reports progress after each epoch', () => {
    const data = separable(seededRng(15), 40, 2);
    const model = createModel({ kind: 'logistic' }, 2, 2);
    const seen: number[] = [];
    trainLocal(model, model.init(seededRng(0)), data, sgd({ epochs: 3 }), seededRng(1), { onProgress: (e) => seen.push(e) });
    assert.deepEqual(seen, [1, 2, 3]);
  });

  it('throws a MODEL error when training diverges instead of returning NaN parameters', () => {
    const data = separable(seededRng(16), 40, 2);
    const model = createModel({ kind: 'logistic' }, 2, 2);
    assert.throws(
      () => trainLocal(model, model.init(seededRng(0)), data, sgd({ learningRate: 1e39 }), seededRng(1)),
      (e: unknown) => e instanceof EduFedError && e.code === 'MODEL' && /diverged/.test(e.message),
    );
  });

  it('rejects bad hyper-parameters, unknown frozen blocks, mismatched shapes and empty data', () => {
    const data = separable(seededRng(17), 10, 2);
    const model = createModel({ kind: 'logistic' }, 2, 2);
    const p = model.init(seededRng(0));
    const field = (f: string) => (e: unknown) => e instanceof ConfigError && e.field === f;
    assert.throws(() => trainLocal(model, p, data, sgd({ epochs: 0 }), seededRng(1)), field('epochs'));
    assert.throws(() => trainLocal(model, p, data, sgd({ batchSize: -1 }), seededRng(1)), field('batchSize'));
    assert.throws(() => trainLocal(model, p, data, sgd({ learningRate: 0 }), seededRng(1)), field('learningRate'));
    assert.throws(() => trainLocal(model, p, data, sgd({ proximalMu: -1 }), seededRng(1)), field('proximalMu'));
    assert.throws(() => trainLocal(model, p, data, sgd(), seededRng(1), { frozenBlocks: ['nope'] }), field('frozenBlocks'));
    assert.throws(() => trainLocal(model, new Float32Array(2), data, sgd(), seededRng(1)), EduFedError);
    assert.throws(() => trainLocal(createModel({ kind: 'logistic' }, 3, 2), new Float32Array(4), data, sgd(), seededRng(1)), EduFedError);
    const empty: Dataset = { x: new Float32Array(0), y: new Float32Array(0), n: 0, d: 2, numClasses: 2 };
    assert.throws(() => trainLocal(model, p, empty, sgd(), seededRng(1)), DataError);
  });
});

describe('evaluateModel', () => {
  it('summarises predictions on every row', () => {
    const data = blobs(seededRng(18), 10);
    const model = createModel({ kind: 'logistic' }, 2, 3);
    const s = evaluateModel(model, model.init(seededRng(0)), data);
    assert.equal(s.n, 30);
    // Zero parameters: uniform probabilities, loss ln 3 per row, arg-max class 0.
    assert.ok(Math.abs(s.lossSum / 30 - Math.log(3)) < 1e-6);
    assert.equal(s.correct, 10);
  });
});
