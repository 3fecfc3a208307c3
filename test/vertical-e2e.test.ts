/**
 * The vertical deployment over real processes: three OULAD platforms (registration portal,
 * learning site, assessment platform holding the label) and a coordinator, talking gRPC over
 * mutual TLS on loopback. PSI aligns the platforms through the coordinator, which relays sealed
 * envelopes only; the trained model's test AUC must equal the in-process simulation on the same
 * split, and the coordinator's database must hold no learner identifier.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoordinatorStore } from '../src/coordinator/store.js';
import { simulateVertical } from '../src/federation/vertical/simulate-vertical.js';
import { splitOulad } from '../src/federation/vertical/split-oulad.js';
import { verticalTrainConfig } from '../src/federation/vertical/train-config.js';
import { EDUFED_MAIN } from '../src/cli/local-deployment.js';
import { prepareVerticalDeployment } from '../src/cli/vertical-deployment.js';
import { spawnNode, type Proc } from './fixtures/e2e-kit.js';

test('three platforms and a coordinator over mutual TLS: PSI alignment and secure-lr match the in-process run, and the coordinator stores no learner id', async (t) => {
  // Prepare: one small region split into three platforms, and the in-process reference run.
  const split = splitOulad({ regions: ['Ireland'], seed: 3 });
  const platforms = split.platforms.map((p) => ({ ...p, id: `platform-${p.id.toLowerCase()}` }));
  const config = verticalTrainConfig({ jobId: 'vertical-e2e', mode: 'secure-lr', epochs: 3, batchSize: 64, learningRate: 0.2, l2: 0.001, seed: 9 });
  const sim = await simulateVertical(platforms, { idColumn: split.idColumn, config, testFraction: 0.2, compare: false });
  const dir = mkdtempSync(join(tmpdir(), 'edufed-vertical-e2e-'));
  const procs: Proc[] = [];
  try {
    const d = await prepareVerticalDeployment(dir, platforms, { train: config, idColumn: split.idColumn, testFraction: 0.2, stepTimeoutMs: 60_000 });
    let result: { metrics: { auc: number }; counts: { party: string; present: number; imputed: number }[] } | undefined;
    // Execute
    const coordinator = spawnNode([EDUFED_MAIN, 'coordinator', '--config', d.coordinatorConfig, '--events'], (line) => {
      if (line.startsWith('{') && line.includes('"vertical-result"')) result = JSON.parse(line) as typeof result;
    });
    procs.push(coordinator);
    procs.push(...d.participants.map((p) => spawnNode([EDUFED_MAIN, 'participant', '--config', p.config])));
    assert.equal(await coordinator.exit, 0, coordinator.log.join('\n'));

    // Assert: the same model quality as in process, on the same alignment.
    assert.ok(result !== undefined, coordinator.log.join('\n'));
    t.diagnostic(`deployed AUC ${result.metrics.auc.toFixed(5)}, in process ${sim.train.metrics.auc.toFixed(5)}; ${JSON.stringify(result.counts)}`);
    assert.ok(Math.abs(result.metrics.auc - sim.train.metrics.auc) <= 0.002, `deployed AUC ${result.metrics.auc} vs simulated ${sim.train.metrics.auc}`);
    assert.deepEqual(
      [...result.counts].sort((a, b) => a.party.localeCompare(b.party)),
      [...sim.counts].sort((a, b) => a.party.localeCompare(b.party)).map((c) => ({ ...c })),
    );
    const store = new CoordinatorStore(d.database);
    let kinds: Set<string>;
    try {
      assert.equal(store.getJob(config.jobId)?.status, 'done');
      kinds = new Set(store.listAudit({ jobId: config.jobId, limit: 1_000_000 }).map((a) => a.kind));
    } finally {
      store.close();
    }
    assert.ok([...kinds].some((k) => k.startsWith('psi.')), [...kinds].join(', '));
    for (const k of ['vertical.setup', 'vertical.epoch-start', 'vertical.partial-logits', 'vertical.gradient-shares', 'vertical.evaluate-result']) assert.ok(kinds.has(k), `${k} audited`);

    // Assert: no learner id of any platform in the coordinator's database files; the control finds them in the platforms' CSVs.
    const db = Buffer.concat([d.database, `${d.database}-wal`].filter((f) => existsSync(f)).map((f) => readFileSync(f)));
    for (const [i, p] of platforms.entries()) {
      const at = p.raw.header.indexOf(split.idColumn);
      const ids = [0, 7, 50, p.raw.rows.length - 1].map((r) => p.raw.rows[r]?.[at] ?? '');
      const csv = readFileSync(join(dir, 'platforms', p.id, 'data.csv'));
      t.diagnostic(`${p.id}: ${p.raw.rows.length} rows, ids checked ${ids.join(' ')}`);
      for (const id of ids) {
        assert.ok(id.length >= 3 && csv.includes(id), `control: ${id} is in ${p.id}'s CSV`);
        assert.ok(!db.includes(Buffer.from(id)), `learner id ${id} of ${p.id} (#${i}) found in the coordinator's database`);
      }
    }
  } finally {
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exit));
    rmSync(dir, { recursive: true, force: true });
  }
});
