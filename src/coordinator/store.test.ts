import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { DataError } from '../core/errors.js';
import { ENCODER, jobConfig, roundParams, roundRecord, roundState, seedStore } from '../../test/fixtures/coordinator-store.js';
import { applyMigrations, COORDINATOR_MIGRATIONS, schemaVersion } from './migrations.js';
import { CoordinatorStore, RoundSequenceError } from './store.js';

const dir = mkdtempSync(join(tmpdir(), 'edufed-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let fileNo = 0;
const freshFile = (): string => join(dir, `db-${++fileNo}.sqlite`);

function bitsEqual(a: Float32Array, b: Float32Array): boolean {
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  return a.length === b.length && ua.every((x, i) => x === ub[i]);
}

describe('migrations', () => {
  it('bring an empty database to the latest version, and a second run changes nothing', () => {
    const db = new Database(':memory:');
    const v1 = applyMigrations(db, COORDINATOR_MIGRATIONS, ':memory:');
    const tables = db.prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all().map((r) => r.name);
    const v2 = applyMigrations(db, COORDINATOR_MIGRATIONS, ':memory:');
    assert.equal(v1, COORDINATOR_MIGRATIONS.length);
    assert.equal(v2, v1);
    assert.equal(schemaVersion(db), v1);
    for (const t of ['participants', 'jobs', 'rounds', 'checkpoints', 'flags', 'audit', 'schema_migrations']) assert.ok(tables.includes(t), t);
    assert.equal(db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM schema_migrations').get()?.n, COORDINATOR_MIGRATIONS.length);
    db.close();
  });

  it('apply only the new versions when the list grows', () => {
    const db = new Database(':memory:');
    applyMigrations(db, ['CREATE TABLE a (x INTEGER)'], 'test.db');
    const v = applyMigrations(db, ['CREATE TABLE a (x INTEGER)', 'ALTER TABLE a ADD COLUMN y TEXT'], 'test.db');
    const cols = db.prepare<[], { name: string }>('PRAGMA table_info(a)').all().map((r) => r.name);
    assert.equal(v, 2);
    assert.deepEqual(cols, ['x', 'y']);
    db.close();
  });

  it('roll back a failing script entirely and name its version', () => {
    const db = new Database(':memory:');
    const bad = ['CREATE TABLE a (x INTEGER)', 'CREATE TABLE b (x INTEGER); INSERT INTO nowhere VALUES (1)'];
    assert.throws(() => applyMigrations(db, bad, 'test.db'), (e: unknown) => e instanceof DataError && /migration 2 failed/.test(e.message));
    const names = db.prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'").all().map((r) => r.name);
    assert.equal(schemaVersion(db), 1);
    assert.ok(!names.includes('b'), 'table b of the failed migration must be rolled back');
    db.close();
  });

  it('refuse a database written by a newer EduFed, naming the file and both versions', () => {
    const file = freshFile();
    new CoordinatorStore(file).close();
    const db = new Database(file);
    db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(COORDINATOR_MIGRATIONS.length + 1, 0);
    db.close();
    assert.throws(
      () => new CoordinatorStore(file),
      (e: unknown) => e instanceof DataError && e.message.includes(file) && e.message.includes(`version ${COORDINATOR_MIGRATIONS.length + 1} is newer`),
    );
  });
});

describe('CoordinatorStore', () => {
  it('opens a file in WAL mode, and a non-database file is refused with a DataError', () => {
    const file = freshFile();
    const store = new CoordinatorStore(file);
    store.close();
    const db = new Database(file);
    const mode = db.pragma('journal_mode', { simple: true });
    const pageSize = db.pragma('page_size', { simple: true });
    db.close();
    const junk = freshFile();
    writeFileSync(junk, 'this is not a database, just text that is long enough to fill a header page '.repeat(10));
    assert.equal(mode, 'wal');
    assert.equal(pageSize, 65536);
    assert.throws(() => new CoordinatorStore(junk), (e: unknown) => e instanceof DataError && e.message.includes(junk));
  });

  it('keeps participants, jobs, rounds and audit entries across a reopen', () => {
    const file = freshFile();
    const s1 = new CoordinatorStore(file);
    seedStore(s1, 4);
    s1.close();
    const s2 = new CoordinatorStore(file);
    const participants = s2.listParticipants();
    const jobs = s2.listJobs();
    const rounds = s2.listRounds('job-a');
    const p3 = s2.getParticipant('p3');
    const count = s2.auditCount();
    s2.close();
    assert.deepEqual(participants.map((p) => p.id), ['p1', 'p2', 'p3']);
    assert.equal(participants[0]?.certFingerprint, 'fp-p1');
    assert.deepEqual(jobs.map((j) => j.id).sort(), ['job-a', 'job-b']);
    const a = jobs.find((j) => j.id === 'job-a');
    assert.equal(a?.status, 'running');
    assert.equal(a?.lastRound, 4);
    assert.equal(a?.hasEncoder, true);
    assert.deepEqual(a?.config, jobConfig('job-a'));
    assert.deepEqual(rounds.map((r) => r.round), [1, 2, 3, 4]);
    assert.equal(rounds[2]?.dropped, 1);
    assert.equal(rounds[2]?.received, 2);
    assert.equal(p3?.flaggedCount, 1);
    assert.equal(p3?.lastFlagReason, 'update has NaN at index 4');
    assert.equal(count, 4);
  });

  it('stores a NaN metric as a null column but returns the record with NaN intact', () => {
    const store = new CoordinatorStore(':memory:');
    seedStore(store, 1);
    const [row] = store.listRounds('job-a');
    store.close();
    assert.equal(row?.auc, null);
    assert.ok(Number.isNaN(row?.record.metrics.auc));
    assert.deepEqual(row?.record, roundRecord(1, { nanAuc: true }));
  });

  it('refuses to record the same round twice, leaving the first record and checkpoint untouched', () => {
    const store = new CoordinatorStore(':memory:');
    seedStore(store, 2);
    const other = roundParams(99);
    assert.throws(
      () => store.completeRound('job-a', roundRecord(2), other, roundState(99)),
      (e: unknown) => e instanceof RoundSequenceError && e.round === 2 && e.lastCompleted === 2 && /never counted twice/.test(e.message),
    );
    assert.throws(() => store.completeRound('job-a', roundRecord(4), other, {}), RoundSequenceError);
    const rounds = store.listRounds('job-a');
    const resume = store.loadResume('job-a');
    store.close();
    assert.equal(rounds.length, 2);
    assert.equal(resume?.round, 2);
    assert.ok(resume !== undefined && bitsEqual(resume.params, roundParams(2)));
  });

  it('rejects a round of an unknown job', () => {
    const store = new CoordinatorStore(':memory:');
    assert.throws(() => store.completeRound('nope', roundRecord(1), roundParams(1), {}), /unknown job "nope"/);
    store.close();
  });

  it('resumes after a crash between rounds from the last completed round, with bit-identical parameters and state', () => {
    const file = freshFile();
    const s1 = new CoordinatorStore(file);
    seedStore(s1, 5);
    // A "crash": no job status change, no clean shutdown of the job, just the connection going away.
    s1.close();
    const s2 = new CoordinatorStore(file);
    const resume = s2.loadResume('job-a');
    s2.close();
    assert.ok(resume !== undefined);
    assert.equal(resume.round, 5);
    assert.ok(bitsEqual(resume.params, roundParams(5)));
    const expectedState = roundState(5);
    assert.deepEqual(Object.keys(resume.strategyState).sort(), Object.keys(expectedState).sort());
    for (const [k, v] of Object.entries(expectedState)) assert.ok(bitsEqual(resume.strategyState[k] ?? new Float32Array(), v), k);
    assert.deepEqual(resume.encoder, ENCODER);
    assert.deepEqual(resume.history.map((h) => h.round), [1, 2, 3, 4, 5]);
    assert.deepEqual(resume.history[2], roundRecord(3, { dropped: true }));
  });

  it('returns no resume state for a job without completed rounds', () => {
    const store = new CoordinatorStore(':memory:');
    seedStore(store, 0);
    assert.equal(store.loadResume('job-a'), undefined);
    assert.equal(store.loadResume('job-b'), undefined);
    store.close();
  });

  it('keeps only the newest K checkpoints per job', () => {
    const store = new CoordinatorStore(':memory:', { keepCheckpoints: 2 });
    seedStore(store, 5);
    const kept = store.listCheckpoints('job-a').map((c) => c.round);
    store.close();
    assert.deepEqual(kept, [5, 4]);
  });

  it('detects a corrupted checkpoint (one flipped bit) with an error naming the job and round', () => {
    const file = freshFile();
    const s1 = new CoordinatorStore(file);
    seedStore(s1, 3);
    s1.close();
    const db = new Database(file);
    const row = db.prepare<[], { params: Buffer }>("SELECT params FROM checkpoints WHERE job_id = 'job-a' AND round = 3").get();
    assert.ok(row !== undefined);
    row.params[10] = (row.params[10] ?? 0) ^ 0x01;
    db.prepare("UPDATE checkpoints SET params = ? WHERE job_id = 'job-a' AND round = 3").run(row.params);
    db.close();
    const s2 = new CoordinatorStore(file);
    assert.throws(
      () => s2.loadResume('job-a'),
      (e: unknown) => e instanceof DataError && /job "job-a" round 3 is corrupted/.test(e.message) && e.message.includes(file),
    );
    s2.close();
  });

  it('detects a corrupted strategy state', () => {
    const file = freshFile();
    const s1 = new CoordinatorStore(file);
    seedStore(s1, 1);
    s1.close();
    const db = new Database(file);
    db.prepare("UPDATE checkpoints SET strategy_state = X'00' WHERE job_id = 'job-a'").run();
    db.close();
    const s2 = new CoordinatorStore(file);
    assert.throws(() => s2.loadResume('job-a'), /strategy state's SHA-256 does not match/);
    s2.close();
  });

  it('round-trips any float32 parameters and strategy state bit for bit, NaN payloads and -0 included', () => {
    fc.assert(
      fc.property(
        fc.float32Array({ maxLength: 64 }),
        fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), fc.float32Array({ maxLength: 16 }), { maxKeys: 4 }),
        (params, state) => {
          const store = new CoordinatorStore(':memory:');
          store.createJob(jobConfig('j'));
          store.saveEncoder('j', ENCODER);
          store.completeRound('j', roundRecord(1), params, state);
          const r = store.loadResume('j');
          store.close();
          assert.ok(r !== undefined && bitsEqual(r.params, params));
          assert.deepEqual(Object.keys(r.strategyState).sort(), Object.keys(state).sort());
          for (const [k, v] of Object.entries(state)) assert.ok(bitsEqual(r.strategyState[k] ?? new Float32Array(), v));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('refuses to resume a job that has checkpoints but no encoder', () => {
    const store = new CoordinatorStore(':memory:');
    store.createJob(jobConfig('j'));
    store.completeRound('j', roundRecord(1), roundParams(1), {});
    assert.throws(() => store.loadResume('j'), /no stored encoder/);
    store.close();
  });

  it('records job status transitions with start and finish times', () => {
    let t = 1000;
    const store = new CoordinatorStore(':memory:', { now: () => t });
    store.createJob(jobConfig('j'));
    t = 2000;
    store.setJobStatus('j', 'running');
    t = 3000;
    store.setJobStatus('j', 'running');
    t = 4000;
    store.setJobStatus('j', 'done', { stopReason: 'max rounds' });
    const job = store.getJob('j');
    assert.throws(() => store.setJobStatus('x', 'done'), /unknown job "x"/);
    assert.throws(() => store.createJob(jobConfig('j')), /already exists/);
    store.close();
    assert.equal(job?.createdAt, 1000);
    assert.equal(job?.startedAt, 2000);
    assert.equal(job?.finishedAt, 4000);
    assert.equal(job?.status, 'done');
    assert.equal(job?.stopReason, 'max rounds');
  });

  it('updates a participant on reconnect and touch, keeping first-seen', () => {
    let t = 10;
    const store = new CoordinatorStore(':memory:', { now: () => t });
    store.registerParticipant('p1', { fingerprint: 'a' });
    t = 20;
    store.touchParticipant('p1', 'disconnected');
    const mid = store.getParticipant('p1');
    t = 30;
    const again = store.registerParticipant('p1', { fingerprint: 'b', serial: '02' });
    assert.throws(() => store.touchParticipant('ghost'), /unknown participant "ghost"/);
    store.close();
    assert.equal(mid?.status, 'disconnected');
    assert.equal(mid?.lastSeen, 20);
    assert.equal(again.firstSeen, 10);
    assert.equal(again.lastSeen, 30);
    assert.equal(again.status, 'connected');
    assert.equal(again.certFingerprint, 'b');
  });

  it('appends audit entries, filters them by job, and rejects a malformed hash', () => {
    const store = new CoordinatorStore(':memory:');
    seedStore(store, 2);
    store.auditMany([
      { kind: 'register', sender: 'p1', receiver: 'coordinator', bytes: 10, sha256: '00'.repeat(32) },
      { kind: 'train-result', sender: 'p2', receiver: 'coordinator', jobId: 'job-a', round: 2, bytes: 300, sha256: '11'.repeat(32) },
    ]);
    const newest = store.listAudit({ limit: 1 });
    const ofJob = store.listAudit({ jobId: 'job-a' });
    assert.throws(() => store.audit({ kind: 'x', sender: 'a', receiver: 'b', bytes: 1, sha256: 'XYZ' }), /sha256/);
    const total = store.auditCount();
    const jobCount = store.auditCount({ jobId: 'job-a' });
    store.close();
    assert.equal(total, 4);
    assert.equal(jobCount, 3);
    assert.equal(newest[0]?.kind, 'train-result');
    assert.deepEqual(ofJob.map((a) => a.round), [2, 2, 1]);
  });

  it('writes queued audit entries within auditFlushMs, visible to another connection', async () => {
    const file = freshFile();
    const writer = new CoordinatorStore(file, { auditFlushMs: 5 });
    const reader = new CoordinatorStore(file);
    writer.audit({ kind: 'train', sender: 'coordinator', receiver: 'p1', bytes: 1, sha256: '00'.repeat(32) });
    const before = reader.auditCount();
    await new Promise<void>((resolve) => setTimeout(resolve, 50));
    const afterTurn = reader.auditCount();
    writer.close();
    reader.close();
    assert.equal(before, 0);
    assert.equal(afterTurn, 1);
  });

  it('writes queued audit entries with the next completed round, and keeps them queued when the round is refused', () => {
    const file = freshFile();
    const writer = new CoordinatorStore(file);
    const reader = new CoordinatorStore(file);
    seedStore(writer, 1);
    writer.flushAudit();
    writer.audit({ kind: 'train-result', sender: 'p1', receiver: 'coordinator', jobId: 'job-a', round: 2, bytes: 9, sha256: '22'.repeat(32) });
    assert.throws(() => writer.completeRound('job-a', roundRecord(5), roundParams(5), {}), RoundSequenceError);
    const afterRefused = reader.auditCount({ jobId: 'job-a' });
    writer.completeRound('job-a', roundRecord(2), roundParams(2), {});
    const afterRound = reader.auditCount({ jobId: 'job-a' });
    writer.close();
    reader.close();
    assert.equal(afterRefused, 1, 'only the seeded entry is written; the queued one waits');
    assert.equal(afterRound, 2);
  });

  it('writes each audit entry at once in immediate mode, and flushes the queue on close in batched mode', () => {
    const file = freshFile();
    const immediate = new CoordinatorStore(file, { auditWrites: 'immediate' });
    const queued = new CoordinatorStore(file);
    const reader = new CoordinatorStore(file);
    immediate.audit({ kind: 'a', sender: 's', receiver: 'r', bytes: 1, sha256: '33'.repeat(32) });
    const seenImmediate = reader.auditCount();
    queued.audit({ kind: 'b', sender: 's', receiver: 'r', bytes: 1, sha256: '44'.repeat(32) });
    const seenQueued = reader.auditCount();
    queued.close();
    const seenAfterClose = reader.auditCount();
    immediate.close();
    reader.close();
    assert.equal(seenImmediate, 1);
    assert.equal(seenQueued, 1);
    assert.equal(seenAfterClose, 2);
  });

  it('survives a writer process killed with SIGKILL mid-write: the last committed round is intact and the job continues', async () => {
    const file = freshFile();
    const script = fileURLToPath(new URL('../../test/fixtures/store-write-loop.js', import.meta.url));
    const numParams = 50_000;
    const child = spawn(process.execPath, [script, file, String(numParams)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const lastSeen = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`writer made no progress: ${out} ${err}`));
      }, 8000);
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const seen = [...out.matchAll(/committed (\d+)/g)].map((m) => Number(m[1]));
        const last = seen[seen.length - 1] ?? 0;
        // Kill at a moment decided by the event loop, not by the writer: most likely inside a write.
        if (last >= 6 && child.exitCode === null) {
          clearTimeout(timer);
          child.kill('SIGKILL');
          resolve(last);
        }
      });
    });
    await new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));

    const raw = new Database(file);
    const integrity = raw.pragma('integrity_check', { simple: true });
    raw.close();
    const store = new CoordinatorStore(file);
    const resume = store.loadResume('crash');
    const rounds = store.listRounds('crash').map((r) => r.round);
    const checkpoints = store.listCheckpoints('crash').length;
    assert.ok(resume !== undefined);
    const next = resume.round + 1;
    store.completeRound('crash', roundRecord(next), roundParams(next, numParams), roundState(next, numParams));
    assert.throws(() => store.completeRound('crash', roundRecord(next), roundParams(next, numParams), {}), RoundSequenceError);
    store.close();

    assert.equal(child.signalCode, 'SIGKILL');
    assert.equal(integrity, 'ok');
    assert.ok(resume.round >= lastSeen && resume.round <= lastSeen + 1, `resumed at ${resume.round}, last reported commit ${lastSeen}`);
    assert.ok(bitsEqual(resume.params, roundParams(resume.round, numParams)));
    assert.deepEqual(rounds, Array.from({ length: resume.round }, (_, i) => i + 1));
    assert.ok(checkpoints >= 1 && checkpoints <= 3);
  });
});
