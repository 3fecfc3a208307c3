/**
 * End-to-end: the coordinator transport in this process, participants as real separate processes
 * (test/fixtures/participant-process.ts) dialing it over mutual TLS on loopback.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { MessageRecord } from '../src/transport/audit.js';
import type { ParticipantLink } from '../src/transport/channel.js';
import { TransportError } from '../src/transport/errors.js';
import { startCoordinatorServer, type GrpcCoordinatorTransport } from '../src/transport/grpc-server.js';
import type { TransportLogger } from '../src/transport/logger.js';
import {
  coordinatorFolder,
  initFederation,
  issueParticipant,
  participantFolder,
  readTlsMaterial,
  revocationFile,
  revokeParticipant,
} from '../src/transport/pki.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/participant-process.js', import.meta.url));

type Event = Record<string, unknown>;

interface Child {
  readonly process: ChildProcess;
  readonly events: Event[];
  waitFor(pred: (e: Event) => boolean, timeoutMs?: number): Promise<Event>;
  exited: Promise<number | null>;
}

const children: ChildProcess[] = [];
let root = '';
let fed = '';
let otherFed = '';
let server: GrpcCoordinatorTransport;
let port = 0;
const logLines: string[] = [];
const audit: MessageRecord[] = [];
const logger: TransportLogger = {
  info: (m) => logLines.push(`INFO ${m}`),
  warn: (m) => logLines.push(`WARN ${m}`),
  error: (m) => logLines.push(`ERROR ${m}`),
};

function startChild(config: Record<string, unknown>): Child {
  const proc = spawn(process.execPath, [FIXTURE], {
    env: { ...process.env, EDUFED_FIXTURE_CONFIG: JSON.stringify(config) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(proc);
  const events: Event[] = [];
  const waiters: { pred: (e: Event) => boolean; resolve: (e: Event) => void }[] = [];
  const stderr: string[] = [];
  proc.stderr?.on('data', (b: Buffer) => stderr.push(b.toString()));
  createInterface({ input: proc.stdout ?? process.stdin }).on('line', (line) => {
    const e = JSON.parse(line) as Event;
    events.push(e);
    for (const w of [...waiters]) {
      if (w.pred(e)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(e);
      }
    }
  });
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return {
    process: proc,
    events,
    exited,
    waitFor: (pred, timeoutMs = 5_000) => {
      const seen = events.find(pred);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`child event not seen in ${timeoutMs} ms; events: ${JSON.stringify(events)}; stderr: ${stderr.join('')}`)),
          timeoutMs,
        );
        waiters.push({
          pred,
          resolve: (e) => {
            clearTimeout(timer);
            resolve(e);
          },
        });
      });
    },
  };
}

function participant(id: string, dir = fed): Child {
  return startChild({ mode: 'participant', address: `127.0.0.1:${port}`, tlsDir: participantFolder(dir, id), participantId: id });
}

function nextLink(transport: GrpcCoordinatorTransport, id: string): Promise<ParticipantLink> {
  return new Promise((resolve) => {
    transport.onConnect((link) => {
      if (link.participantId === id && link.connected) resolve(link);
    });
  });
}

async function startServer(listenPort: number): Promise<GrpcCoordinatorTransport> {
  return startCoordinatorServer({
    port: listenPort,
    tls: readTlsMaterial(coordinatorFolder(fed)),
    revocationFile: revocationFile(fed),
    logger,
    audit: (r) => audit.push(r),
  });
}

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'edufed-e2e-'));
  fed = join(root, 'fed');
  otherFed = join(root, 'other');
  await initFederation(fed);
  await Promise.all([issueParticipant(fed, 'p1'), issueParticipant(fed, 'p2'), issueParticipant(fed, 'p3')]);
  await initFederation(otherFed);
  await issueParticipant(otherFed, 'p1');
  server = await startServer(0);
  port = server.port;
});

after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await server.close();
  rmSync(root, { recursive: true, force: true });
});

test('a participant process answers a 20 MB tensor request over mutual TLS, chunked below the gRPC message limit', async () => {
  // Prepare
  const linked = nextLink(server, 'p1');
  const child = participant('p1');
  const link = await linked;
  const n = 5 * 1024 * 1024;
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = i % 1000;
  audit.length = 0;
  // Execute
  const answer = await link.request(
    { kind: 'add-one', jobId: 'job-1', round: 4, header: { note: 'big' }, tensors: [{ name: 'w', shape: [1024, 5120], data }] },
    { timeoutMs: 15_000 },
  );
  // Assert
  assert.equal(answer.sender, 'p1');
  assert.equal(answer.kind, 'add-one-result');
  assert.deepEqual(answer.header, { tensors: 1 });
  const out = answer.tensors[0];
  assert.ok(out !== undefined);
  assert.deepEqual(out.shape, [1024, 5120]);
  let mismatches = 0;
  for (let i = 0; i < n; i++) if (out.data[i] !== (i % 1000) + 1) mismatches++;
  assert.equal(mismatches, 0);
  const sent = audit.find((r) => r.direction === 'sent' && r.kind === 'add-one');
  assert.ok(sent !== undefined && sent.bytes > 20 * 1024 * 1024, 'the request envelope exceeded 20 MiB, so it could only pass in chunks');
  assert.match(sent.sha256, /^[0-9a-f]{64}$/);
  child.process.kill('SIGKILL');
  await child.exited;
});

test('killing the participant process mid-request rejects the pending request at once with reason "disconnected"', async () => {
  // Prepare
  const linked = nextLink(server, 'p1');
  const child = participant('p1');
  const link = await linked;
  const dropped = new Promise<string>((resolve) => server.onDisconnect((id, reason) => id === 'p1' && resolve(reason)));
  const pending = link.request({ kind: 'hang', jobId: 'job-1', round: 1, header: null, tensors: [] }, { timeoutMs: 30_000 });
  await child.waitFor((e) => e['event'] === 'hang');
  // Execute
  const killedAt = performance.now();
  child.process.kill('SIGKILL');
  const err: unknown = await pending.then(
    () => undefined,
    (e: unknown) => e,
  );
  const elapsed = performance.now() - killedAt;
  // Assert
  assert.ok(err instanceof TransportError, `expected a TransportError, got ${String(err)}`);
  assert.equal(err.reason, 'disconnected');
  // The request's own timeout is 30 s: rejecting well before it proves the disconnect was noticed, even on a loaded machine.
  assert.ok(elapsed < 10_000, `rejected after ${elapsed.toFixed(0)} ms`);
  assert.equal(link.connected, false);
  assert.ok((await dropped).length > 0);
});

test('a certificate signed by another CA is refused with UNAUTHENTICATED, the reason logged by the coordinator and sent to the participant', async () => {
  // Execute: the intruder trusts the real CA (it is public) but holds a certificate from another CA.
  const child = startChild({
    mode: 'impostor',
    address: `127.0.0.1:${port}`,
    tlsDir: participantFolder(otherFed, 'p1'),
    caDir: participantFolder(fed, 'p1'),
    participantId: 'p1',
  });
  const status = await child.waitFor((e) => e['event'] === 'status');
  // Assert
  assert.equal(status['code'], 16);
  assert.match(String(status['details']), /coordinator refused participant "p1": certificate is not issued by this federation's CA/);
  assert.ok(logLines.some((l) => /WARN refused participant connection: certificate is not issued by this federation's CA/.test(l)));
  assert.equal(child.events.some((e) => e['event'] === 'data'), false);
});

test('a revoked certificate is refused on its next connection, logged on both sides', async () => {
  // Prepare
  revokeParticipant(fed, 'p2', 'keyCompromise');
  // Execute
  const child = participant('p2');
  const refused = await child.waitFor((e) => e['state'] === 'refused');
  // Assert
  assert.match(String(refused['reason']), /participant "p2".*revoked.*keyCompromise/);
  assert.equal(await child.exited, 3);
  assert.ok(logLines.some((l) => /WARN refused participant connection: certificate serial \w+ was revoked/.test(l)));
  assert.equal(server.connectedLinks().some((l) => l.participantId === 'p2'), false);
});

test('a participant whose envelope claims another sender is refused with PERMISSION_DENIED and never linked', async () => {
  // Prepare
  const linkedIds: string[] = [];
  server.onConnect((l) => linkedIds.push(l.participantId));
  linkedIds.length = 0;
  // Execute
  const child = startChild({ mode: 'impostor', address: `127.0.0.1:${port}`, tlsDir: participantFolder(fed, 'p3'), participantId: 'p3', claimSender: 'p1' });
  const status = await child.waitFor((e) => e['event'] === 'status');
  // Assert
  assert.equal(status['code'], 7);
  assert.match(String(status['details']), /envelope claims sender "p1" but the certificate identifies "p3"/);
  assert.ok(logLines.some((l) => /WARN refused message from participant "p3": envelope claims sender "p1"/.test(l)));
  assert.deepEqual(linkedIds, []);
  assert.equal(child.events.some((e) => e['event'] === 'data'), false);
});

test('after a coordinator restart on the same port the participant process reconnects and answers again', async () => {
  // Prepare
  const linked = nextLink(server, 'p1');
  const child = participant('p1');
  await linked;
  // Execute
  await server.close();
  await child.waitFor((e) => e['state'] === 'backoff');
  server = await startServer(port);
  const relinked = await nextLink(server, 'p1');
  const answer = await relinked.request(
    { kind: 'add-one', jobId: 'job-2', round: 1, header: null, tensors: [{ name: 'x', shape: [2], data: Float32Array.of(1, 2) }] },
    { timeoutMs: 5_000 },
  );
  // Assert
  assert.deepEqual([...(answer.tensors[0]?.data ?? [])], [2, 3]);
  let connects = 0;
  await child.waitFor((e) => e['state'] === 'connected' && ++connects === 2);
});
