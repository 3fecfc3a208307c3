import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Schema } from '../data/schema.js';
import type { RawTable } from '../data/table.js';
import type { DataTask } from '../federation/horizontal/protocol.js';
import { HorizontalParticipant } from './horizontal-participant.js';
import { buildEncoder } from '../data/encoder.js';

const schema: Schema = {
  version: 1,
  columns: [
    { name: 'split', type: 'id' },
    { name: 'x', type: 'numeric' },
    { name: 'y', type: 'label', classes: ['0', '1'], positive: ['1'] },
  ],
};
const raw: RawTable = {
  source: 'mine.csv',
  header: ['split', 'x', 'y'],
  rows: Array.from({ length: 40 }, (_, i) => [i % 4 === 0 ? 'test' : 'train', String(i - 20), i >= 20 ? '1' : '0']),
};
const coord = { from: 'coordinator', to: 'participant' } as const;

async function setUp(p: HorizontalParticipant, task: DataTask): Promise<void> {
  const stats = await p.handle('j', { step: 'stats', ...coord, payload: { task } });
  assert.equal(stats.step, 'stats-result');
  if (stats.step !== 'stats-result') return;
  const encoder = buildEncoder(schema, stats.payload.stats);
  await p.handle('j', { step: 'setup', ...coord, payload: { task, encoder, model: { kind: 'logistic' } } });
}

test('only aggregates of training rows leave at the stats step, and the platform\'s own split column is honoured', async () => {
  const p = new HorizontalParticipant('p', raw);
  const task: DataTask = { testFraction: 0.5, splitSeed: 1, schema, splitColumn: 'split' };
  const reply = await p.handle('j', { step: 'stats', ...coord, payload: { task } });
  assert.equal(reply.step, 'stats-result');
  if (reply.step !== 'stats-result') return;
  assert.equal(reply.payload.stats.n, 30);
  assert.ok(!JSON.stringify(reply.payload).includes('"train"'), 'no row values in the reply');
  await setUp(p, task);
  assert.equal(p.localData('j').test.n, 10);
});

test('a split column that could become a feature is refused with the file and column named', async () => {
  const bad: Schema = { ...schema, columns: [{ name: 'split', type: 'categorical' }, ...schema.columns.slice(1)] };
  const reply = await new HorizontalParticipant('p', raw).handle('j', { step: 'stats', ...coord, payload: { task: { testFraction: 0.5, splitSeed: 1, schema: bad, splitColumn: 'split' } } });
  assert.equal(reply.step, 'error');
  assert.match(reply.step === 'error' ? reply.payload.message : '', /mine\.csv.*column "split".*type "id"/);
});

test('the local policy refuses rounds beyond its maximum, as an error value', async () => {
  const p = new HorizontalParticipant('p', raw, { policy: { maxRounds: 2 } });
  const task: DataTask = { testFraction: 0.25, splitSeed: 1, schema };
  await setUp(p, task);
  const params = new Float32Array(2);
  const ok = await p.handle('j', { step: 'train', ...coord, payload: { round: 2, params, instructions: { epochs: 1, batchSize: 8, learningRate: 0.1 } } });
  assert.equal(ok.step, 'train-result');
  const refused = await p.handle('j', { step: 'train', ...coord, payload: { round: 3, params, instructions: { epochs: 1, batchSize: 8, learningRate: 0.1 } } });
  assert.equal(refused.step, 'error');
  assert.match(refused.step === 'error' ? refused.payload.message : '', /round 3 exceeds this platform's maximum of 2/);
});

test('FedPer: personal blocks are sent as zeros and kept locally for prediction', async () => {
  const p = new HorizontalParticipant('p', raw);
  const task: DataTask = { testFraction: 0.25, splitSeed: 1, schema };
  await setUp(p, task);
  const global = new Float32Array(2);
  const reply = await p.handle('j', { step: 'train', ...coord, payload: { round: 1, params: global, instructions: { epochs: 3, batchSize: 4, learningRate: 0.1, personalBlocks: ['bias'] } } });
  assert.equal(reply.step, 'train-result');
  if (reply.step !== 'train-result') return;
  assert.equal(reply.payload.params[1], 0, 'the personal bias never leaves');
  assert.notEqual(reply.payload.params[0], 0);
  const effective = p.effectiveParams('j', global);
  assert.notEqual(effective[1], 0, 'the participant predicts with its own bias');
  assert.equal(effective[0], 0, 'and the global shared weight');
});

test('requests out of order are answered with a protocol error, never a crash', async () => {
  const reply = await new HorizontalParticipant('p', raw).handle('nojob', { step: 'evaluate', ...coord, payload: { round: 1, params: new Float32Array(2) } });
  assert.equal(reply.step, 'error');
  assert.match(reply.step === 'error' ? reply.payload.message : '', /before its stats step/);
});
