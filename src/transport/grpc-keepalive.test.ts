/**
 * Keepalive with the default tuning: a coordinator whose event loop is blocked for seconds
 * (encoding, aggregating) must not lose healthy participants. The participant runs in a child
 * process, so its pings really go unanswered while the coordinator is busy.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ParticipantLink } from './channel.js';
import { startCoordinatorServer } from './grpc-server.js';
import type { TransportLogger } from './logger.js';
import { coordinatorFolder, initFederation, issueParticipant, participantFolder, readTlsMaterial } from './pki.js';

/** Synchronous work that holds the event loop, as the coordinator's hot path once did. */
const BUSY_MS = 5_500;

/** A participant process: the real client with an echo handler, configured through the environment. */
const CHILD = `
const { connectParticipant } = await import(process.env.EDUFED_CLIENT_URL);
const { readTlsMaterial } = await import(process.env.EDUFED_PKI_URL);
const quiet = { info: () => {}, warn: () => {}, error: () => {} };
connectParticipant({
  address: process.env.EDUFED_ADDRESS, tls: readTlsMaterial(process.env.EDUFED_TLS_DIR), participantId: process.env.EDUFED_ID, logger: quiet,
  handler: async (e) => ({ kind: 'echo', jobId: e.jobId, round: e.round, header: e.header, tensors: e.tensors }),
});
`;

let root = '';
let dir = '';
const closers: (() => Promise<void>)[] = [];
const quiet: TransportLogger = { info: () => {}, warn: () => {}, error: () => {} };

function busy(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // Spin: no timers, no I/O, no ping answered.
  }
}

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'edufed-keepalive-'));
  dir = join(root, 'fed');
  await initFederation(dir);
  await Promise.all(['p1', 'p2'].map((id) => issueParticipant(dir, id)));
});

after(async () => {
  for (const c of closers.reverse()) await c();
  rmSync(root, { recursive: true, force: true });
});

describe('gRPC keepalive (default tuning)', () => {
  it(`keeps healthy links when the coordinator is busy for ${BUSY_MS / 1000} s of synchronous work between sends`, async () => {
    // Prepare: two connected participants with the default keepalive (ping every 2 s).
    const t = await startCoordinatorServer({ port: 0, tls: readTlsMaterial(coordinatorFolder(dir)), logger: quiet });
    closers.push(() => t.close());
    const links = new Map<string, ParticipantLink>();
    const dropped: string[] = [];
    t.onDisconnect((id, reason) => dropped.push(`${id}: ${reason}`));
    const both = new Promise<void>((resolve) =>
      t.onConnect((l) => {
        links.set(l.participantId, l);
        if (links.size === 2) resolve();
      }),
    );
    for (const id of ['p1', 'p2']) {
      const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD], {
        stdio: 'ignore',
        env: {
          ...process.env,
          EDUFED_CLIENT_URL: new URL('./grpc-client.js', import.meta.url).href,
          EDUFED_PKI_URL: new URL('./pki.js', import.meta.url).href,
          EDUFED_ADDRESS: t.address,
          EDUFED_TLS_DIR: participantFolder(dir, id),
          EDUFED_ID: id,
        },
      });
      closers.push(async () => {
        child.kill();
      });
    }
    await both;
    const data = Float32Array.from({ length: 1 << 18 }, (_, i) => i);
    const request = (id: string): Promise<unknown> =>
      (links.get(id) as ParticipantLink).request({ kind: 'fit', jobId: 'j', round: 1, header: null, tensors: [{ name: 'w', shape: [data.length], data }] });

    // Execute: send, hold the event loop, send again.
    const first = request('p1');
    busy(BUSY_MS);
    const second = request('p2');
    const answers = await Promise.allSettled([first, second]);

    // Assert
    assert.deepEqual(answers.map((a) => a.status), ['fulfilled', 'fulfilled'], JSON.stringify(answers.map((a) => (a.status === 'rejected' ? String(a.reason) : 'ok'))));
    assert.deepEqual(dropped, []);
    assert.ok([...links.values()].every((l) => l.connected));
  });
});
