/**
 * The horizontal workflow with privacy: secure aggregation and differential privacy through the
 * same coordinator and participant code as plain jobs (in-process simulation).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRng } from '../core/rng.js';
import type { Schema } from '../data/schema.js';
import type { RawTable } from '../data/table.js';
import type { HorizontalJobConfig } from '../federation/horizontal/job-config.js';
import { validateJobConfig } from '../federation/horizontal/job-config.js';
import { simulateHorizontal } from '../simulation/simulate.js';

const schema: Schema = {
  version: 1,
  columns: [
    { name: 'x1', type: 'numeric' },
    { name: 'x2', type: 'numeric' },
    { name: 'y', type: 'label', classes: ['0', '1'], positive: ['1'] },
  ],
};

function synthetic(k: number, n: number): RawTable {
  const rng = seededRng(500 + k);
  const rows: string[][] = [];
  for (let i = 0; i < n; i++) {
    const x1 = rng.normal() + k * 0.1;
    const x2 = rng.normal();
    const y = rng.next() < 1 / (1 + Math.exp(-(2 * x1 - x2))) ? '1' : '0';
    rows.push([x1.toFixed(4), x2.toFixed(4), y]);
  }
  return { source: `p${k}.csv`, header: ['x1', 'x2', 'y'], rows };
}

const parts = [0, 1, 2, 3, 4].map((k) => ({ id: `p${k}`, raw: synthetic(k, 200 + 40 * k) }));

function job(over: Partial<HorizontalJobConfig> = {}): HorizontalJobConfig {
  return {
    jobId: 'privacy-job',
    schema,
    testFraction: 0.25,
    splitSeed: 7,
    model: { kind: 'logistic' },
    strategy: { name: 'fedavg', epochs: 1, batchSize: 16, learningRate: 0.1 },
    rounds: 4,
    seed: 3,
    ...over,
  };
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

test('SecAgg+ and CKKS jobs reach the plain job\'s model up to quantisation and CKKS error, and are recorded as such', async () => {
  const plain = await simulateHorizontal(job(), parts, { compare: false });
  const secagg = await simulateHorizontal(job({ privacy: { aggregation: 'secagg+' } }), parts, { compare: false });
  const ckks = await simulateHorizontal(job({ privacy: { aggregation: 'ckks' } }), parts, { compare: false });
  // 22-bit quantisation of deltas clipped to ±8: a step of 16/2^22 ≈ 4e-6 per value and round.
  assert.ok(maxAbsDiff(plain.job.params, secagg.job.params) < 1e-4, `SecAgg+ differs by ${maxAbsDiff(plain.job.params, secagg.job.params)}`);
  assert.ok(maxAbsDiff(plain.job.params, ckks.job.params) < 1e-5, `CKKS differs by ${maxAbsDiff(plain.job.params, ckks.job.params)}`);
  assert.ok(maxAbsDiff(plain.job.params, secagg.job.params) > 0, 'SecAgg+ really ran (quantisation leaves a trace)');
  assert.deepEqual(secagg.job.rounds.map((r) => r.aggregation), ['secagg+', 'secagg+', 'secagg+', 'secagg+']);
  assert.deepEqual(secagg.job.rounds[3]?.received, ['p0', 'p1', 'p2', 'p3', 'p4']);
  assert.ok(Math.abs((plain.job.rounds[3]?.metrics.auc ?? 0) - (secagg.job.rounds[3]?.metrics.auc ?? 1)) < 0.002);
});

test('FedAdam on a secure sum equals FedAdam on the plain updates (mean-based strategies need only the mean)', async () => {
  const strategy = { name: 'fedadam' as const, epochs: 1, batchSize: 16, learningRate: 0.1, eta: 0.05 };
  const plain = await simulateHorizontal(job({ strategy }), parts, { compare: false });
  const ckks = await simulateHorizontal(job({ strategy, privacy: { aggregation: 'ckks' } }), parts, { compare: false });
  assert.ok(maxAbsDiff(plain.job.params, ckks.job.params) < 1e-4, `differs by ${maxAbsDiff(plain.job.params, ckks.job.params)}`);
});

test('learner-level DP-SGD spends ε each round, and the job stops before the round that would exceed its budget', async () => {
  const sim = await simulateHorizontal(job({ rounds: 30, privacy: { dp: { unit: 'learner', clipNorm: 1, noiseMultiplier: 2, maxEpsilon: 3 } } }), parts, { compare: false });
  const eps = sim.job.rounds.map((r) => r.privacy?.epsilon ?? NaN);
  assert.ok(eps.length > 0 && eps.length < 30, `stopped after ${eps.length} rounds`);
  for (let i = 1; i < eps.length; i++) assert.ok((eps[i] as number) > (eps[i - 1] as number), 'ε grows round by round');
  assert.ok((eps[eps.length - 1] as number) <= 3);
  assert.match(sim.job.stopReason, /privacy budget: participant "p\d" \(learner-level DP\) would reach ε = [\d.]+ .* after round \d+, above its budget ε = 3/);
  const per = sim.job.rounds[sim.job.rounds.length - 1]?.privacy?.perParticipant ?? {};
  // The smallest platform samples the largest fraction of its rows per step and spends the most.
  assert.ok((per['p0'] ?? 0) > (per['p4'] ?? Infinity), `p0 ${per['p0']} vs p4 ${per['p4']}`);
});

test('a target ε calibrates the noise so that the maximum rounds spend at most that ε', async () => {
  const sim = await simulateHorizontal(job({ rounds: 3, privacy: { dp: { unit: 'learner', clipNorm: 1, targetEpsilon: 2 } } }), parts, { compare: false });
  const last = sim.job.rounds[2]?.privacy;
  assert.ok(last !== undefined);
  assert.ok(last.epsilon <= 2 && last.epsilon > 1.9, `ε ${last.epsilon}`);
});

test('platform-level DP: central noise on plain updates and distributed noise under SecAgg+ both account one step per round', async () => {
  const central = await simulateHorizontal(job({ privacy: { dp: { unit: 'platform', clipNorm: 0.5, noiseMultiplier: 1 } } }), parts, { compare: false });
  const distributed = await simulateHorizontal(job({ privacy: { aggregation: 'secagg+', dp: { unit: 'platform', clipNorm: 0.5, noiseMultiplier: 1 } } }), parts, { compare: false });
  const e1 = central.job.rounds.map((r) => r.privacy?.epsilon ?? NaN);
  const e2 = distributed.job.rounds.map((r) => r.privacy?.epsilon ?? NaN);
  assert.deepEqual(e1, e2, 'same σ, q = 1, same rounds: same ε');
  assert.ok((e1[3] as number) > (e1[0] as number));
  assert.ok(central.job.params.every(Number.isFinite) && distributed.job.params.every(Number.isFinite));
});

test('a participant whose own policy budget would be exceeded stops the job before that round, naming it', async () => {
  // Platforms declare their budget at setup; p0 (the smallest) allows less than the rest.
  const sim = await simulateHorizontal(job({ rounds: 20, privacy: { dp: { unit: 'learner', clipNorm: 1, noiseMultiplier: 3 } } }), parts, {
    compare: false,
    policies: { p0: { maxEpsilon: 1.5 } },
  });
  assert.match(sim.job.stopReason, /participant "p0".*budget ε = 1\.5 \(the policy of participant "p0"\)/);
  assert.ok(sim.job.rounds.length >= 2 && sim.job.rounds.length < 20, `${sim.job.rounds.length} rounds`);
  assert.ok((sim.job.rounds[sim.job.rounds.length - 1]?.privacy?.perParticipant?.['p0'] ?? 99) <= 1.5);
});

test('invalid combinations are refused at submission with the reason', () => {
  assert.throws(() => validateJobConfig(job({ strategy: { name: 'fedmedian' }, privacy: { aggregation: 'secagg+' } })), /needs individual updates/);
  assert.throws(() => validateJobConfig(job({ privacy: { aggregation: 'ckks', dp: { unit: 'platform', clipNorm: 1, noiseMultiplier: 1, noise: 'central' } } })), /use noise "distributed"/);
});
