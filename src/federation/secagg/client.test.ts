import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRng } from '../../core/rng.js';
import { addMask } from '../../crypto/prg.js';
import { shamir521, type Share } from '../../crypto/shamir.js';
import type { HorizontalReply, TrainRequest } from '../horizontal/protocol.js';
import { SecAggPlusClient, type SecAggTrain } from './client.js';
import { shareCoordinates, type SecAggReply, type SecAggSetupConfig } from './protocol.js';
import { quantizeWeightedDelta, ringAdd, updateWeight } from './quantize.js';

const JOB = 'job-1';
const ROUND = 3;
const M = 16;
const BASE = { clipRange: 2, quantizationBits: 20, weighting: 'examples' as const, maxWeight: 100 };

function trainReturning(params: Float32Array, numExamples: number): SecAggTrain {
  return async (req: TrainRequest): Promise<HorizontalReply> => ({
    step: 'train-result',
    from: 'participant',
    to: 'coordinator',
    payload: { round: req.payload.round, params, numExamples, loss: 0.25, trainMs: 2 },
  });
}

function expectStep<S extends SecAggReply['step']>(reply: SecAggReply, step: S): Extract<SecAggReply, { step: S }> {
  if (reply.step !== step) assert.fail(`expected ${step}, got ${reply.step}${reply.step === 'secagg-error' ? `: ${reply.payload.message}` : ''}`);
  return reply as Extract<SecAggReply, { step: S }>;
}

/** A tiny in-test coordinator over a complete graph, up to the masked inputs. */
async function maskedRound(n: number, t: number) {
  const ids = Array.from({ length: n }, (_, i) => `p${i}`);
  const global = Float32Array.from({ length: M }, (_, i) => Math.sin(i));
  const members = ids.map((id, i) => ({
    id,
    seed: 100 + i,
    client: new SecAggPlusClient(id, { rng: seededRng(100 + i) }),
    params: Float32Array.from(global, (g, j) => g + 0.1 * Math.cos(i + j)),
    numExamples: 10 + 20 * i,
  }));
  const neighbours = (id: string): string[] => ids.filter((x) => x !== id);
  const config = (id: string): SecAggSetupConfig => ({ ...BASE, threshold: t, neighbours: neighbours(id) });
  const keys = new Map<string, { cPk: Uint8Array; sPk: Uint8Array }>();
  for (const m of members) {
    const r = expectStep(await m.client.handle(JOB, { step: 'secagg-setup', from: 'coordinator', to: 'participant', payload: { round: ROUND, config: config(m.id) } }, trainReturning(m.params, m.numExamples)), 'secagg-setup-result');
    keys.set(m.id, { cPk: r.payload.cPk, sPk: r.payload.sPk });
  }
  const inbox = new Map<string, { from: string; ciphertext: Uint8Array }[]>(ids.map((id) => [id, []]));
  for (const m of members) {
    const req = { step: 'secagg-share-keys' as const, from: 'coordinator' as const, to: 'participant' as const, payload: { round: ROUND, keys: neighbours(m.id).map((v) => ({ participantId: v, ...(keys.get(v) as { cPk: Uint8Array; sPk: Uint8Array }) })) } };
    const r = expectStep(await m.client.handle(JOB, req, trainReturning(m.params, m.numExamples)), 'secagg-share-keys-result');
    for (const s of r.payload.shares) inbox.get(s.to)?.push({ from: m.id, ciphertext: s.ciphertext });
  }
  const train = { round: ROUND, params: global, instructions: { epochs: 1, batchSize: 8, learningRate: 0.1 } };
  return { ids, global, members, keys, inbox, train, neighbours };
}

test('masks cancel exactly: Σ masked inputs − Σ PRG(b_u) (b_u rebuilt from the unmask shares) equals Σ quantised inputs, bit for bit', async () => {
  // Prepare
  const { ids, global, members, inbox, train } = await maskedRound(5, 3);
  // Execute: collect every masked input, then every participant's b-shares.
  const sum = new Uint32Array(M + 1);
  for (const m of members) {
    const r = expectStep(await m.client.handle(JOB, { step: 'secagg-collect', from: 'coordinator', to: 'participant', payload: { round: ROUND, train, shares: inbox.get(m.id) ?? [] } }, trainReturning(m.params, m.numExamples)), 'secagg-collect-result');
    ringAdd(sum, r.payload.masked);
  }
  const bShares = new Map<string, Share[]>(ids.map((id) => [id, []]));
  for (const m of members) {
    const r = expectStep(await m.client.handle(JOB, { step: 'secagg-unmask', from: 'coordinator', to: 'participant', payload: { round: ROUND, survivors: ids, dropped: [] } }, trainReturning(m.params, m.numExamples)), 'secagg-unmask-result');
    assert.equal(r.payload.sShares.length, 0);
    for (const { owner, share } of r.payload.bShares) bShares.get(owner)?.push({ x: shareCoordinates(owner, ids.filter((x) => x !== owner)).get(m.id) as number, y: share });
  }
  for (const [, shares] of bShares) addMask(sum, shamir521.combine(shares, 3), -1);
  // Assert: the same seeded rounding, recomputed here, gives exactly the unmasked sum.
  const expected = new Uint32Array(M + 1);
  for (const m of members) {
    ringAdd(expected, quantizeWeightedDelta(global, m.params, updateWeight(m.numExamples, 'examples', BASE.maxWeight), BASE.clipRange, BASE.quantizationBits, seededRng(m.seed)));
  }
  assert.deepEqual(sum, expected);
  assert.ok(members.every((m) => m.client.liveRounds === 0), 'every secret is wiped after unmask');
});

test('one masked input alone is far from its quantised input (the masks do not cancel without the others)', async () => {
  const { global, members, inbox, train } = await maskedRound(4, 3);
  const m = members[0];
  assert.ok(m !== undefined);
  const r = expectStep(await m.client.handle(JOB, { step: 'secagg-collect', from: 'coordinator', to: 'participant', payload: { round: ROUND, train, shares: inbox.get(m.id) ?? [] } }, trainReturning(m.params, m.numExamples)), 'secagg-collect-result');
  const q = quantizeWeightedDelta(global, m.params, updateWeight(m.numExamples, 'examples', BASE.maxWeight), BASE.clipRange, BASE.quantizationBits, seededRng(m.seed));
  const equal = q.filter((v, i) => r.payload.masked[i] === v).length;
  assert.ok(equal <= 1, `${equal} of ${q.length} elements unmasked`);
});

test('an unmask request asking for both the self-mask share and the mask-key share of one participant is refused, and the round state is gone', async () => {
  // Prepare
  const { ids, members, inbox, train } = await maskedRound(5, 3);
  for (const m of members) {
    await m.client.handle(JOB, { step: 'secagg-collect', from: 'coordinator', to: 'participant', payload: { round: ROUND, train, shares: inbox.get(m.id) ?? [] } }, trainReturning(m.params, m.numExamples));
  }
  const m = members[0];
  assert.ok(m !== undefined);
  const noTrain = trainReturning(m.params, 1);
  // Execute
  const reply = await m.client.handle(JOB, { step: 'secagg-unmask', from: 'coordinator', to: 'participant', payload: { round: ROUND, survivors: ids, dropped: ['p3'] } }, noTrain);
  const retry = await m.client.handle(JOB, { step: 'secagg-unmask', from: 'coordinator', to: 'participant', payload: { round: ROUND, survivors: ids.filter((x) => x !== 'p3'), dropped: ['p3'] } }, noTrain);
  // Assert
  assert.equal(reply.step, 'secagg-error');
  assert.match(reply.step === 'secagg-error' ? reply.payload.message : '', /"p3" is listed both as a survivor and as dropped; refusing/);
  assert.equal(retry.step, 'secagg-error', 'one unmask per round: a second request finds no secrets');
  assert.match(retry.step === 'secagg-error' ? retry.payload.message : '', /no state for this round/);
  assert.equal(m.client.liveRounds, 0);
});

test('unmask requests that list this participant as dropped, omit it, name strangers or leave fewer than t survivors are refused', async () => {
  const cases: [(ids: string[]) => { survivors: string[]; dropped: string[] }, RegExp][] = [
    [(ids) => ({ survivors: ids.filter((x) => x !== 'p0'), dropped: ['p0'] }), /"p0" is listed as dropped/],
    [(ids) => ({ survivors: ids.filter((x) => x !== 'p0'), dropped: [] }), /not listed as a survivor/],
    [(ids) => ({ survivors: [...ids, 'mallory'], dropped: [] }), /"mallory" is not in this participant's neighbourhood/],
    [() => ({ survivors: ['p0', 'p1'], dropped: ['p2', 'p3', 'p4'] }), /only 2 of the neighbourhood survived, below the threshold 3/],
  ];
  for (const [make, message] of cases) {
    const { ids, members, inbox, train } = await maskedRound(5, 3);
    const m = members[0];
    assert.ok(m !== undefined);
    const t = trainReturning(m.params, m.numExamples);
    await m.client.handle(JOB, { step: 'secagg-collect', from: 'coordinator', to: 'participant', payload: { round: ROUND, train, shares: inbox.get(m.id) ?? [] } }, t);
    const reply = await m.client.handle(JOB, { step: 'secagg-unmask', from: 'coordinator', to: 'participant', payload: { round: ROUND, ...make(ids) } }, t);
    assert.equal(reply.step, 'secagg-error', message.source);
    assert.match(reply.step === 'secagg-error' ? reply.payload.message : '', message);
  }
});

test('a tampered or misaddressed sealed share is detected before any training', async () => {
  for (const tamper of ['flip', 'swap-sender'] as const) {
    // Prepare
    const { members, inbox, train } = await maskedRound(4, 3);
    const m = members[0];
    assert.ok(m !== undefined);
    const shares = (inbox.get(m.id) ?? []).map((s) => ({ ...s, ciphertext: s.ciphertext.slice() }));
    const [first, second] = shares;
    assert.ok(first !== undefined && second !== undefined);
    if (tamper === 'flip') first.ciphertext[40] = (first.ciphertext[40] as number) ^ 1;
    else [first.ciphertext, second.ciphertext] = [second.ciphertext, first.ciphertext];
    let trained = false;
    // Execute
    const reply = await m.client.handle(JOB, { step: 'secagg-collect', from: 'coordinator', to: 'participant', payload: { round: ROUND, train, shares } }, async (req) => {
      trained = true;
      return trainReturning(m.params, 1)(req);
    });
    // Assert
    assert.equal(reply.step, 'secagg-error', tamper);
    assert.match(reply.step === 'secagg-error' ? reply.payload.message : '', /sealed shares from "p\d" failed authentication/);
    assert.equal(trained, false);
    assert.equal(m.client.liveRounds, 0, 'a failed step wipes the round');
  }
});

test('a second collect during training ends the round without masking twice; training failures and unknown rounds come back as error values', async () => {
  const { members, inbox, train } = await maskedRound(4, 3);
  const [a, b] = members;
  assert.ok(a !== undefined && b !== undefined);
  const collect = { step: 'secagg-collect' as const, from: 'coordinator' as const, to: 'participant' as const, payload: { round: ROUND, train, shares: inbox.get(a.id) ?? [] } };
  // A collect that trains slowly, and a second collect for the same round arriving meanwhile.
  let release: () => void = () => undefined;
  const gate = new Promise<void>((r) => (release = r));
  const first = a.client.handle(JOB, collect, async (req) => {
    await gate;
    return trainReturning(a.params, 5)(req);
  });
  const second = await a.client.handle(JOB, collect, trainReturning(a.params, 5));
  release();
  const firstReply = await first;
  // Fail safe: the duplicate is refused and ends the round, so no second input is ever masked under the same masks.
  assert.equal(second.step, 'secagg-error');
  assert.match(second.step === 'secagg-error' ? second.payload.message : '', /out of order: the round is at stage "training"/);
  assert.equal(firstReply.step, 'secagg-error');
  assert.match(firstReply.step === 'secagg-error' ? firstReply.payload.message : '', /reset while training/);
  // Training failure.
  const failed = await b.client.handle(JOB, { ...collect, payload: { ...collect.payload, shares: inbox.get(b.id) ?? [] } }, () => Promise.reject(new Error('disk on fire')));
  assert.match(failed.step === 'secagg-error' ? failed.payload.message : '', /disk on fire/);
  // Unknown round.
  const lost = await b.client.handle(JOB, { step: 'secagg-unmask', from: 'coordinator', to: 'participant', payload: { round: 99, survivors: [], dropped: [] } }, trainReturning(b.params, 1));
  assert.match(lost.step === 'secagg-error' ? lost.payload.message : '', /no state for this round/);
});

test('setup refuses a minority threshold, a neighbour list containing itself, and no neighbours', async () => {
  const client = new SecAggPlusClient('p0');
  const train = trainReturning(new Float32Array(1), 1);
  const cases: [SecAggSetupConfig, RegExp][] = [
    [{ ...BASE, threshold: 2, neighbours: ['p1', 'p2', 'p3'] }, /threshold 2 must be an integer strict majority of the 4 members/],
    [{ ...BASE, threshold: 5, neighbours: ['p1', 'p2', 'p3'] }, /threshold 5/],
    [{ ...BASE, threshold: 2, neighbours: ['p0', 'p1'] }, /contains this participant itself/],
    [{ ...BASE, threshold: 1, neighbours: [] }, /no neighbours/],
    [{ ...BASE, threshold: 2, neighbours: ['p1'], quantizationBits: 32 }, /quantizationBits/],
  ];
  for (const [config, message] of cases) {
    const reply = await client.handle(JOB, { step: 'secagg-setup', from: 'coordinator', to: 'participant', payload: { round: 1, config } }, train);
    assert.equal(reply.step, 'secagg-error', message.source);
    assert.match(reply.step === 'secagg-error' ? reply.payload.message : '', message);
  }
  assert.equal(client.liveRounds, 0);
});

test('share-keys refuses keys of non-neighbours and repeated public keys', async () => {
  const client = new SecAggPlusClient('p0');
  const train = trainReturning(new Float32Array(1), 1);
  const setup = async (): Promise<void> => {
    await client.handle(JOB, { step: 'secagg-setup', from: 'coordinator', to: 'participant', payload: { round: 1, config: { ...BASE, threshold: 2, neighbours: ['p1', 'p2'] } } }, train);
  };
  const key = (b: number): Uint8Array => new Uint8Array(32).fill(b);
  await setup();
  const stranger = await client.handle(JOB, { step: 'secagg-share-keys', from: 'coordinator', to: 'participant', payload: { round: 1, keys: [{ participantId: 'p9', cPk: key(1), sPk: key(2) }] } }, train);
  assert.match(stranger.step === 'secagg-error' ? stranger.payload.message : '', /"p9" is not a neighbour/);
  await setup();
  const repeated = await client.handle(JOB, { step: 'secagg-share-keys', from: 'coordinator', to: 'participant', payload: { round: 1, keys: [{ participantId: 'p1', cPk: key(1), sPk: key(2) }, { participantId: 'p2', cPk: key(1), sPk: key(3) }] } }, train);
  assert.match(repeated.step === 'secagg-error' ? repeated.payload.message : '', /cPk of "p2" repeats another public key/);
});
