import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../core/errors.js';
import { seededRng } from '../../core/rng.js';
import { createModel } from '../../models/create-model.js';
import type { Model } from '../../models/model.js';
import { trainLocal } from '../../models/train.js';
import { BatchSchedule } from './batch-schedule.js';

/** A logistic model that records the rows of every batch it is asked about. */
function recordingModel(batches: number[][]): Model {
  const inner = createModel({ kind: 'logistic' }, 1, 2);
  return {
    ...inner,
    init: (rng) => inner.init(rng),
    predict: (p, x, n, out) => inner.predict(p, x, n, out),
    lossAndGrad: (params, x, y, rows, start, end, grad) => {
      batches.push([...rows.subarray(start, end)]);
      return inner.lossAndGrad(params, x, y, rows, start, end, grad);
    },
  };
}

test('the schedule walks exactly the batches trainLocal walks for the same rows, batch size and seed', () => {
  for (const [n, batchSize] of [[23, 5], [10, 0], [7, 64]] as const) {
    // Prepare: trainLocal over n rows, recording its batches.
    const seen: number[][] = [];
    const model = recordingModel(seen);
    const data = { x: new Float32Array(n), y: Float32Array.from({ length: n }, (_, i) => i % 2), n, d: 1, numClasses: 2 };
    trainLocal(model, model.init(seededRng(1)), data, { epochs: 3, batchSize, learningRate: 0.1 }, seededRng(42));
    // Execute: the schedule's batches over three epochs.
    const schedule = new BatchSchedule(n, batchSize, 42);
    const mine: number[][] = [];
    for (let e = 0; e < 3; e++) {
      const order = schedule.nextEpoch();
      for (let j = 0; j < schedule.batches; j++) {
        const { start, end } = schedule.range(j);
        mine.push([...order.subarray(start, end)]);
      }
    }
    // Assert
    assert.deepEqual(mine, seen);
    assert.equal(schedule.epoch, 3);
  }
});

test('bad row counts, batch sizes and seeds are configuration errors', () => {
  assert.throws(() => new BatchSchedule(0, 4, 1), ConfigError);
  assert.throws(() => new BatchSchedule(4, -1, 1), ConfigError);
  assert.throws(() => new BatchSchedule(4, 2, 1.5), ConfigError);
});
