import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EduFedError } from '../../core/errors.js';
import { createCkks, DEFAULT_CKKS_PARAMS } from '../../crypto/ckks.js';
import { decodeEnvelope, encodeEnvelope } from '../../transport/envelope.js';
import type { HorizontalReply, TrainRequest } from '../horizontal/protocol.js';
import type { SecureRoundInput } from '../secure-round.js';
import { CkksClient } from './client.js';
import { decodeCkksReply, decodeCkksRequest, encodeCkksReply, encodeCkksRequest } from './codec.js';
import { DEFAULT_CKKS_CONFIG, type CkksConfig } from './index.js';
import type { CkksReply, CkksRequest } from './protocol.js';
import { ckksRound, type CkksCall } from './server.js';

const JOB = 'job-ckks';
const DIM = 5000; // two ciphertexts

/** A fake platform: its training moves the global model by a fixed, known delta. */
interface Fake {
  readonly delta: Float32Array;
  readonly examples: number;
}

function fakeDelta(seed: number): Float32Array {
  let s = seed * 2654435761;
  return Float32Array.from({ length: DIM }, () => {
    s = (s * 1103515245 + 12345) >>> 0;
    return (s / 2 ** 32 - 0.5) * 0.02 * seed;
  });
}

function trainWith(fake: Fake): (req: TrainRequest) => Promise<HorizontalReply> {
  return (req) => {
    const params = req.payload.params.map((g, i) => g + (fake.delta[i] as number));
    return Promise.resolve({
      step: 'train-result',
      from: 'participant',
      to: 'coordinator',
      payload: { round: req.payload.round, params, numExamples: fake.examples, loss: 0.1 * fake.examples, trainMs: 3 },
    });
  };
}

/** Faults injected by id and step: throw (no reply), or answer with something else. */
type Fault = (participantId: string, req: CkksRequest) => 'drop' | CkksReply | undefined;

/** Participants behind the real codecs; records every reply's wire bytes. */
class Federation {
  readonly clients = new Map<string, CkksClient>();
  readonly fakes = new Map<string, Fake>();
  readonly replyBytes: { participantId: string; step: string; bytes: Uint8Array }[] = [];
  readonly requests: { participantId: string; step: string }[] = [];
  readonly requestBytes: Uint8Array[] = [];
  fault: Fault = () => undefined;

  constructor(ids: readonly string[], options: { minInputs?: number } = {}) {
    ids.forEach((id, k) => this.add(id, { delta: fakeDelta(k + 1), examples: 10 * (k + 1) }, options));
  }

  add(id: string, fake: Fake, options: { minInputs?: number } = {}): void {
    this.clients.set(id, new CkksClient(id, options));
    this.fakes.set(id, fake);
  }

  readonly call: CkksCall = async (participantId, req) => {
    this.requests.push({ participantId, step: req.step });
    const injected = this.fault(participantId, req);
    if (injected === 'drop') throw new Error('no reply within the deadline');
    if (injected !== undefined) return injected;
    const client = this.clients.get(participantId);
    const fake = this.fakes.get(participantId);
    if (client === undefined || fake === undefined) throw new Error('disconnected');
    const sent = encodeEnvelope({ ...encodeCkksRequest(JOB, req), correlationId: 'c', sender: 'coordinator', receiver: participantId });
    this.requestBytes.push(sent);
    const onWire = decodeEnvelope(sent);
    const reply = await client.handle(JOB, decodeCkksRequest(onWire), trainWith(fake));
    const round = req.step === 'ckks-collect' ? req.payload.train.round : req.step === 'ckks-decrypt' ? req.payload.round : 0;
    const bytes = encodeEnvelope({ ...encodeCkksReply(JOB, round, reply), correlationId: 'c', sender: participantId, receiver: 'coordinator' });
    this.replyBytes.push({ participantId, step: reply.step, bytes });
    return decodeCkksReply(decodeEnvelope(bytes), participantId);
  };

  /** Σ w_k (x_k − global) in float64, as the participants compute it. */
  expected(ids: readonly string[], global: Float32Array, weighting: CkksConfig['weighting']): { sum: Float64Array; weight: number } {
    const sum = new Float64Array(DIM);
    let weight = 0;
    for (const id of ids) {
      const fake = this.fakes.get(id) as Fake;
      const w = weighting === 'examples' ? fake.examples : 1;
      weight += w;
      for (let i = 0; i < DIM; i++) sum[i] = (sum[i] as number) + w * (Math.fround((global[i] as number) + (fake.delta[i] as number)) - (global[i] as number));
    }
    return { sum, weight };
  }
}

function input(round: number, selected: readonly string[], global: Float32Array, minParticipants = 2): SecureRoundInput {
  return {
    jobId: JOB,
    round,
    selected,
    global,
    instructions: { epochs: 1, batchSize: 8, learningRate: 0.1 },
    evaluate: false,
    timeoutMs: 5000,
    minParticipants,
  };
}

const global = Float32Array.from({ length: DIM }, (_, i) => Math.sin(i));

async function bound(inputs: number): Promise<number> {
  const ckks = await createCkks(DEFAULT_CKKS_PARAMS);
  try {
    return ckks.errorBound(inputs, 1e4);
  } finally {
    ckks.dispose();
  }
}

function maxAbsDiff(a: Float64Array, b: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

const steps = (fed: Federation, step: string): string[] => fed.requests.filter((r) => r.step === step).map((r) => r.participantId);

describe('ckks round (coordinator)', () => {
  it('the aggregate equals the plaintext weighted sum, and a later round reuses the key', async () => {
    // Prepare
    const ids = ['p1', 'p2', 'p3'];
    const fed = new Federation(ids);
    const runner = ckksRound(DEFAULT_CKKS_CONFIG, fed.call);
    // Execute
    const out = await runner(input(1, ids, global));
    const again = await runner(input(2, ids, global));
    // Assert
    const { sum, weight } = fed.expected(ids, global, 'examples');
    assert.deepEqual(out.survivors, ids);
    assert.deepEqual(out.dropped, []);
    assert.equal(out.weightSum, weight);
    assert.ok(maxAbsDiff(out.weightedDeltaSum, sum) <= (await bound(3)), `error ${maxAbsDiff(out.weightedDeltaSum, sum)}`);
    assert.equal(out.meta.get('p2')?.loss, 2);
    assert.ok(maxAbsDiff(again.weightedDeltaSum, sum) <= (await bound(3)));
    assert.deepEqual(steps(fed, 'ckks-keygen'), ['p1'], 'one key for the job');
    assert.deepEqual(steps(fed, 'ckks-hello').sort(), ids, 'no second key setup');
  });

  it('uniform weighting sums the unweighted deltas and counts each participant once', async () => {
    const ids = ['a', 'b'];
    const fed = new Federation(ids);
    const out = await ckksRound({ ...DEFAULT_CKKS_CONFIG, weighting: 'uniform' }, fed.call)(input(1, ids, global));
    const { sum } = fed.expected(ids, global, 'uniform');
    assert.equal(out.weightSum, 2);
    assert.ok(maxAbsDiff(out.weightedDeltaSum, sum) <= (await bound(2)));
  });

  it("the coordinator's received bytes never contain an individual delta, weighted delta or trained model in the clear", async () => {
    // Prepare
    const ids = ['p1', 'p2', 'p3'];
    const fed = new Federation(ids);
    // Execute
    await ckksRound(DEFAULT_CKKS_CONFIG, fed.call)(input(1, ids, global));
    // Assert: search every reply for runs of 4 consecutive values of each individual vector.
    const haystacks = fed.replyBytes.map((r) => Buffer.from(r.bytes));
    assert.ok(fed.replyBytes.some((r) => r.step === 'ckks-collect-result'));
    // Control: the same search finds the global model, which the requests do carry in the clear.
    assert.ok(fed.requestBytes.some((b) => Buffer.from(b).indexOf(Buffer.from(global.buffer, 997 * 4, 16)) !== -1));
    for (const id of ids) {
      const fake = fed.fakes.get(id) as Fake;
      const trained = global.map((g, i) => g + (fake.delta[i] as number));
      const weighted = Float64Array.from(fake.delta, (d, i) => fake.examples * (Math.fround((global[i] as number) + d) - (global[i] as number)));
      for (let start = 0; start < DIM; start += 997) {
        const needles = [
          Buffer.from(fake.delta.buffer, start * 4, 16),
          Buffer.from(trained.buffer, start * 4, 16),
          Buffer.from(weighted.buffer, start * 8, 32),
          Buffer.from(Float32Array.from(weighted.subarray(start, start + 4)).buffer),
        ];
        for (const needle of needles) for (const hay of haystacks) assert.equal(hay.indexOf(needle), -1, `${id} at ${start}`);
      }
    }
  });

  it('a participant dropped at collect leaves the sum of the others', async () => {
    const ids = ['p1', 'p2', 'p3'];
    const fed = new Federation(ids);
    fed.fault = (id, req) => (id === 'p2' && req.step === 'ckks-collect' ? 'drop' : undefined);
    const out = await ckksRound(DEFAULT_CKKS_CONFIG, fed.call)(input(1, ids, global));
    const { sum, weight } = fed.expected(['p1', 'p3'], global, 'examples');
    assert.deepEqual(out.survivors, ['p1', 'p3']);
    assert.deepEqual(
      out.dropped.map((d) => [d.participantId, d.flagged]),
      [['p2', false]],
    );
    assert.equal(out.weightSum, weight);
    assert.ok(maxAbsDiff(out.weightedDeltaSum, sum) <= (await bound(2)));
  });

  it('when the first decryptor refuses, the next survivor decrypts', async () => {
    // Prepare: p1 (first by id) only decrypts sums of at least 10 inputs.
    const fed = new Federation(['p2', 'p3']);
    fed.add('p1', { delta: fakeDelta(9), examples: 5 }, { minInputs: 10 });
    const ids = ['p1', 'p2', 'p3'];
    // Execute
    const out = await ckksRound(DEFAULT_CKKS_CONFIG, fed.call)(input(1, ids, global));
    // Assert
    assert.deepEqual(steps(fed, 'ckks-decrypt'), ['p1', 'p2']);
    assert.ok(fed.replyBytes.some((r) => r.participantId === 'p1' && r.step === 'ckks-error'));
    const { sum } = fed.expected(ids, global, 'examples');
    assert.ok(maxAbsDiff(out.weightedDeltaSum, sum) <= (await bound(3)));
  });

  it('a participant that joins later gets the key from a holder and contributes', async () => {
    const fed = new Federation(['p1', 'p2', 'p3']);
    const runner = ckksRound(DEFAULT_CKKS_CONFIG, fed.call);
    await runner(input(1, ['p2', 'p3'], global));
    const out = await runner(input(2, ['p1', 'p2', 'p3'], global));
    assert.deepEqual(steps(fed, 'ckks-keygen'), ['p2']);
    assert.deepEqual(steps(fed, 'ckks-share'), ['p2'], 'a holder re-seals the key for the newcomer');
    assert.deepEqual(out.survivors, ['p1', 'p2', 'p3']);
    const { sum } = fed.expected(['p1', 'p2', 'p3'], global, 'examples');
    assert.ok(maxAbsDiff(out.weightedDeltaSum, sum) <= (await bound(3)));
  });

  it('a participant that lost its key is dropped for that round and reinstalled for the next', async () => {
    const ids = ['p1', 'p2', 'p3'];
    const fed = new Federation(ids);
    const runner = ckksRound(DEFAULT_CKKS_CONFIG, fed.call);
    await runner(input(1, ids, global));
    fed.clients.set('p3', new CkksClient('p3')); // a restarted process
    const second = await runner(input(2, ids, global));
    const third = await runner(input(3, ids, global));
    assert.deepEqual(second.survivors, ['p1', 'p2']);
    assert.match(second.dropped[0]?.reason ?? '', /holds no CKKS key/);
    assert.deepEqual(third.survivors, ids);
    assert.deepEqual(steps(fed, 'ckks-share'), ['p1']);
  });

  it('when the first leader fails key generation, the next one creates the key', async () => {
    const ids = ['p1', 'p2', 'p3'];
    const fed = new Federation(ids);
    fed.fault = (id, req) => (id === 'p1' && req.step === 'ckks-keygen' ? 'drop' : undefined);
    const out = await ckksRound(DEFAULT_CKKS_CONFIG, fed.call)(input(1, ids, global));
    assert.deepEqual(steps(fed, 'ckks-keygen'), ['p1', 'p2']);
    assert.deepEqual(out.survivors, ['p2', 'p3']);
    assert.match(out.dropped[0]?.reason ?? '', /ckks-keygen/);
  });

  it('invalid ciphertexts are flagged and left out of the sum', async () => {
    const ids = ['p1', 'p2', 'p3'];
    const fed = new Federation(ids);
    fed.fault = (id, req) =>
      id === 'p3' && req.step === 'ckks-collect'
        ? { step: 'ckks-collect-result', from: 'participant', to: 'coordinator', payload: { round: 1, ciphertexts: [new Uint8Array(900), new Uint8Array(900)], meta: { loss: 0, trainMs: 0 } } }
        : undefined;
    const out = await ckksRound(DEFAULT_CKKS_CONFIG, fed.call)(input(1, ids, global));
    assert.deepEqual(out.survivors, ['p1', 'p2']);
    assert.deepEqual(
      out.dropped.map((d) => [d.participantId, d.flagged]),
      [['p3', true]],
    );
    assert.ok(maxAbsDiff(out.weightedDeltaSum, fed.expected(['p1', 'p2'], global, 'examples').sum) <= (await bound(2)));
  });

  it('below the quorum the round fails with code ROUND and no decryption is asked', async () => {
    const ids = ['p1', 'p2', 'p3'];
    const fed = new Federation(ids);
    fed.fault = (id, req) => (id !== 'p1' && req.step === 'ckks-collect' ? 'drop' : undefined);
    await assert.rejects(ckksRound(DEFAULT_CKKS_CONFIG, fed.call)(input(1, ids, global, 2)), (e: unknown) => e instanceof EduFedError && e.code === 'ROUND');
    assert.deepEqual(steps(fed, 'ckks-decrypt'), []);
    // The configured minimum of inputs counts even when the round's quorum is lower.
    const solo = new Federation(['p1']);
    await assert.rejects(ckksRound(DEFAULT_CKKS_CONFIG, solo.call)(input(1, ['p1'], global, 1)), /quorum is 2/);
  });

  it('a round with more participants than maxInputs is refused', async () => {
    const fed = new Federation(['p1', 'p2', 'p3']);
    await assert.rejects(ckksRound({ ...DEFAULT_CKKS_CONFIG, maxInputs: 2 }, fed.call)(input(1, ['p1', 'p2', 'p3'], global)), /at most 2 inputs/);
  });
});
