import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRng } from '../core/rng.js';
import { mergeSummaries, metricsFromSummary, summarize } from '../core/metrics.js';
import type { Schema } from '../data/schema.js';
import type { RawTable } from '../data/table.js';
import type { ParticipantCaller } from '../federation/horizontal/caller.js';
import type { HorizontalJobConfig } from '../federation/horizontal/job-config.js';
import { HorizontalParticipant } from '../participant/horizontal-participant.js';
import { simulateHorizontal } from '../simulation/simulate.js';
import { RoundError, runHorizontalJob } from './horizontal-workflow.js';

const schema: Schema = {
  version: 1,
  columns: [
    { name: 'id', type: 'id' },
    { name: 'x1', type: 'numeric' },
    { name: 'x2', type: 'numeric' },
    { name: 'g', type: 'categorical' },
    { name: 'y', type: 'label', classes: ['0', '1'], positive: ['1'] },
  ],
};

/** A learnable synthetic table: y depends on x1, x2 and g; participant k shifts x1 (mildly non-IID). */
function synthetic(k: number, n: number, seed: number): RawTable {
  const rng = seededRng(seed * 1000 + k);
  const rows: string[][] = [];
  for (let i = 0; i < n; i++) {
    const x1 = rng.normal() + k * 0.2;
    const x2 = rng.normal();
    const g = rng.next() < 0.5 ? 'a' : 'b';
    const logit = 2 * x1 - 1.5 * x2 + (g === 'a' ? 1 : -1) - k * 0.2;
    const y = rng.next() < 1 / (1 + Math.exp(-logit)) ? '1' : '0';
    rows.push([`${k}-${i}`, x1.toFixed(4), i % 17 === 0 ? '' : x2.toFixed(4), g, y]);
  }
  return { source: `synthetic-${k}.csv`, header: ['id', 'x1', 'x2', 'g', 'y'], rows };
}

function job(over: Partial<HorizontalJobConfig> = {}): HorizontalJobConfig {
  return {
    jobId: 'job-1',
    schema,
    testFraction: 0.25,
    splitSeed: 7,
    model: { kind: 'logistic' },
    strategy: { name: 'fedavg', fractionFit: 1, minFit: 1, epochs: 1, batchSize: 16, learningRate: 0.1 },
    rounds: 8,
    seed: 3,
    ...over,
  };
}

const parts = [0, 1, 2, 3].map((k) => ({ id: `p${k}`, raw: synthetic(k, 300, 1) }));

test('a clean federation learns the synthetic task and lands within 0.02 of centralized training', async () => {
  const sim = await simulateHorizontal(job(), parts);
  const c = sim.comparison;
  assert.ok(c !== undefined);
  assert.equal(sim.job.rounds.length, 8);
  assert.ok(c.federated.accuracy > 0.75, `federated accuracy ${c.federated.accuracy}`);
  assert.ok(c.delta.accuracy <= 0.02, `δ accuracy ${c.delta.accuracy}`);
  assert.ok(c.delta.auc <= 0.02, `δ auc ${c.delta.auc}`);
  // The per-round metric (aggregated from participants' histograms) agrees with the exact pooled one.
  const last = sim.job.rounds.at(-1);
  assert.ok(last !== undefined && Math.abs(last.metrics.auc - c.federated.auc) < 2e-3);
});

test('the same seed gives bit-identical global models', async () => {
  const a = await simulateHorizontal(job({ rounds: 3 }), parts, { compare: false });
  const b = await simulateHorizontal(job({ rounds: 3 }), parts, { compare: false });
  assert.deepEqual(a.job.params, b.job.params);
});

test('a participant failing mid-job is dropped from that round only, and the round completes with the rest', async () => {
  const wrap = (id: string, call: ParticipantCaller): ParticipantCaller => async (req, opts) => {
    if (id === 'p2' && req.step === 'train' && req.payload.round === 2) throw new Error('connection reset');
    return call(req, opts);
  };
  const sim = await simulateHorizontal(job({ rounds: 3 }), parts, { compare: false, wrapCaller: wrap });
  const r2 = sim.job.rounds[1];
  assert.ok(r2 !== undefined);
  assert.deepEqual(r2.received, ['p0', 'p1', 'p3']);
  assert.deepEqual(r2.dropped, [{ participantId: 'p2', reason: 'connection reset', flagged: false }]);
  assert.equal(sim.job.rounds[2]?.received.length, 4);
});

test('NaN, wrong-shape and absurd-norm updates are flagged with a reason and never aggregated', async () => {
  const poison = new Map<string, (p: Float32Array) => Float32Array>([
    ['p0', (p) => { const q = p.slice(); q[0] = NaN; return q; }],
    ['p1', (p) => p.slice(0, p.length - 1)],
    ['p2', (p) => p.map(() => 1e9)],
  ]);
  const wrap = (id: string, call: ParticipantCaller): ParticipantCaller => async (req, opts) => {
    const reply = await call(req, opts);
    const f = poison.get(id);
    if (f === undefined || reply.step !== 'train-result') return reply;
    return { ...reply, payload: { ...reply.payload, params: f(reply.payload.params) } };
  };
  const honest = await simulateHorizontal(job({ rounds: 2 }), [parts[3] as (typeof parts)[number]], { compare: false });
  const sim = await simulateHorizontal(job({ rounds: 2 }), parts, { compare: false, wrapCaller: wrap });
  const r1 = sim.job.rounds[0];
  assert.ok(r1 !== undefined);
  assert.deepEqual(r1.received, ['p3']);
  const reasons = new Map(r1.dropped.map((d) => [d.participantId, d]));
  assert.match(reasons.get('p0')?.reason ?? '', /non-finite/);
  assert.match(reasons.get('p1')?.reason ?? '', /wrong shape/);
  assert.match(reasons.get('p2')?.reason ?? '', /absurd L2 norm/);
  assert.ok([...reasons.values()].every((d) => d.flagged));
  assert.ok(sim.job.params.every((v) => Number.isFinite(v) && Math.abs(v) < 100));
  // Only p3's update was aggregated, although the encoder (federated statistics) differs: same shape, finite values.
  assert.equal(honest.job.params.length, sim.job.params.length);
});

test('a round below quorum fails with a RoundError naming the dropped participants', async () => {
  const wrap = (id: string, call: ParticipantCaller): ParticipantCaller => async (req, opts) => {
    if (id !== 'p0' && req.step === 'train') throw new Error('deadline exceeded');
    return call(req, opts);
  };
  await assert.rejects(
    simulateHorizontal(job({ rounds: 2, minParticipants: 2 }), parts, { compare: false, wrapCaller: wrap }),
    (err: unknown) => err instanceof RoundError && err.round === 1 && /quorum is 2/.test(err.message) && /p1 \(deadline exceeded\)/.test(err.message),
  );
});

test('a participant joining between rounds is set up and trains from the next round', async () => {
  const ps = parts.map((p) => new HorizontalParticipant(p.id, p.raw, { seed: 3 }));
  const callers = new Map<string, ParticipantCaller>();
  const add = (p: HorizontalParticipant): void => void callers.set(p.id, (req) => p.handle('job-1', req));
  ps.slice(0, 3).forEach(add);
  // Round 1 completes (its model is evaluated) during round 2's requests; p3 then joins from round 3.
  const result = await runHorizontalJob(job({ rounds: 3 }), () => callers, {
    onRoundComplete: (record) => {
      if (record.round === 1) add(ps[3] as HorizontalParticipant);
    },
  });
  assert.deepEqual(result.rounds[0]?.received, ['p0', 'p1', 'p2']);
  assert.deepEqual(result.rounds[1]?.received, ['p0', 'p1', 'p2']);
  assert.deepEqual(result.rounds[2]?.received, ['p0', 'p1', 'p2', 'p3']);
});

test('stopping by target metric ends the job early with the reason', async () => {
  const sim = await simulateHorizontal(job({ rounds: 30, stopping: { targetMetric: 'accuracy', targetValue: 0.5 } }), parts, { compare: false });
  assert.equal(sim.job.rounds.length, 1);
  assert.match(sim.job.stopReason, /accuracy/);
});

test('a participant whose policy refuses a feature is excluded at the statistics step, with the reason', async () => {
  const ps = parts.map((p, i) => new HorizontalParticipant(p.id, p.raw, i === 0 ? { policy: { forbiddenFeatures: ['g'] } } : {}));
  const callers = new Map<string, ParticipantCaller>(ps.map((p) => [p.id, (req) => p.handle('job-1', req)]));
  const excluded: string[] = [];
  const result = await runHorizontalJob(job({ rounds: 1 }), () => callers, {
    onEvent: (e) => {
      if (e.type === 'participant-excluded') excluded.push(`${e.participantId}: ${e.reason}`);
    },
  });
  assert.ok(excluded.some((e) => e.startsWith('p0:') && e.includes('feature "g" is forbidden')));
  assert.ok(!(result.rounds[0]?.received ?? []).includes('p0'));
});

test('fraction-to-wait closes the round once enough updates arrived; the straggler is recorded as late, not aggregated', async () => {
  const wrap = (id: string, call: ParticipantCaller): ParticipantCaller => async (req, opts) => {
    // p3 never answers a train request: without fraction-to-wait the round would wait for the 60 s deadline.
    if (id === 'p3' && req.step === 'train') return new Promise(() => undefined);
    return call(req, opts);
  };
  const sim = await simulateHorizontal(job({ rounds: 2, waitFraction: 0.75, roundTimeoutMs: 60_000 }), parts, { compare: false, wrapCaller: wrap });
  for (const r of sim.job.rounds) {
    assert.deepEqual(r.received, ['p0', 'p1', 'p2']);
    assert.equal(r.dropped[0]?.participantId, 'p3');
    assert.match(r.dropped[0]?.reason ?? '', /late: the round closed/);
  }
});

test('a participant that never answers is dropped at the round deadline, in simulation as over the network', async () => {
  const wrap = (id: string, call: ParticipantCaller): ParticipantCaller => async (req, opts) =>
    id === 'p1' && req.step === 'train' ? new Promise(() => undefined) : call(req, opts);
  const sim = await simulateHorizontal(job({ rounds: 1, roundTimeoutMs: 200 }), parts, { compare: false, wrapCaller: wrap });
  assert.deepEqual(sim.job.rounds[0]?.received, ['p0', 'p2', 'p3']);
  assert.match(sim.job.rounds[0]?.dropped[0]?.reason ?? '', /no reply within 200 ms/);
});

test('each round\'s model is evaluated inside the next round\'s train request: one message per participant per round, same metrics as a separate evaluation', async () => {
  const steps: string[] = [];
  const wrap = (id: string, call: ParticipantCaller): ParticipantCaller => async (req, opts) => {
    if (id === 'p0') steps.push(req.step === 'train' ? `train${req.payload.evaluate === true ? '+eval' : ''}` : req.step);
    return call(req, opts);
  };
  const sim = await simulateHorizontal(job({ rounds: 3 }), parts, { compare: false, wrapCaller: wrap });
  assert.deepEqual(steps, ['stats', 'setup', 'train', 'train+eval', 'train+eval', 'evaluate', 'finish']);
  // The last round's metric equals an independent evaluation of the final model on every test split.
  const summaries = sim.participants.map((p) => {
    const { model, test } = p.localData('job-1');
    return summarize(model.predict(sim.job.params, test.x, test.n), test.y, test.n, 2);
  });
  assert.deepEqual(sim.job.rounds[2]?.metrics, metricsFromSummary(mergeSummaries(summaries)));
});
