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

test('learner-level DP: the platform refuses a round its own budget cannot afford, also after a restart', async () => {
  const saved: { round: number; q: number; sigma: number; steps: number; epsilon: number }[] = [];
  const record = { load: () => saved, save: (r: { round: number; q: number; sigma: number; steps: number; epsilon: number }) => void saved.push(r) };
  const task: DataTask = { testFraction: 0.25, splitSeed: 1, schema };
  const instructions = { epochs: 1, batchSize: 10, learningRate: 0.1, privacy: { dpSgd: { clipNorm: 1, noiseMultiplier: 4 }, delta: 1e-5 } };
  const params = new Float32Array(2);
  const first = new HorizontalParticipant('p', raw, { policy: { maxEpsilon: 2 }, privacyRecord: record });
  await setUp(first, task);
  let round = 1;
  for (; round <= 50; round++) {
    const reply = await first.handle('j', { step: 'train', ...coord, payload: { round, params, instructions } });
    if (reply.step === 'error') {
      assert.match(reply.payload.message, /would reach ε = [\d.]+ \(δ = 0\.00001\) after round \d+, above its budget ε = 2/);
      break;
    }
    assert.equal(reply.step, 'train-result');
    assert.ok(reply.step === 'train-result' && Number.isNaN(reply.payload.loss), 'the raw-data loss is not sent under DP');
  }
  assert.ok(round > 2 && round <= 50, `refused at round ${round}`);
  assert.equal(saved.length, round - 1);
  assert.ok((saved[saved.length - 1]?.epsilon ?? 3) <= 2);
  // A restarted platform reloads its record and refuses the same round at once.
  const restarted = new HorizontalParticipant('p', raw, { policy: { maxEpsilon: 2 }, privacyRecord: record });
  await setUp(restarted, task);
  const again = await restarted.handle('j', { step: 'train', ...coord, payload: { round, params, instructions } });
  assert.equal(again.step, 'error');
});

test('update privatisation clips the sent update to the L2 bound before any noise', async () => {
  const p = new HorizontalParticipant('p', raw);
  await setUp(p, { testFraction: 0.25, splitSeed: 1, schema });
  const global = Float32Array.of(0.5, -0.5);
  const reply = await p.handle('j', { step: 'train', ...coord, payload: { round: 1, params: global, instructions: { epochs: 20, batchSize: 4, learningRate: 1, privacy: { clipUpdate: 0.01 } } } });
  assert.equal(reply.step, 'train-result');
  if (reply.step !== 'train-result') return;
  const norm = Math.hypot((reply.payload.params[0] ?? 0) - 0.5, (reply.payload.params[1] ?? 0) + 0.5);
  assert.ok(norm <= 0.01 + 1e-6 && norm > 0.009, `update norm ${norm}`);
});
