/**
 * The gRPC/TLS transport with both ends in this process (separate processes: test/transport-e2e.test.ts).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { Client, Metadata, credentials, type StatusObject } from '@grpc/grpc-js';
import { ConfigError } from '../core/errors.js';
import type { EnvelopeBody, ParticipantLink, RequestHandler } from './channel.js';
import { TransportError } from './errors.js';
import { connectParticipant, type ConnectParticipantOptions, type ParticipantConnection, type ParticipantConnectionState } from './grpc-client.js';
import { startCoordinatorServer, type CoordinatorServerOptions, type GrpcCoordinatorTransport } from './grpc-server.js';
import { CONNECT_PATH } from './grpc-service.js';
import type { TransportLogger } from './logger.js';
import { coordinatorFolder, initFederation, issueParticipant, participantFolder, readTlsMaterial, revocationFile, revokeParticipant, type TlsMaterial } from './pki.js';

let root = '';
let dir = '';
const closers: (() => Promise<void>)[] = [];

function capture(): { lines: string[]; logger: TransportLogger } {
  const lines: string[] = [];
  return {
    lines,
    logger: { info: (m) => lines.push(`INFO ${m}`), warn: (m) => lines.push(`WARN ${m}`), error: (m) => lines.push(`ERROR ${m}`) },
  };
}

async function server(extra: Partial<CoordinatorServerOptions> = {}): Promise<{ t: GrpcCoordinatorTransport; lines: string[] }> {
  const { lines, logger } = capture();
  const t = await startCoordinatorServer({ port: 0, tls: readTlsMaterial(coordinatorFolder(dir)), logger, ...extra });
  closers.push(() => t.close());
  return { t, lines };
}

const echo: RequestHandler = async (e) => ({ kind: 'echo', jobId: e.jobId, round: e.round, header: e.header, tensors: e.tensors });

interface Participant {
  readonly conn: ParticipantConnection;
  readonly states: ParticipantConnectionState[];
  readonly lines: string[];
  reach(pred: (s: ParticipantConnectionState) => boolean): Promise<ParticipantConnectionState>;
}

function participant(id: string, address: string, handler: RequestHandler = echo, extra: Partial<ConnectParticipantOptions> = {}): Participant {
  const { lines, logger } = capture();
  const states: ParticipantConnectionState[] = [];
  const waiters: { pred: (s: ParticipantConnectionState) => boolean; resolve: (s: ParticipantConnectionState) => void }[] = [];
  const conn = connectParticipant({
    address,
    tls: readTlsMaterial(participantFolder(dir, id)),
    participantId: id,
    handler,
    logger,
    reconnect: { initialMs: 50, maxMs: 200 },
    onState: (s) => {
      states.push(s);
      for (const w of [...waiters]) if (w.pred(s)) w.resolve(s);
    },
    ...extra,
  });
  closers.push(() => conn.close());
  return {
    conn,
    states,
    lines,
    reach: (pred) => {
      const seen = states.find(pred);
      return seen !== undefined ? Promise.resolve(seen) : new Promise((resolve) => waiters.push({ pred, resolve }));
    },
  };
}

function linkFor(t: GrpcCoordinatorTransport, id: string): Promise<ParticipantLink> {
  return new Promise((resolve) => t.onConnect((l) => l.participantId === id && l.connected && resolve(l)));
}

async function rejection(p: Promise<unknown>): Promise<TransportError> {
  const err: unknown = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(err instanceof TransportError, `expected a TransportError, got ${String(err)}`);
  return err;
}

const body = (kind: string, tensors: EnvelopeBody['tensors'] = []): EnvelopeBody => ({ kind, jobId: 'j', round: 1, header: null, tensors });

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'edufed-grpc-'));
  dir = join(root, 'fed');
  await initFederation(dir);
  await Promise.all(['p1', 'p2', 'p3', 'p4'].map((id) => issueParticipant(dir, id)));
});

after(async () => {
  for (const c of closers.reverse()) await c();
  rmSync(root, { recursive: true, force: true });
});

describe('gRPC transport', () => {
  it('answers many concurrent multi-chunk requests, each with its own answer', async () => {
    const { t } = await server({ chunkBytes: 1000 });
    const linked = linkFor(t, 'p1');
    participant('p1', t.address, async (e) => {
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 20)));
      return { kind: 'echo', jobId: e.jobId, round: e.round, header: e.header, tensors: e.tensors.map((x) => ({ ...x, data: x.data.map((v) => -v) })) };
    }, { chunkBytes: 700 });
    const link = await linked;
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) => link.request({ ...body('job'), header: { i }, tensors: [{ name: 'w', shape: [300 + i], data: new Float32Array(300 + i).fill(i) }] })),
    );
    answers.forEach((a, i) => {
      assert.deepEqual(a.header, { i });
      assert.equal(a.tensors[0]?.data.length, 300 + i);
      assert.ok(a.tensors[0]?.data.every((v) => v === -i));
    });
  });

  it('refuses a client that offers at most TLS 1.2, logging the failed handshake', async () => {
    const { t, lines } = await server();
    const tls: TlsMaterial = readTlsMaterial(participantFolder(dir, 'p1'));
    const err = await new Promise<Error>((resolve) => {
      const s = tlsConnect({ host: '127.0.0.1', port: t.port, ca: tls.caCertPem, cert: tls.certPem, key: tls.keyPem, maxVersion: 'TLSv1.2', servername: 'localhost', ALPNProtocols: ['h2'] });
      s.once('error', resolve);
      s.once('secureConnect', () => resolve(new Error('handshake unexpectedly succeeded')));
    });
    assert.match(err.message, /protocol version|unsupported protocol/i);
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(lines.some((l) => l.startsWith('WARN TLS handshake with a participant failed')));
  });

  it('refuses an expired certificate with the reason on both sides, and the participant stops retrying', async () => {
    const { t, lines } = await server({ now: () => new Date(Date.now() + 3 * 365 * 86_400_000) });
    const p = participant('p1', t.address);
    const final = await p.conn.done;
    assert.equal(final.state, 'refused');
    assert.ok(final.state === 'refused' && /coordinator refused participant "p1": certificate expired on/.test(final.reason));
    assert.ok(p.lines.some((l) => /^ERROR the coordinator refused this participant: .*certificate expired on/.test(l)));
    assert.ok(lines.some((l) => /^WARN refused participant connection: certificate expired on/.test(l)));
    assert.equal(p.states.filter((s) => s.state === 'connecting').length, 1);
  });

  it('refuses a participant the coordinator does not know', async () => {
    const { t } = await server({ allowParticipant: (id) => id !== 'p3' });
    const final = await participant('p3', t.address).conn.done;
    assert.ok(final.state === 'refused' && /participant is not registered/.test(final.reason));
  });

  it('drops a connected participant as soon as its certificate is revoked', async () => {
    const { t, lines } = await server({ revocationFile: revocationFile(dir), revocationPollMs: 50 });
    const linked = linkFor(t, 'p2');
    const p = participant('p2', t.address, () => new Promise(() => {}));
    const link = await linked;
    const pending = link.request(body('train'));
    revokeParticipant(dir, 'p2', 'privilegeWithdrawn');
    assert.equal((await rejection(pending)).reason, 'refused');
    const final = await p.conn.done;
    assert.ok(final.state === 'refused' && /revoked .*privilegeWithdrawn/.test(final.reason));
    assert.ok(lines.some((l) => /^WARN dropping participant "p2": certificate serial \w+ was revoked/.test(l)));
  });

  it('refuses to send a request above the size cap, and drops a link whose answer exceeds it', async () => {
    const { t, lines } = await server({ maxEnvelopeBytes: 4096 });
    const linked = linkFor(t, 'p1');
    participant('p1', t.address, async () => body('big-answer', [{ name: 'w', shape: [2000], data: new Float32Array(2000) }]));
    const link = await linked;
    const tooBig = await rejection(link.request(body('x', [{ name: 'w', shape: [2000], data: new Float32Array(2000) }])));
    assert.equal(tooBig.reason, 'too-large');
    assert.equal(link.connected, true);
    const dropped = await rejection(link.request(body('small')));
    assert.equal(dropped.reason, 'too-large');
    assert.match(dropped.message, /above the maximum of 4096/);
    assert.equal(link.connected, false);
    assert.ok(lines.some((l) => /^WARN refused message from participant "p1": .*above the maximum of 4096/.test(l)));
  });

  it('carries a handler failure back as a "remote" error without dropping the link', async () => {
    const { t } = await server();
    const linked = linkFor(t, 'p1');
    participant('p1', t.address, async () => {
      throw new ConfigError('policy', 'max rounds exceeded');
    });
    const link = await linked;
    const err = await rejection(link.request(body('train')));
    assert.equal(err.reason, 'remote');
    assert.match(err.message, /\[CONFIG\] policy: max rounds exceeded/);
    assert.equal(link.connected, true);
  });

  it('closes a stream that says no hello in time', async () => {
    const { t } = await server({ helloTimeoutMs: 100 });
    const tls = readTlsMaterial(participantFolder(dir, 'p4'));
    const client = new Client(t.address, credentials.createSsl(Buffer.from(tls.caCertPem), Buffer.from(tls.keyPem), Buffer.from(tls.certPem)), {
      'grpc.ssl_target_name_override': 'localhost',
    });
    const pass = (b: Buffer): Buffer => b;
    const call = client.makeBidiStreamRequest(CONNECT_PATH, pass, pass, new Metadata());
    call.on('error', () => {});
    const status = await new Promise<StatusObject>((resolve) => call.on('status', resolve));
    client.close();
    assert.equal(status.code, 4);
    assert.match(status.details, /no hello within 100 ms/);
  });

  it('notices a silent peer (packets black-holed, no FIN) by keepalive within a second and rejects its pending request', async () => {
    const { t } = await server({ keepaliveMs: 200, keepaliveTimeoutMs: 300 });
    const sockets: Socket[] = [];
    let frozen = false;
    const proxy: Server = createServer((inbound) => {
      const outbound = netConnect(t.port, '127.0.0.1');
      sockets.push(inbound, outbound);
      for (const [from, to] of [[inbound, outbound], [outbound, inbound]] as const) {
        from.on('data', (b: Buffer) => {
          if (!frozen) to.write(b);
        });
        from.on('error', () => {});
      }
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    closers.push(async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => proxy.close(r));
    });
    const address = proxy.address();
    assert.ok(typeof address === 'object' && address !== null);
    const linked = linkFor(t, 'p1');
    participant('p1', `127.0.0.1:${address.port}`, () => new Promise(() => {}), { keepaliveMs: 200, keepaliveTimeoutMs: 300 });
    const link = await linked;
    const pending = link.request(body('train'));
    await new Promise((r) => setTimeout(r, 50));
    const frozenAt = performance.now();
    frozen = true;
    const err = await rejection(pending);
    const elapsed = performance.now() - frozenAt;
    assert.equal(err.reason, 'disconnected');
    // Without keepalive the request would hang forever; the bound only separates the two, with room for a loaded CI machine.
    assert.ok(elapsed < 5_000, `noticed after ${elapsed.toFixed(0)} ms`);
  });

  it('refuses inconsistent configuration at once', async () => {
    const address = '127.0.0.1:1';
    const tls = readTlsMaterial(participantFolder(dir, 'p1'));
    const opts: ConnectParticipantOptions = { address, tls, participantId: 'p1', handler: echo };
    assert.throws(() => connectParticipant({ ...opts, participantId: 'p2' }), /"p2" differs from the certificate's identity "p1"/);
    assert.throws(() => connectParticipant({ ...opts, address: 'no-port' }), /"no-port" is not host:port/);
    assert.throws(() => connectParticipant({ ...opts, chunkBytes: 4 << 20 }), /exceeds maxFrameBytes/);
    assert.throws(() => connectParticipant({ ...opts, tls: { ...tls, keyPem: readTlsMaterial(participantFolder(dir, 'p2')).keyPem } }), /private key does not match/);
    await assert.rejects(startCoordinatorServer({ port: 0, tls }), /belongs to participant "p1", not the coordinator/);
  });
});
