/**
 * End-to-end simulation on real OULAD data: the honest-accuracy targets.
 * Region partition (13 participants, close to IID): δ ≤ 0.01 in accuracy and AUC.
 * Module partition (7 participants, strongly non-IID): δ ≤ 0.02 with the best of FedAvg, FedProx, FedAdam.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildOulad } from '../src/data/datasets/oulad.js';
import type { HorizontalJobConfig } from '../src/federation/horizontal/job-config.js';
import { partitionRaw } from '../src/simulation/partition-raw.js';
import { simulateHorizontal } from '../src/simulation/simulate.js';
import type { StrategyConfig } from '../src/strategy/create-strategy.js';

const { raw, schema } = buildOulad({ task: 'early-warning', label: 'pass', cutoffDay: 60 });

function config(strategy: StrategyConfig): HorizontalJobConfig {
  return { jobId: 'oulad-e2e', schema, testFraction: 0.2, splitSeed: 42, model: { kind: 'logistic' }, strategy, rounds: 20, seed: 42 };
}
const local = { fractionFit: 1, minFit: 1, epochs: 1, batchSize: 32, learningRate: 0.05 };

test('OULAD early warning, 13 regions, FedAvg logistic regression, 20 rounds: δ ≤ 0.01 in accuracy and AUC', async () => {
  const parts = partitionRaw(raw, schema, { kind: 'column', column: 'region' });
  assert.equal(parts.length, 13);
  const sim = await simulateHorizontal(config({ name: 'fedavg', ...local }), parts);
  const c = sim.comparison;
  assert.ok(c !== undefined);
  assert.ok(c.centralized.auc > 0.8, `centralized AUC ${c.centralized.auc} (a sanity floor: the task has signal)`);
  assert.ok(c.delta.accuracy <= 0.01, `δ accuracy ${c.delta.accuracy}`);
  assert.ok(c.delta.auc <= 0.01, `δ AUC ${c.delta.auc}`);
  assert.ok(c.federated.auc >= c.localOnly.auc, `federated AUC ${c.federated.auc} vs local-only ${c.localOnly.auc}`);
});

test('OULAD early warning, 7 modules (non-IID): the best of FedAvg, FedProx and FedAdam is within δ ≤ 0.02', async () => {
  const parts = partitionRaw(raw, schema, { kind: 'column', column: 'code_module' });
  assert.equal(parts.length, 7);
  // Larger local batches mean fewer local steps per round, hence less client drift on non-IID data.
  const nonIid = { ...local, batchSize: 128 };
  const strategies: StrategyConfig[] = [
    { name: 'fedavg', ...nonIid },
    { name: 'fedprox', ...nonIid, proximalMu: 0.01 },
    { name: 'fedadam', ...nonIid },
  ];
  const deltas: { name: string; acc: number; auc: number }[] = [];
  for (const s of strategies) {
    const c = (await simulateHorizontal(config(s), parts)).comparison;
    assert.ok(c !== undefined);
    deltas.push({ name: s.name, acc: c.delta.accuracy, auc: c.delta.auc });
  }
  const best = Math.min(...deltas.map((d) => Math.max(d.acc, d.auc)));
  assert.ok(best <= 0.02, `best worst-of(acc, AUC) δ ${best}: ${JSON.stringify(deltas)}`);
});
