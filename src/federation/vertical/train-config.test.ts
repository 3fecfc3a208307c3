import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../core/errors.js';
import { checkTrainConfig, DEFAULT_SPLIT_NN, verticalTrainConfig } from './train-config.js';

test('defaults fill a plan, and split-nn gets the default network', () => {
  const c = verticalTrainConfig({ jobId: 'j', mode: 'secure-lr' });
  assert.deepEqual(c, { jobId: 'j', mode: 'secure-lr', epochs: 10, batchSize: 64, learningRate: 0.1, l2: 0, seed: 1, fracBits: 20 });
  assert.deepEqual(verticalTrainConfig({ jobId: 'j', mode: 'split-nn' }).splitNn, DEFAULT_SPLIT_NN);
});

test('each bad field is a ConfigError naming it', () => {
  const base = verticalTrainConfig({ jobId: 'j', mode: 'plain-lr' });
  const cases: [Record<string, unknown>, string][] = [
    [{ jobId: '' }, 'jobId'],
    [{ mode: 'magic' }, 'mode'],
    [{ epochs: 0 }, 'epochs'],
    [{ batchSize: -1 }, 'batchSize'],
    [{ learningRate: 0 }, 'learningRate'],
    [{ l2: -1 }, 'l2'],
    [{ seed: 0.5 }, 'seed'],
    [{ fracBits: 31 }, 'fracBits'],
    [{ mode: 'split-nn' }, 'splitNn'],
    [{ mode: 'split-nn', splitNn: { ...DEFAULT_SPLIT_NN, embedding: 0 } }, 'splitNn.embedding'],
    [{ mode: 'split-nn', splitNn: { ...DEFAULT_SPLIT_NN, noiseStd: -1 } }, 'splitNn.noiseStd'],
  ];
  for (const [change, field] of cases) {
    assert.throws(() => checkTrainConfig({ ...base, ...change } as typeof base), (e: unknown) => e instanceof ConfigError && e.field.startsWith(field), field);
  }
});
