import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationError } from '../../core/errors.js';
import { decodeEnvelope, encodeEnvelope, type Envelope } from '../../transport/envelope.js';
import { decodeReply, decodeRequest, encodeReply, encodeRequest } from './codec.js';
import type { HorizontalReply, HorizontalRequest } from './protocol.js';

function wire(body: ReturnType<typeof encodeRequest>, sender = 'coordinator', receiver = 'p1'): Envelope {
  return decodeEnvelope(encodeEnvelope({ ...body, correlationId: 'c1', sender, receiver }));
}

const schema = { version: 1 as const, columns: [{ name: 'x', type: 'numeric' as const }, { name: 'y', type: 'label' as const, classes: ['a', 'b'] }] };

test('every request survives the binary wire unchanged, tensors as raw float32', () => {
  const params = Float32Array.from([0.5, -1.25, 3e-8, 7]);
  const reqs: HorizontalRequest[] = [
    { step: 'stats', from: 'coordinator', to: 'participant', payload: { task: { testFraction: 0.2, splitSeed: 3, schema } } },
    { step: 'train', from: 'coordinator', to: 'participant', payload: { round: 4, params, instructions: { epochs: 2, batchSize: 16, learningRate: 0.05, proximalMu: 0.1, personalBlocks: ['bias'] } } },
    { step: 'evaluate', from: 'coordinator', to: 'participant', payload: { round: 4, params } },
    { step: 'finish', from: 'coordinator', to: 'participant', payload: { rounds: 9, reason: 'target reached' } },
  ];
  for (const r of reqs) assert.deepEqual(decodeRequest(wire(encodeRequest('j', r))), r);
});

test('a train-result reply decodes to the same params and counts; a NaN loss arrives as NaN, not as a crash', () => {
  const reply: HorizontalReply = {
    step: 'train-result', from: 'participant', to: 'coordinator',
    payload: { round: 2, params: Float32Array.from([1, 2, 3]), numExamples: 40, loss: NaN, trainMs: 1.5 },
  };
  const back = decodeReply(wire(encodeReply('j', 2, reply), 'p1', 'coordinator'), 'p1');
  assert.equal(back.step, 'train-result');
  if (back.step !== 'train-result') return;
  assert.deepEqual(back.payload.params, reply.payload.params);
  assert.equal(back.payload.numExamples, 40);
  assert.ok(Number.isNaN(back.payload.loss));
});

test('malformed replies are refused with a ValidationError naming the participant and the field', () => {
  const base = { correlationId: 'c', sender: 'p7', receiver: 'coordinator', jobId: 'j', round: 1 };
  const cases: { env: Envelope; field: RegExp }[] = [
    { env: { ...base, kind: 'horizontal.train-result', header: { round: 1, numExamples: 3.5, trainMs: 1 }, tensors: [{ name: 'params', shape: [1], data: new Float32Array(1) }] }, field: /numExamples/ },
    { env: { ...base, kind: 'horizontal.train-result', header: { round: 1, numExamples: 3, trainMs: 1 }, tensors: [] }, field: /params/ },
    { env: { ...base, kind: 'horizontal.setup-result', header: { numTrain: -1, numTest: 2, dim: 3 }, tensors: [] }, field: /numTrain/ },
    { env: { ...base, kind: 'horizontal.evaluate-result', header: { round: 1, summary: { n: 'many' } }, tensors: [] }, field: /summary|n/ },
    { env: { ...base, kind: 'horizontal.stats-result', header: null, tensors: [] }, field: /header/ },
    { env: { ...base, kind: 'horizontal.bogus', header: {}, tensors: [] }, field: /unknown reply kind/ },
  ];
  for (const c of cases) {
    assert.throws(() => decodeReply(c.env, 'p7'), (err: unknown) => err instanceof Error && /p7/.test(err.message) && c.field.test(err.message), c.env.kind);
  }
});

test('a request with out-of-range instructions is refused before any training', () => {
  const env: Envelope = {
    kind: 'horizontal.train', correlationId: 'c', sender: 'coordinator', receiver: 'p1', jobId: 'j', round: 1,
    header: { instructions: { epochs: 0, batchSize: 16, learningRate: 0.1 } },
    tensors: [{ name: 'params', shape: [2], data: new Float32Array(2) }],
  };
  assert.throws(() => decodeRequest(env), (err: unknown) => err instanceof ValidationError && /epochs/.test(err.message));
});

test('an evaluation summary travels sparse and arrives identical, and a sparse histogram pointing outside the bins is refused', async () => {
  const { summarize } = await import('../../core/metrics.js');
  const summary = summarize(Float32Array.from([0.1, 0.9, 0.8, 0.3]), Float32Array.from([0, 1, 1, 0]), 4, 2);
  const reply: HorizontalReply = { step: 'evaluate-result', from: 'participant', to: 'coordinator', payload: { round: 3, summary } };
  const body = encodeReply('j', 3, reply);
  assert.ok(JSON.stringify(body.header).length < 400, 'sparse on the wire');
  assert.deepEqual(decodeReply(wire(body, 'p1', 'coordinator'), 'p1'), reply);
  const bad = wire(body, 'p1', 'coordinator');
  const header = bad.header as { summary: { positives: number[][] } };
  header.summary.positives = [[99999, 1]];
  assert.throws(() => decodeReply(bad, 'p1'), (err: unknown) => err instanceof ValidationError && /p1/.test(err.message) && /out of range/.test(err.message));
});
