import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { CoordinatorStore } from '../coordinator/store.js';
import { messageRecord } from '../transport/audit.js';
import type { Envelope } from '../transport/envelope.js';
import { ParticipantLedger, type LedgerEntry } from './ledger.js';

const dir = mkdtempSync(join(tmpdir(), 'edufed-ledger-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const hash = (s: string): string => createHash('sha256').update(s).digest('hex');

function sent(kind: string, round: number, bytes: number, at: number): LedgerEntry {
  return { direction: 'sent', peer: 'coordinator', kind, sender: 'p1', receiver: 'coordinator', jobId: 'job-a', round, bytes, sha256: hash(`${kind}${round}`), at };
}
function received(kind: string, round: number, bytes: number, at: number): LedgerEntry {
  return { direction: 'received', peer: 'coordinator', kind, sender: 'coordinator', receiver: 'p1', jobId: 'job-a', round, bytes, sha256: hash(`in${kind}${round}`), at };
}

describe('ParticipantLedger', () => {
  it('keeps the DP rounds a platform applied across a reopen, one record per job and round', () => {
    const file = join(dir, 'privacy.sqlite');
    const l1 = new ParticipantLedger(file);
    l1.recordPrivacy({ jobId: 'job-a', round: 1, unit: 'learner', q: 0.1, sigma: 1.1, steps: 10, epsilon: 0.5, delta: 1e-5 });
    l1.recordPrivacy({ jobId: 'job-a', round: 2, unit: 'learner', q: 0.1, sigma: 1.1, steps: 10, epsilon: 0.8, delta: 1e-5 });
    l1.recordPrivacy({ jobId: 'job-a', round: 2, unit: 'learner', q: 0.1, sigma: 9, steps: 10, epsilon: 9, delta: 1e-5 });
    l1.recordPrivacy({ jobId: 'job-b', round: 1, unit: 'learner', q: 0.2, sigma: 2, steps: 5, epsilon: 0.3, delta: 1e-6 });
    l1.close();
    const l2 = new ParticipantLedger(file);
    assert.deepEqual(l2.privacySpent('job-a').map((r) => [r.round, r.sigma, r.epsilon]), [[1, 1.1, 0.5], [2, 1.1, 0.8]]);
    assert.equal(l2.privacySpent('job-b')[0]?.delta, 1e-6);
    assert.deepEqual(l2.privacySpent('job-c'), []);
    l2.close();
  });

  it('keeps messages and job decisions across a reopen, and filters them by direction, job, round and kind', () => {
    const file = join(dir, 'ledger.sqlite');
    const l1 = new ParticipantLedger(file);
    l1.record(received('train', 1, 500, 1000));
    l1.record(sent('train-result', 1, 520, 1010));
    l1.record(received('train', 2, 500, 2000));
    l1.record(sent('train-result', 2, 520, 2010));
    l1.record({ direction: 'sent', peer: 'coordinator', kind: 'hello', sender: 'p1', receiver: 'coordinator', jobId: '', round: 0, bytes: 40, sha256: hash('hello'), at: 900 });
    l1.recordJobConfig('job-a', { rounds: 20, features: ['clicks'] }, { accepted: true });
    l1.recordJobConfig('job-z', { rounds: 500 }, { accepted: false, reason: 'round 500 exceeds this platform\'s maximum of 100 rounds' });
    l1.close();

    const l2 = new ParticipantLedger(file);
    const all = l2.entries();
    const sentOnly = l2.entries({ direction: 'sent', jobId: 'job-a' });
    const round2 = l2.entries({ round: 2 });
    const trains = l2.entries({ kind: 'train' });
    const newest = l2.entries({ limit: 2 });
    const configs = l2.jobConfigs();
    const refused = l2.jobConfigs('job-z');
    l2.close();

    assert.equal(all.length, 5);
    assert.equal(all[4]?.jobId, null, 'a message outside any job is stored with no job');
    assert.deepEqual(sentOnly.map((e) => [e.kind, e.round, e.bytes]), [['train-result', 1, 520], ['train-result', 2, 520]]);
    assert.deepEqual(round2.map((e) => e.direction), ['received', 'sent']);
    assert.deepEqual(trains.map((e) => e.at), [1000, 2000]);
    assert.deepEqual(newest.map((e) => e.kind), ['train-result', 'hello']);
    assert.deepEqual(configs[0]?.config, { rounds: 20, features: ['clicks'] });
    assert.equal(configs[0]?.sha256, hash(JSON.stringify({ rounds: 20, features: ['clicks'] })));
    assert.equal(refused.length, 1);
    assert.equal(refused[0]?.accepted, false);
    assert.match(refused[0]?.reason ?? '', /maximum of 100 rounds/);
  });

  it('sums traffic by direction and kind, lists jobs, counts decisions and spans the time range', () => {
    const ledger = new ParticipantLedger(':memory:');
    ledger.record(received('train', 1, 500, 1000));
    ledger.record(sent('train-result', 1, 520, 1010));
    ledger.record(sent('train-result', 2, 530, 2010));
    ledger.recordJobConfig('job-b', {}, { accepted: false, reason: 'forbidden feature' });
    const s = ledger.summary();
    ledger.close();
    assert.deepEqual(s.sent, { count: 2, bytes: 1050 });
    assert.deepEqual(s.received, { count: 1, bytes: 500 });
    assert.deepEqual(s.byKind, [
      { kind: 'train', direction: 'received', count: 1, bytes: 500 },
      { kind: 'train-result', direction: 'sent', count: 2, bytes: 1050 },
    ]);
    assert.deepEqual(s.jobs, ['job-a', 'job-b']);
    assert.deepEqual(s.jobConfigs, { accepted: 0, refused: 1 });
    assert.equal(s.firstAt, 1000);
    assert.equal(s.lastAt, 2010);
  });

  it('summarises an empty ledger as zeros', () => {
    const ledger = new ParticipantLedger(':memory:');
    const s = ledger.summary();
    ledger.close();
    assert.deepEqual(s, { sent: { count: 0, bytes: 0 }, received: { count: 0, bytes: 0 }, byKind: [], jobs: [], jobConfigs: { accepted: 0, refused: 0 }, firstAt: null, lastAt: null });
  });

  it('rejects a malformed hash, a negative size and an unknown direction', () => {
    const ledger = new ParticipantLedger(':memory:');
    const ok = sent('x', 1, 1, 1);
    assert.throws(() => ledger.record({ ...ok, sha256: 'abc' }), /sha256/);
    assert.throws(() => ledger.record({ ...ok, bytes: -1 }), /bytes/);
    const sideways: LedgerEntry = { ...ok };
    Object.defineProperty(sideways, 'direction', { value: 'sideways' });
    assert.throws(() => ledger.record(sideways), /direction/);
    const count = ledger.entries().length;
    ledger.close();
    assert.equal(count, 0);
  });

  it('records a transport MessageRecord exactly as the coordinator audit log does, so the two can be compared', () => {
    const envelope: Envelope = {
      kind: 'train-result', correlationId: 'c-7', sender: 'p1', receiver: 'coordinator', jobId: 'job-a', round: 3, header: { loss: 0.5 }, tensors: [],
    };
    const bytes = new Uint8Array([1, 2, 3, 4, 5, 6, 7]);
    const onParticipant = messageRecord('sent', 'coordinator', envelope, bytes);
    const onCoordinator = messageRecord('received', 'p1', envelope, bytes);
    const ledger = new ParticipantLedger(':memory:');
    const store = new CoordinatorStore(':memory:');
    ledger.record(onParticipant);
    store.audit(onCoordinator);
    const [mine] = ledger.entries({ direction: 'sent' });
    const [theirs] = store.listAudit();
    ledger.close();
    store.close();
    const key = (r: { kind: string; sender: string; receiver: string; jobId: string | null; round: number | null; bytes: number; sha256: string; correlationId: string | null } | undefined): unknown =>
      r === undefined ? undefined : [r.kind, r.sender, r.receiver, r.jobId, r.round, r.bytes, r.sha256, r.correlationId];
    assert.ok(mine !== undefined);
    assert.deepEqual(key(mine), key(theirs));
    assert.equal(mine.sha256, createHash('sha256').update(bytes).digest('hex'));
  });

  it('queues records and writes them in one batch within the flush delay, before a read from another connection sees them', async () => {
    // Prepare
    const file = join(dir, 'batched.sqlite');
    const ledger = new ParticipantLedger(file, { flushMs: 20 });
    const reader = (): number => {
      const other = new ParticipantLedger(file, { flushMs: 0 });
      const n = other.entries().length;
      other.close();
      return n;
    };
    // Execute
    for (let r = 1; r <= 50; r++) ledger.record(received('train', r, 500, 1000 + r));
    const beforeFlush = reader();
    const pendingBefore = ledger.pending;
    await new Promise((resolve) => setTimeout(resolve, 60));
    const afterFlush = reader();
    ledger.record(sent('train-result', 51, 520, 2000));
    ledger.close();
    // Assert: nothing written at first, all 50 after the delay, the last one written by close.
    assert.equal(beforeFlush, 0);
    assert.equal(pendingBefore, 50);
    assert.equal(afterFlush, 50);
    assert.equal(reader(), 51);
  });
});
