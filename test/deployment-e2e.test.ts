/**
 * Multi-process deployment tests: a coordinator and participants as separate OS processes, talking
 * gRPC over mutual TLS on loopback, with their real SQLite database and ledgers. They prove that the
 * deployed job computes exactly what the in-process simulation computes, that a coordinator killed
 * with SIGKILL resumes from its last completed round to the identical model without losing or
 * double-counting a round, and that a participant dying mid-job is dropped while the job completes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HorizontalJobConfig } from '../src/federation/horizontal/job-config.js';
import { CoordinatorStore } from '../src/coordinator/store.js';
import { ParticipantLedger } from '../src/participant/ledger.js';
import { simulateHorizontal } from '../src/simulation/simulate.js';
import { EDUFED_MAIN, prepareLocalDeployment, type LocalDeployment } from '../src/cli/local-deployment.js';
import { spawnNode, SYNTHETIC_SCHEMA, syntheticPlatform, type Proc } from './fixtures/e2e-kit.js';

const parts = [0, 1, 2].map((k) => ({ id: `platform-${k}`, raw: syntheticPlatform(k, 600) }));

function job(rounds: number, over: Partial<HorizontalJobConfig> = {}): HorizontalJobConfig {
  return {
    jobId: 'e2e-job',
    schema: SYNTHETIC_SCHEMA,
    testFraction: 0.2,
    splitSeed: 5,
    model: { kind: 'mlp', hidden: [8] },
    strategy: { name: 'fedavg', fractionFit: 1, minFit: 1, epochs: 2, batchSize: 16, learningRate: 0.05 },
    rounds,
    seed: 11,
    roundTimeoutMs: 20_000,
    ...over,
  };
}

function start(args: string[], onEvent?: (e: { type: string; record?: { round: number } }) => void): Proc {
  return spawnNode([EDUFED_MAIN, ...args], (l) => {
    if (onEvent !== undefined && l.startsWith('{')) onEvent(JSON.parse(l) as { type: string; record?: { round: number } });
  });
}

async function withDeployment<T>(config: HorizontalJobConfig, body: (d: LocalDeployment, procs: Proc[]) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'edufed-e2e-'));
  const procs: Proc[] = [];
  try {
    const d = await prepareLocalDeployment(dir, parts, config, SYNTHETIC_SCHEMA);
    return await body(d, procs);
  } finally {
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exit));
    rmSync(dir, { recursive: true, force: true });
  }
}

function startParticipants(d: LocalDeployment, procs: Proc[]): Proc[] {
  const ps = d.participants.map((p) => start(['participant', '--config', p.config]));
  procs.push(...ps);
  return ps;
}

test('coordinator and three participant processes over mutual TLS compute exactly the simulated model, and audit every message', async () => {
  const config = job(4);
  const reference = await simulateHorizontal(config, parts, { compare: false });
  await withDeployment(config, async (d, procs) => {
    const coordinator = start(['coordinator', '--config', d.coordinatorConfig, '--events']);
    procs.push(coordinator);
    startParticipants(d, procs);
    assert.equal(await coordinator.exit, 0, coordinator.log.join('\n'));
    const store = new CoordinatorStore(d.database);
    const final = store.loadResume(config.jobId);
    const rounds = store.listRounds(config.jobId);
    const audit = store.auditCount({ jobId: config.jobId });
    assert.equal(store.getJob(config.jobId)?.status, 'done');
    store.close();
    assert.ok(final !== undefined);
    assert.deepEqual(final.params, reference.job.params, 'deployed and simulated global models differ');
    assert.deepEqual(rounds.map((r) => r.round), [1, 2, 3, 4]);
    const fromLedgers: string[] = [];
    for (const p of d.participants) {
      const ledger = new ParticipantLedger(p.ledger);
      const sent = ledger.entries({ direction: 'sent', jobId: config.jobId, kind: 'horizontal.train-result' });
      for (const e of ledger.entries({ jobId: config.jobId, limit: 100_000 })) fromLedgers.push(`${e.kind}|${e.sender}|${e.receiver}|${e.round}|${e.bytes}|${e.sha256}`);
      ledger.close();
      assert.equal(sent.length, 4, `${p.id} ledger records its 4 updates`);
    }
    // The coordinator's audit log and the participants' ledgers agree on every message: same kind, ends, round, size and SHA-256.
    const store2 = new CoordinatorStore(d.database);
    const fromAudit = store2.listAudit({ jobId: config.jobId, limit: 100_000 }).map((a) => `${a.kind}|${a.sender}|${a.receiver}|${a.round}|${a.bytes}|${a.sha256}`);
    store2.close();
    assert.equal(fromAudit.length, audit);
    assert.deepEqual([...fromAudit].sort(), [...fromLedgers].sort());
  });
});

test('a coordinator killed with SIGKILL mid-job resumes from its last completed round to the identical model, no round lost or counted twice', async () => {
  const config = job(8);
  const reference = await simulateHorizontal(config, parts, { compare: false });
  await withDeployment(config, async (d, procs) => {
    let killedAfter = 0;
    const first = start(['coordinator', '--config', d.coordinatorConfig, '--events'], (e) => {
      if (e.type === 'round' && e.record !== undefined && e.record.round === 3 && killedAfter === 0) {
        killedAfter = e.record.round;
        first.child.kill('SIGKILL');
      }
    });
    procs.push(first);
    startParticipants(d, procs);
    assert.equal(await first.exit, 137);
    assert.equal(killedAfter, 3);
    const second = start(['coordinator', '--config', d.coordinatorConfig, '--events']);
    procs.push(second);
    assert.equal(await second.exit, 0, second.log.join('\n'));
    assert.ok(second.log.some((l) => /resuming job from its last completed round/.test(l)), 'the second coordinator resumed');
    const store = new CoordinatorStore(d.database);
    const final = store.loadResume(config.jobId);
    const rounds = store.listRounds(config.jobId).map((r) => r.round);
    store.close();
    assert.deepEqual(rounds, [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.ok(final !== undefined);
    assert.deepEqual(final.params, reference.job.params, 'the resumed job ended with a different model');
  });
});

test('a participant killed mid-job is dropped from the round and the job completes with the others', async () => {
  const config = job(6, { minParticipants: 2 });
  await withDeployment(config, async (d, procs) => {
    let victim: Proc | undefined;
    const coordinator = start(['coordinator', '--config', d.coordinatorConfig, '--events'], (e) => {
      if (e.type === 'round' && e.record?.round === 2) victim?.child.kill('SIGKILL');
    });
    procs.push(coordinator);
    victim = startParticipants(d, procs)[1];
    assert.equal(await coordinator.exit, 0, coordinator.log.join('\n'));
    const store = new CoordinatorStore(d.database);
    const rounds = store.listRounds(config.jobId);
    store.close();
    assert.equal(rounds.length, 6);
    const last = rounds.at(-1);
    assert.ok(last !== undefined);
    assert.deepEqual([...last.record.received], ['platform-0', 'platform-2']);
  });
});

const FAULTY = new URL('./fixtures/faulty-participant.js', import.meta.url).pathname;

async function faultRun(fault: string, over: Partial<HorizontalJobConfig> = {}, maxMessageBytes?: number): Promise<{ rounds: { round: number; received: readonly string[]; dropped: readonly { participantId: string; reason: string; flagged: boolean }[] }[]; status: string | undefined; flags: string[] }> {
  const config = job(4, { minParticipants: 2, ...over });
  const dir = mkdtempSync(join(tmpdir(), 'edufed-fault-'));
  const procs: Proc[] = [];
  try {
    const d = await prepareLocalDeployment(dir, parts, config, SYNTHETIC_SCHEMA, maxMessageBytes !== undefined ? { maxMessageBytes } : {});
    const coordinator = start(['coordinator', '--config', d.coordinatorConfig, '--events']);
    procs.push(coordinator);
    d.participants.forEach((p, i) => {
      const child = i === 1
        ? spawn(process.execPath, [FAULTY, p.config, fault, '2'], { stdio: ['ignore', 'ignore', 'pipe'] })
        : spawn(process.execPath, [EDUFED_MAIN, 'participant', '--config', p.config], { stdio: ['ignore', 'ignore', 'pipe'] });
      procs.push({ child, log: [], exit: new Promise((resolve) => child.once('exit', (c) => resolve(c ?? 137))) });
    });
    assert.equal(await coordinator.exit, 0, coordinator.log.join('\n'));
    const store = new CoordinatorStore(d.database);
    const rounds = store.listRounds(config.jobId).map((r) => ({ round: r.round, received: r.record.received, dropped: r.record.dropped }));
    const status = store.getJob(config.jobId)?.status;
    const flags = store.listFlags('platform-1').map((f) => f.reason);
    store.close();
    return { rounds, status, flags };
  } finally {
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exit));
    rmSync(dir, { recursive: true, force: true });
  }
}

function assertDroppedFrom2(r: Awaited<ReturnType<typeof faultRun>>, reason: RegExp, flagged: boolean): void {
  assert.equal(r.status, 'done');
  assert.deepEqual(r.rounds.map((x) => x.round), [1, 2, 3, 4], 'no round lost');
  assert.deepEqual([...(r.rounds[0]?.received ?? [])], ['platform-0', 'platform-1', 'platform-2']);
  for (const x of r.rounds.slice(1)) {
    assert.deepEqual([...x.received], ['platform-0', 'platform-2'], `round ${x.round}`);
    const d = x.dropped.find((y) => y.participantId === 'platform-1');
    assert.ok(d !== undefined && reason.test(d.reason) && d.flagged === flagged, `round ${x.round}: ${JSON.stringify(x.dropped)}`);
  }
}

test('a participant process sending a NaN update is flagged with the reason, never aggregated, and the job completes', async () => {
  const r = await faultRun('nan');
  assertDroppedFrom2(r, /non-finite/, true);
  assert.ok(r.flags.length >= 3 && r.flags.every((f) => /non-finite/.test(f)));
});

test('a replayed message (last round\'s update sent again) is refused as not answering this round', async () => {
  const r = await faultRun('replay');
  assertDroppedFrom2(r, /does not answer round/, true);
});

test('an oversized message is refused by the coordinator\'s size limit and the round completes with the others', async () => {
  const r = await faultRun('oversize', {}, 1 << 20);
  assert.equal(r.status, 'done');
  assert.deepEqual(r.rounds.map((x) => x.round), [1, 2, 3, 4]);
  const r2 = r.rounds[1];
  assert.ok(r2 !== undefined && !r2.received.includes('platform-1'));
  assert.ok(r2.dropped.some((y) => y.participantId === 'platform-1' && /maximum|too large|bytes/i.test(y.reason)), JSON.stringify(r2.dropped));
});

test('a participant process that never answers is dropped at the round deadline', async () => {
  // A deadline generous enough that healthy participants never miss it on a loaded CI machine.
  const r = await faultRun('silent', { roundTimeoutMs: 4000 });
  assertDroppedFrom2(r, /timeout|no (reply|answer)|within 4000/i, false);
});
