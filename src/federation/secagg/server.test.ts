import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, EduFedError } from '../../core/errors.js';
import { seededRng } from '../../core/rng.js';
import type { HorizontalReply, TrainRequest } from '../horizontal/protocol.js';
import type { SecureRoundInput } from '../secure-round.js';
import { decodeEnvelope, encodeEnvelope } from '../../transport/envelope.js';
import { SecAggPlusClient } from './client.js';
import { decodeReply, decodeRequest, encodeReply, encodeRequest } from './codec.js';
import type { SecAggReply, SecAggRequest } from './protocol.js';
import { quantizationLevels, quantizeWeightedDelta, updateWeight } from './quantize.js';
import { DEFAULT_SECAGG_CONFIG, planSecAggRound, secAggPlusRound, validateSecAggConfig, type SecAggCall, type SecAggPlusConfig } from './server.js';

type Stage = 'setup' | 'share-keys' | 'collect' | 'unmask';
const STAGE: Record<SecAggRequest['step'], Stage> = { 'secagg-setup': 'setup', 'secagg-share-keys': 'share-keys', 'secagg-collect': 'collect', 'secagg-unmask': 'unmask' };
const M = 40;
const JOB = 'job-s';

interface Member {
  readonly id: string;
  readonly seed: number;
  readonly client: SecAggPlusClient;
  readonly params: Float32Array;
  readonly numExamples: number;
}

/** n fake participants whose training returns known parameters: global + a deterministic delta in about ±0.6. */
function federation(n: number) {
  const ids = Array.from({ length: n }, (_, i) => `p${i}`);
  const global = Float32Array.from({ length: M }, (_, i) => 0.3 * Math.sin(i + 1));
  const members = new Map<string, Member>(
    ids.map((id, i) => [
      id,
      {
        id,
        seed: 1000 + i,
        client: new SecAggPlusClient(id, { rng: seededRng(1000 + i) }),
        params: Float32Array.from(global, (g, j) => g + 0.6 * Math.cos(3 * i + j) * (j === 7 ? 20 : 1)),
        numExamples: 50 + 137 * i,
      },
    ]),
  );
  return { ids, global, members };
}

interface Harness {
  /** Participants failing (rejecting, as on a timeout) at a stage. */
  readonly failAt?: ReadonlyMap<string, Stage>;
  /** Route every message through the codec and the binary envelope (default true). */
  readonly wire?: boolean;
  /** Rewrites a reply before the coordinator sees it. */
  readonly tamper?: (id: string, req: SecAggRequest, reply: SecAggReply) => SecAggReply;
  /** Every request sent and every reply received, in order. */
  readonly log?: { id: string; req: SecAggRequest; reply?: SecAggReply }[];
}

function caller(members: ReadonlyMap<string, Member>, h: Harness = {}): SecAggCall {
  return async (id, req) => {
    const entry: { id: string; req: SecAggRequest; reply?: SecAggReply } = { id, req };
    h.log?.push(entry);
    const m = members.get(id);
    if (m === undefined) throw new Error('not connected');
    if (h.failAt?.get(id) === STAGE[req.step]) throw new Error(`no reply within 1000 ms (${STAGE[req.step]})`);
    const train = async (t: TrainRequest): Promise<HorizontalReply> => ({
      step: 'train-result',
      from: 'participant',
      to: 'coordinator',
      payload: { round: t.payload.round, params: m.params, numExamples: m.numExamples, loss: 0.4, trainMs: 1.5 },
    });
    let reply: SecAggReply;
    if (h.wire === false) {
      reply = await m.client.handle(JOB, req, train);
    } else {
      const envReq = decodeEnvelope(encodeEnvelope({ ...encodeRequest(JOB, req), correlationId: 'c', sender: 'coordinator', receiver: id }));
      const answer = await m.client.handle(envReq.jobId, decodeRequest(envReq), train);
      const envReply = decodeEnvelope(encodeEnvelope({ ...encodeReply(envReq.jobId, envReq.round, answer), correlationId: 'c', sender: id, receiver: 'coordinator' }));
      reply = decodeReply(envReply, id, req.step === 'secagg-collect' ? { maskedLength: req.payload.train.params.length + 1 } : {});
    }
    const final = h.tamper !== undefined ? h.tamper(id, req, reply) : reply;
    entry.reply = final;
    return final;
  };
}

function input(ids: readonly string[], global: Float32Array, round = 1, minParticipants = 1): SecureRoundInput {
  return { jobId: JOB, round, selected: ids, global, instructions: { epochs: 1, batchSize: 16, learningRate: 0.1 }, evaluate: false, timeoutMs: 1000, minParticipants };
}

/** The plaintext Σ w_k·clip(Δ_k) and Σ w_k over `survivors`. */
function plaintextSum(members: ReadonlyMap<string, Member>, survivors: readonly string[], global: Float32Array, cfg: SecAggPlusConfig) {
  const sum = new Float64Array(M);
  let weightSum = 0;
  for (const id of survivors) {
    const m = members.get(id) as Member;
    const w = updateWeight(m.numExamples, cfg.weighting, cfg.maxWeight);
    weightSum += w;
    for (let i = 0; i < M; i++) sum[i] = (sum[i] as number) + w * Math.max(-cfg.clipRange, Math.min(cfg.clipRange, (m.params[i] as number) - (global[i] as number)));
  }
  return { sum, weightSum };
}

function assertClose(actual: Float64Array, expected: Float64Array, tol: number): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < actual.length; i++) assert.ok(Math.abs((actual[i] as number) - (expected[i] as number)) <= tol, `element ${i}: ${actual[i]} vs ${expected[i]} (tolerance ${tol})`);
}

const CFG: SecAggPlusConfig = { ...DEFAULT_SECAGG_CONFIG, clipRange: 4 };

function checkRound(out: Awaited<ReturnType<ReturnType<typeof secAggPlusRound>>>, members: ReadonlyMap<string, Member>, global: Float32Array): void {
  const { sum, weightSum } = plaintextSum(members, out.survivors, global, CFG);
  const step = 1 / quantizationLevels(CFG.quantizationBits);
  // Per input: one step of rounding on w·Δ (2·clip/levels) and one on w (scaled by |Δ| ≤ clip).
  assertClose(out.weightedDeltaSum, sum, out.survivors.length * 3 * CFG.clipRange * step);
  assert.ok(Math.abs(out.weightSum - weightSum) <= out.survivors.length * step, `weightSum ${out.weightSum} vs ${weightSum}`);
}

test('an 8-participant round over the binary wire decodes to the plaintext weighted sum within quantisation error, clipping included', async () => {
  // Prepare
  const { ids, global, members } = federation(8);
  const round = secAggPlusRound(CFG, caller(members), seededRng(5));
  // Execute
  const out = await round(input(ids, global));
  // Assert
  assert.deepEqual(out.survivors, ids);
  assert.deepEqual(out.dropped, []);
  checkRound(out, members, global);
  assert.equal(out.meta.get('p3')?.loss, 0.4);
  assert.ok((out.bytes?.sent ?? 0) > 8 * M * 4 && (out.bytes?.received ?? 0) > 8 * (M + 1) * 4);
  assert.ok([...members.values()].every((m) => m.client.liveRounds === 0), 'participants wiped their secrets');
});

for (const stage of ['setup', 'share-keys', 'collect', 'unmask'] as const) {
  test(`a participant dropping at ${stage} leaves a correct sum ${stage === 'unmask' ? 'that still includes its input' : 'over the others'}`, async () => {
    // Prepare
    const { ids, global, members } = federation(8);
    const round = secAggPlusRound(CFG, caller(members, { failAt: new Map([['p3', stage]]) }), seededRng(6));
    // Execute
    const out = await round(input(ids, global));
    // Assert
    if (stage === 'unmask') {
      assert.deepEqual(out.survivors, ids);
      assert.deepEqual(out.dropped, []);
      // Its input is in the sum, but the failure is reported, so the round record can say so.
      assert.deepEqual(out.failedAfterInput?.map((d) => d.participantId), ['p3']);
      assert.match(out.failedAfterInput?.[0]?.reason ?? '', /^secagg unmask: /);
    } else {
      assert.deepEqual(out.survivors, ids.filter((id) => id !== 'p3'));
      assert.equal(out.dropped.length, 1);
      assert.equal(out.dropped[0]?.participantId, 'p3');
      assert.match(out.dropped[0]?.reason ?? '', new RegExp(`^secagg ${stage}: no reply within`));
      assert.equal(out.dropped[0]?.flagged, false);
    }
    checkRound(out, members, global);
  });
}

test('dropouts at every stage of one round (setup, share-keys, two at collect, unmask) are all survived on the complete graph with t = 7 of 12', async () => {
  const { ids, global, members } = federation(12);
  const failAt = new Map<string, Stage>([['p1', 'setup'], ['p4', 'share-keys'], ['p6', 'collect'], ['p8', 'collect'], ['p9', 'unmask']]);
  const out = await secAggPlusRound({ ...CFG, neighbours: 11, threshold: 7 }, caller(members, { failAt }), seededRng(8))(input(ids, global));
  assert.deepEqual(out.survivors, ['p0', 'p10', 'p11', 'p2', 'p3', 'p5', 'p7', 'p9']);
  assert.deepEqual(out.dropped.map((d) => d.participantId), ['p1', 'p4', 'p6', 'p8']);
  checkRound(out, members, global);
});

test('below the threshold the round throws the ROUND error: too many dropouts at setup', async () => {
  const { ids, global, members } = federation(8);
  const failAt = new Map<string, Stage>(['p0', 'p1', 'p2', 'p3', 'p4', 'p5'].map((id) => [id, 'setup']));
  await assert.rejects(
    secAggPlusRound(CFG, caller(members, { failAt }), seededRng(6))(input(ids, global)),
    (e: unknown) => e instanceof EduFedError && e.code === 'ROUND' && /^secure aggregation aborted in round 1: only \d of t = 3 shares of "p\d"'s secrets can still arrive after setup/.test(e.message),
  );
});

test('below the threshold at unmask the round throws before reconstructing: a survivor whose neighbours vanish keeps its input masked', async () => {
  // Prepare: find p0's neighbours from its setup request, and make three of its four neighbours fail the unmask step.
  const { ids, global, members } = federation(8);
  const log: { id: string; req: SecAggRequest; reply?: SecAggReply }[] = [];
  const failAt = new Map<string, Stage>();
  const call = caller(members, { log, failAt });
  const spying: SecAggCall = (id, req, opts) => {
    if (req.step === 'secagg-setup' && id === 'p0') for (const v of req.payload.config.neighbours.slice(0, 3)) failAt.set(v, 'unmask');
    return call(id, req, opts);
  };
  // Execute / Assert
  await assert.rejects(
    secAggPlusRound(CFG, spying, seededRng(6))(input(ids, global)),
    (e: unknown) => e instanceof EduFedError && e.code === 'ROUND' && /only 2 of t = 3 shares of "p0"'s self-mask seed arrived/.test(e.message),
  );
  assert.equal(failAt.size, 3);
});

test('a round below the quorum throws ROUND even when the threshold holds', async () => {
  const { ids, global, members } = federation(8);
  await assert.rejects(
    secAggPlusRound(CFG, caller(members, { failAt: new Map([['p2', 'collect']]) }), seededRng(6))(input(ids, global, 1, 8)),
    (e: unknown) => e instanceof EduFedError && e.code === 'ROUND' && /only 7 masked inputs arrived, quorum is 8/.test(e.message),
  );
});

test('a masked input of the wrong length is dropped and flagged, and its masks are still removed from the others', async () => {
  const { ids, global, members } = federation(8);
  const tamper = (id: string, _req: SecAggRequest, reply: SecAggReply): SecAggReply =>
    id === 'p5' && reply.step === 'secagg-collect-result' ? { ...reply, payload: { ...reply.payload, masked: reply.payload.masked.subarray(0, M) } } : reply;
  const out = await secAggPlusRound(CFG, caller(members, { tamper, wire: false }), seededRng(6))(input(ids, global));
  assert.deepEqual(out.dropped.map((d) => [d.participantId, d.flagged]), [['p5', true]]);
  assert.match(out.dropped[0]?.reason ?? '', /^secagg collect: masked input must be/);
  checkRound(out, members, global);
});

test('a wrong mask-key share is caught by the dropped participant\'s announced public key, not folded silently into the sum', async () => {
  const { ids, global, members } = federation(8);
  let corrupted = 0;
  const tamper = (_id: string, _req: SecAggRequest, reply: SecAggReply): SecAggReply => {
    if (reply.step !== 'secagg-unmask-result' || reply.payload.sShares.length === 0) return reply;
    corrupted++;
    const sShares = reply.payload.sShares.map((s) => ({ owner: s.owner, share: Uint8Array.from(s.share, (b, i) => (i === 65 ? b ^ 1 : b)) }));
    return { ...reply, payload: { ...reply.payload, sShares } };
  };
  await assert.rejects(
    secAggPlusRound(CFG, caller(members, { tamper, failAt: new Map([['p2', 'collect']]) }), seededRng(6))(input(ids, global)),
    (e: unknown) => e instanceof EduFedError && e.code === 'ROUND' && /mask key of dropped "p2" reconstructed from its shares does not match its public key/.test(e.message),
  );
  assert.ok(corrupted > 0);
});

test('nothing the coordinator receives contains any participant\'s quantised input or its raw parameters', async () => {
  // Prepare: log every reply, with one dropout so that mask keys are revealed too.
  const { ids, global, members } = federation(8);
  const log: { id: string; req: SecAggRequest; reply?: SecAggReply }[] = [];
  await secAggPlusRound(CFG, caller(members, { log, failAt: new Map([['p6', 'collect']]) }), seededRng(6))(input(ids, global));
  // The exact quantised input of each participant: same seeded rounding as its client.
  const quantised = [...members.values()].map((m) =>
    quantizeWeightedDelta(global, m.params, updateWeight(m.numExamples, CFG.weighting, CFG.maxWeight), CFG.clipRange, CFG.quantizationBits, seededRng(m.seed)),
  );
  const needles = [...members.values()].flatMap((m, k) => [
    Buffer.from((quantised[k] as Uint32Array).buffer, 4, 16),
    Buffer.from(m.params.buffer, 0, 16),
    Buffer.from(Float32Array.from(m.params, (p, i) => p - (global[i] as number)).buffer, 0, 16),
  ]);
  const haystacks = (replies: readonly SecAggReply[]): Buffer[] =>
    replies.flatMap((r): Buffer[] => {
      switch (r.step) {
        case 'secagg-setup-result':
          return [Buffer.from(r.payload.cPk), Buffer.from(r.payload.sPk)];
        case 'secagg-share-keys-result':
          return r.payload.shares.map((s) => Buffer.from(s.ciphertext));
        case 'secagg-collect-result':
          return [Buffer.from(r.payload.masked.buffer, r.payload.masked.byteOffset, r.payload.masked.byteLength), Buffer.from(JSON.stringify(r.payload.meta))];
        case 'secagg-unmask-result':
          return [...r.payload.bShares, ...r.payload.sShares].map((s) => Buffer.from(s.share));
        case 'secagg-error':
          return [Buffer.from(r.payload.message)];
      }
    });
  const found = (hay: readonly Buffer[]): number => needles.filter((n) => hay.some((h) => h.includes(n))).length;
  const masked = log.flatMap((e) => (e.reply?.step === 'secagg-collect-result' ? [e.reply.payload.masked] : []));
  const coinciding = (vectors: readonly Uint32Array[]): number => Math.max(...vectors.flatMap((v) => quantised.map((q) => q.filter((x, i) => v[i] === x).length)));
  // Execute / Assert
  const received = log.flatMap((e) => (e.reply !== undefined ? [e.reply] : []));
  assert.equal(masked.length, 7);
  assert.equal(found(haystacks(received)), 0, 'no quantised input, parameter or delta bytes in any reply');
  assert.ok(coinciding(masked) <= 2, 'masked vectors agree with quantised inputs only by chance');
  // The scan can fail: an unmasked vector among the replies is found.
  const leaked: SecAggReply = { step: 'secagg-collect-result', from: 'participant', to: 'coordinator', payload: { round: 1, masked: quantised[3] as Uint32Array, meta: { loss: 0, trainMs: 0 } } };
  assert.ok(found(haystacks([...received, leaked])) > 0);
  assert.equal(coinciding([...masked, quantised[3] as Uint32Array]), M + 1);
});

test('the neighbourhood graph and threshold: fractions resolve per round, t is a strict majority, and an integer t above k + 1 refuses to run', () => {
  const ids = Array.from({ length: 100 }, (_, i) => `p${i}`);
  const plan = planSecAggRound(DEFAULT_SECAGG_CONFIG, ids, seededRng(1));
  // Half of the other 99 is 50, capped at the logarithmic neighbourhood ⌈4·log2 100⌉ = 27; t is a majority of 28.
  assert.equal(plan.graph.degree, 27);
  assert.equal(plan.threshold, 15);
  const thirteen = planSecAggRound(DEFAULT_SECAGG_CONFIG, ids.slice(0, 13), seededRng(1));
  assert.deepEqual([thirteen.graph.degree, thirteen.threshold], [6, 4], 'half of 12 others, below the cap');
  const small = planSecAggRound({ ...DEFAULT_SECAGG_CONFIG, neighbours: 4, threshold: 2 }, ids, seededRng(1));
  assert.equal(small.threshold, 3, 'raised to a majority of 5');
  assert.throws(() => planSecAggRound({ ...DEFAULT_SECAGG_CONFIG, neighbours: 10, threshold: 9 }, ids.slice(0, 5), seededRng(1)), (e: unknown) => e instanceof EduFedError && e.code === 'ROUND');
  const three = planSecAggRound(DEFAULT_SECAGG_CONFIG, ids.slice(0, 3), seededRng(1));
  assert.deepEqual([three.graph.degree, three.threshold], [2, 2]);
});

test('the same job, round and seed draw the same graph (a resumed job agrees with the interrupted one)', async () => {
  const { ids, global, members } = federation(8);
  const neighboursSeen = async (): Promise<string> => {
    const log: { id: string; req: SecAggRequest }[] = [];
    await secAggPlusRound(CFG, caller(members, { log }), seededRng(77))(input(ids, global, 4));
    return JSON.stringify(log.flatMap((e) => (e.req.step === 'secagg-setup' ? [[e.id, e.req.payload.config.neighbours]] : [])));
  };
  assert.equal(await neighboursSeen(), await neighboursSeen());
});

test('validateSecAggConfig fills defaults and refuses bad values with a ConfigError naming the field', () => {
  assert.deepEqual(validateSecAggConfig(undefined), DEFAULT_SECAGG_CONFIG);
  assert.deepEqual(validateSecAggConfig({ threshold: 4, neighbours: 6, clipRange: 2 }), { ...DEFAULT_SECAGG_CONFIG, threshold: 4, neighbours: 6, clipRange: 2 });
  const cases: [unknown, string][] = [
    ['yes', 'privacy.secAgg'],
    [{ numShares: 3 }, 'privacy.secAgg.numShares'],
    [{ neighbours: 0 }, 'privacy.secAgg.neighbours'],
    [{ neighbours: 2.5 }, 'privacy.secAgg.neighbours'],
    [{ threshold: 1 }, 'privacy.secAgg.threshold'],
    [{ neighbours: 6, threshold: 3 }, 'privacy.secAgg.threshold'],
    [{ neighbours: 2, threshold: 4 }, 'privacy.secAgg.threshold'],
    [{ clipRange: 0 }, 'privacy.secAgg.clipRange'],
    [{ quantizationBits: 32 }, 'privacy.secAgg.quantizationBits'],
    [{ maxWeight: -1 }, 'privacy.secAgg.maxWeight'],
    [{ weighting: 'loss' }, 'privacy.secAgg.weighting'],
    [{ clipRange: '8' }, 'privacy.secAgg.clipRange'],
  ];
  for (const [value, field] of cases) assert.throws(() => validateSecAggConfig(value), (e: unknown) => e instanceof ConfigError && e.field === field, field);
});

test('a round too large for the quantisation bits is refused as a configuration error before anything is sent', async () => {
  const { ids, global, members } = federation(3);
  const log: { id: string; req: SecAggRequest }[] = [];
  await assert.rejects(secAggPlusRound({ ...CFG, quantizationBits: 31 }, caller(members, { log }), seededRng(1))(input(ids, global)), (e: unknown) => e instanceof ConfigError && e.field === 'quantizationBits');
  assert.equal(log.length, 0);
});
