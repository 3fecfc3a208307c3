import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ConfigError } from '../core/errors.js';
import { seedStore } from '../../test/fixtures/coordinator-store.js';
import { startHttpApi, type HttpApi } from '../coordinator/http-api.js';
import { CoordinatorStore } from '../coordinator/store.js';
import { statusCommand } from './status.js';

class Capture {
  text = '';
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
}

describe('edufed status', () => {
  const store = new CoordinatorStore(':memory:');
  let api: HttpApi;
  before(async () => {
    seedStore(store, 4);
    store.setJobStatus('job-b', 'failed', { error: 'round 1: only 0 participants available, quorum is 1' });
    api = await startHttpApi(store, { port: 0 });
  });
  after(async () => {
    await api.close();
    store.close();
  });

  it('prints participants and jobs as tables', async () => {
    const out = new Capture();
    const code = await statusCommand(['--api', api.url], out);
    assert.equal(code, 0);
    assert.match(out.text, /3 participants; jobs: 1 running, 0 pending, 0 done, 1 failed/);
    assert.match(out.text, /^p3\s+connected\s+\S+ \S+\s+1\s+update has NaN at index 4$/m);
    assert.match(out.text, /^job-a\s+horizontal\s+running\s+4\/10\s+fedavg\s+logistic\b/m);
    assert.match(out.text, /^job-b\s+horizontal\s+failed\s+0\/10 .*quorum is 1$/m);
    assert.doesNotMatch(out.text, /accuracy/, 'round tables only appear with --job');
  });

  it('prints a job\'s last rounds, n/a for undefined metrics, and why participants were dropped', async () => {
    const out = new Capture();
    await statusCommand(['--api', `${api.url}/`, '--job', 'job-a', '--rounds', '4'], out);
    assert.match(out.text, /Job job-a: running, round 4\/10, fedavg, logistic; checkpoint of round 4 \(sha256 [0-9a-f]{12}…\)/);
    assert.match(out.text, /^round\s+accuracy\s+auc\s+f1\s+log loss\s+train loss\s+in\s+dropped\s+wall ms$/m);
    assert.match(out.text, /^\s+1\s+0\.5100\s+n\/a\s+/m);
    assert.match(out.text, /^\s+3\s+0\.5300\s+0\.6150\s+.*\s2\s+1\s+15$/m);
    assert.match(out.text, /round 3: p3: deadline of 100 ms passed/);
  });

  it('limits the round table to the last N rounds', async () => {
    const out = new Capture();
    await statusCommand(['--api', api.url, '--job', 'job-a', '--rounds', '2'], out);
    assert.doesNotMatch(out.text, /^\s+2\s+0\.5200/m);
    assert.match(out.text, /^\s+3\s+0\.5300/m);
    assert.match(out.text, /^\s+4\s+0\.5400/m);
  });

  it('prints one JSON document with --json', async () => {
    const out = new Capture();
    await statusCommand(['--api', api.url, '--job', 'job-a', '--json'], out);
    const doc: unknown = JSON.parse(out.text);
    assert.ok(typeof doc === 'object' && doc !== null);
    assert.deepEqual(Object.keys(doc).sort(), ['api', 'health', 'job', 'jobs', 'participants', 'rounds']);
  });

  it('names the job when it does not exist', async () => {
    await assert.rejects(statusCommand(['--api', api.url, '--job', 'ghost'], new Capture()), (e: unknown) => e instanceof ConfigError && e.field === '--job' && /no job "ghost"/.test(e.message));
  });

  it('names the URL when the API cannot be reached', async () => {
    const closed = await startHttpApi(store, { port: 0 });
    await closed.close();
    await assert.rejects(statusCommand(['--api', closed.url], new Capture()), (e: unknown) => e instanceof ConfigError && e.message.includes(`${closed.url}/api/`));
  });

  it('requires --api to be an http URL', async () => {
    await assert.rejects(statusCommand([], new Capture()), /--api: is required/);
    await assert.rejects(statusCommand(['--api', 'ftp://x'], new Capture()), /must be an http or https URL/);
  });

  it('refuses a response that is not the API\'s shape', async () => {
    const { createServer } = await import('node:http');
    const fake = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: 'ok', schemaVersion: 'one', participants: [], jobs: {} }));
    });
    await new Promise<void>((r) => fake.listen(0, '127.0.0.1', () => r()));
    const addr = fake.address();
    assert.ok(addr !== null && typeof addr !== 'string');
    await assert.rejects(statusCommand(['--api', `http://127.0.0.1:${addr.port}`], new Capture()), /health\.schemaVersion: expected a finite number/);
    await new Promise<void>((r) => fake.close(() => r()));
  });
});
