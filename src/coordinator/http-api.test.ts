import { request } from 'node:http';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { seedStore } from '../../test/fixtures/coordinator-store.js';
import { startHttpApi, type ApiSource, type HttpApi } from './http-api.js';
import { CoordinatorStore } from './store.js';

interface Reply {
  readonly status: number;
  readonly headers: Headers;
  readonly body: unknown;
}

async function get(api: HttpApi, path: string, init: RequestInit = {}): Promise<Reply> {
  const res = await fetch(`${api.url}${path}`, init);
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text.length > 0 ? JSON.parse(text) : undefined };
}

/** The value at `path` inside parsed JSON, or undefined. */
function field(v: unknown, ...path: (string | number)[]): unknown {
  let cur = v;
  for (const k of path) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = Object.entries(cur).find(([key]) => key === String(k))?.[1];
  }
  return cur;
}

/** The array at `path`; fails the test when it is not one. */
function list(v: unknown, ...path: (string | number)[]): unknown[] {
  const a = field(v, ...path);
  assert.ok(Array.isArray(a), `${path.join('.')} is not an array`);
  return a;
}

describe('HTTP API', () => {
  const store = new CoordinatorStore(':memory:');
  let api: HttpApi;
  let internalErrors: unknown[] = [];
  before(async () => {
    seedStore(store, 4);
    api = await startHttpApi(store, { port: 0, onError: (e) => internalErrors.push(e) });
  });
  after(async () => {
    await api.close();
    store.close();
  });

  it('binds to loopback by default', () => {
    assert.match(api.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('reports health with job counts by status', async () => {
    const r = await get(api, '/api/health');
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
    assert.equal(field(r.body, 'status'), 'ok');
    assert.equal(field(r.body, 'participants'), 3);
    assert.deepEqual(field(r.body, 'jobs'), { pending: 1, running: 1, done: 0, failed: 0 });
  });

  it('lists participants with their flags', async () => {
    const r = await get(api, '/api/participants');
    assert.equal(r.status, 200);
    assert.equal(field(r.body, 'participants', 2, 'id'), 'p3');
    assert.equal(field(r.body, 'participants', 2, 'flaggedCount'), 1);
  });

  it('lists jobs as summaries with their progress', async () => {
    const r = await get(api, '/api/jobs');
    const jobs = list(r.body, 'jobs');
    const a = jobs.find((j) => field(j, 'id') === 'job-a');
    assert.equal(field(a, 'lastRound'), 4);
    assert.equal(field(a, 'maxRounds'), 10);
    assert.equal(field(a, 'strategy'), 'fedavg');
    assert.equal(field(a, 'config'), undefined, 'the summary leaves the configuration out');
  });

  it('shows one job with its configuration, checkpoints and audit count', async () => {
    const r = await get(api, '/api/jobs/job-a');
    assert.equal(r.status, 200);
    assert.equal(field(r.body, 'job', 'config', 'jobId'), 'job-a');
    assert.deepEqual(list(r.body, 'checkpoints').map((c) => field(c, 'round')), [4, 3, 2]);
    assert.equal(field(r.body, 'auditEntries'), 4);
  });

  it('returns rounds with their records, NaN metrics as null, and the last N on request', async () => {
    const all = await get(api, '/api/jobs/job-a/rounds');
    const last2 = await get(api, '/api/jobs/job-a/rounds?last=2');
    assert.equal(list(all.body, 'rounds').length, 4);
    assert.equal(field(all.body, 'rounds', 0, 'auc'), null);
    assert.equal(field(all.body, 'rounds', 0, 'record', 'metrics', 'auc'), null);
    assert.equal(field(all.body, 'rounds', 2, 'record', 'dropped', 0, 'participantId'), 'p3');
    assert.deepEqual(list(last2.body, 'rounds').map((x) => field(x, 'round')), [3, 4]);
  });

  it('returns per-round metric series aligned on the round number', async () => {
    const r = await get(api, '/api/jobs/job-a/metrics');
    assert.deepEqual(field(r.body, 'round'), [1, 2, 3, 4]);
    assert.deepEqual(field(r.body, 'accuracy'), [0.51, 0.52, 0.53, 0.54]);
    assert.equal(field(r.body, 'auc', 0), null);
    assert.deepEqual(field(r.body, 'dropped'), [0, 0, 1, 0]);
  });

  it('returns audit metadata newest first, limited and filtered by job', async () => {
    const r = await get(api, '/api/audit?limit=2&job=job-a');
    assert.equal(r.status, 200);
    assert.equal(field(r.body, 'total'), 4);
    assert.deepEqual(list(r.body, 'entries').map((e) => field(e, 'round')), [4, 3]);
    assert.deepEqual(Object.keys(list(r.body, 'entries')[0] ?? {}).sort(), ['at', 'bytes', 'correlationId', 'id', 'jobId', 'kind', 'receiver', 'round', 'sender', 'sha256']);
  });

  it('answers 404 with a JSON error for an unknown job and an unknown path', async () => {
    const job = await get(api, '/api/jobs/nope');
    const path = await get(api, '/api/nothing');
    const rounds = await get(api, '/api/jobs/nope/rounds');
    assert.equal(job.status, 404);
    assert.deepEqual(job.body, { error: 'no job "nope"' });
    assert.equal(path.status, 404);
    assert.equal(typeof field(path.body, 'error'), 'string');
    assert.equal(rounds.status, 404);
  });

  it('answers 405 with an Allow header for methods other than GET and HEAD', async () => {
    const r = await get(api, '/api/jobs', { method: 'POST', body: '{}' });
    const del = await get(api, '/api/jobs/job-a', { method: 'DELETE' });
    assert.equal(r.status, 405);
    assert.equal(r.headers.get('allow'), 'GET, HEAD');
    assert.equal(typeof field(r.body, 'error'), 'string');
    assert.equal(del.status, 405);
  });

  it('answers 400 for out-of-range or non-numeric query values and malformed paths', async () => {
    for (const q of ['/api/audit?limit=0', '/api/audit?limit=abc', '/api/audit?limit=1e3', '/api/jobs/job-a/rounds?last=-1', '/api/jobs/%E0%A4%A']) {
      const r = await get(api, q);
      assert.equal(r.status, 400, q);
      assert.equal(typeof field(r.body, 'error'), 'string', q);
    }
  });

  it('answers HEAD with headers and no body', async () => {
    const r = await get(api, '/api/health', { method: 'HEAD' });
    assert.equal(r.status, 200);
    assert.equal(r.body, undefined);
  });

  it('sends no CORS header by default', async () => {
    const r = await get(api, '/api/health', { headers: { origin: 'http://evil.example' } });
    assert.equal(r.headers.get('access-control-allow-origin'), null);
  });

  it('hides internal errors behind a bare 500 without a stack trace, and reports them to onError', async () => {
    internalErrors = [];
    const broken: ApiSource = {
      schemaVersion: 1,
      listParticipants: () => {
        throw new Error('disk I/O error at /secret/path');
      },
      listJobs: () => [],
      getJob: () => undefined,
      listRounds: () => [],
      listCheckpoints: () => [],
      listAudit: () => [],
      auditCount: () => 0,
    };
    const other = await startHttpApi(broken, { port: 0, onError: (e) => internalErrors.push(e) });
    const r = await get(other, '/api/participants');
    await other.close();
    assert.equal(r.status, 500);
    assert.deepEqual(r.body, { error: 'internal error' });
    assert.equal(internalErrors.length, 1);
  });

  it('sends the configured CORS origin only when one is set', async () => {
    const other = await startHttpApi(store, { port: 0, corsOrigin: 'http://localhost:5173' });
    const r = await get(other, '/api/health');
    await other.close();
    assert.equal(r.headers.get('access-control-allow-origin'), 'http://localhost:5173');
  });

  it('refuses a port already in use with a ConfigError naming it', async () => {
    const port = Number(new URL(api.url).port);
    await assert.rejects(startHttpApi(store, { port }), (e: unknown) => e instanceof Error && e.message.includes(`127.0.0.1:${port}`));
  });

  it('closes open keep-alive connections on close', async () => {
    const other = await startHttpApi(store, { port: 0 });
    const port = Number(new URL(other.url).port);
    await new Promise<void>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/api/health', agent: false, headers: { connection: 'keep-alive' } }, (res) => {
        res.resume();
        res.on('end', () => resolve());
      });
      req.on('error', reject);
      req.end();
    });
    const t0 = performance.now();
    await other.close();
    assert.ok(performance.now() - t0 < 2000, 'close() must not wait for idle keep-alive connections to time out');
  });
});
