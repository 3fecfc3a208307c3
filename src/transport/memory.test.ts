import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MessageRecord } from './audit.js';
import type { EnvelopeBody, ParticipantLink, RequestHandler } from './channel.js';
import { TransportError } from './errors.js';
import { MemoryTransport } from './memory.js';

const fit: EnvelopeBody = { kind: 'fit', jobId: 'j1', round: 3, header: { lr: 0.5 }, tensors: [{ name: 'w', shape: [2], data: Float32Array.of(1, 2) }] };

const echo: RequestHandler = async (e) => ({
  kind: `${e.kind}-result`,
  jobId: e.jobId,
  round: e.round,
  header: e.header,
  tensors: e.tensors.map((t) => ({ ...t, data: t.data.map((v) => v * 10) })),
});

function linkOf(t: MemoryTransport, id: string): ParticipantLink {
  const link = t.connectedLinks().find((l) => l.participantId === id);
  assert.ok(link !== undefined, `no link for ${id}`);
  return link;
}

async function rejection(p: Promise<unknown>): Promise<TransportError> {
  const err: unknown = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(err instanceof TransportError, `expected a TransportError, got ${String(err)}`);
  return err;
}

describe('MemoryTransport', () => {
  for (const encode of [false, true]) {
    it(`answers a request with the handler's envelope, ids and addresses filled in (encode: ${encode})`, async () => {
      const t = new MemoryTransport({ encode });
      t.connect('p1', echo);
      const answer = await linkOf(t, 'p1').request(fit);
      assert.equal(answer.kind, 'fit-result');
      assert.equal(answer.sender, 'p1');
      assert.equal(answer.receiver, 'coordinator');
      assert.equal(answer.round, 3);
      assert.deepEqual(answer.header, { lr: 0.5 });
      assert.deepEqual([...(answer.tensors[0]?.data ?? [])], [10, 20]);
      assert.match(answer.correlationId, /^[0-9a-f-]{36}$/);
    });
  }

  it('copies tensors on every hop so a participant training in place cannot change the coordinator\'s arrays', async () => {
    const t = new MemoryTransport();
    t.connect('p1', async (e) => {
      e.tensors[0]?.data.fill(99);
      return { kind: 'done', jobId: '', round: 0, header: null, tensors: [] };
    });
    const data = Float32Array.of(1, 2);
    await linkOf(t, 'p1').request({ ...fit, tensors: [{ name: 'w', shape: [2], data }] });
    assert.deepEqual([...data], [1, 2]);
  });

  it('rejects with "timeout" when no answer comes in time, and the handler sees the cancel', async () => {
    const t = new MemoryTransport();
    let cancelled: Promise<void> = Promise.resolve();
    t.connect('p1', (_e, ctx) => {
      cancelled = new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve()));
      return new Promise(() => {});
    });
    const err = await rejection(linkOf(t, 'p1').request(fit, { timeoutMs: 20 }));
    assert.equal(err.reason, 'timeout');
    assert.match(err.message, /participant "p1": no answer to "fit" within 20 ms/);
    await cancelled;
  });

  it('rejects with "aborted" when the caller\'s signal fires, before or after sending', async () => {
    const t = new MemoryTransport();
    t.connect('p1', () => new Promise(() => {}));
    const link = linkOf(t, 'p1');
    assert.equal((await rejection(link.request(fit, { signal: AbortSignal.abort() }))).reason, 'aborted');
    const c = new AbortController();
    const pending = link.request(fit, { signal: c.signal });
    c.abort();
    assert.equal((await rejection(pending)).reason, 'aborted');
  });

  it('rejects every pending request at once with "disconnected" when the participant drops, and reports the drop', async () => {
    const t = new MemoryTransport();
    const drops: [string, string][] = [];
    t.onDisconnect((id, reason) => drops.push([id, reason]));
    const p = t.connect('p1', () => new Promise(() => {}));
    const link = linkOf(t, 'p1');
    const pending = [link.request(fit), link.request(fit, { timeoutMs: 60_000 })];
    p.disconnect('crashed');
    for (const r of pending) assert.equal((await rejection(r)).reason, 'disconnected');
    assert.equal(link.connected, false);
    assert.deepEqual(drops, [['p1', 'participant "p1": crashed']]);
    assert.equal((await rejection(link.request(fit))).reason, 'disconnected');
  });

  it('turns a handler failure into a "remote" rejection carrying its message, without dropping the link', async () => {
    const t = new MemoryTransport({ encode: true });
    t.connect('p1', async () => {
      throw new Error('no data for this job');
    });
    const link = linkOf(t, 'p1');
    const err = await rejection(link.request(fit));
    assert.equal(err.reason, 'remote');
    assert.match(err.message, /handler failed: \[INTERNAL\] no data for this job/);
    assert.equal(link.connected, true);
  });

  it('refuses reserved transport kinds in requests', async () => {
    const t = new MemoryTransport();
    t.connect('p1', echo);
    const err = await rejection(linkOf(t, 'p1').request({ ...fit, kind: 'edufed.transport.hello' }));
    assert.equal(err.reason, 'protocol');
  });

  it('replaces the link of a participant that reconnects, and tells late subscribers about current links', async () => {
    const t = new MemoryTransport();
    const first = t.connect('p1', () => new Promise(() => {}));
    const oldLink = linkOf(t, 'p1');
    const pending = oldLink.request(fit);
    t.connect('p1', echo);
    assert.equal(first.connected, false);
    assert.equal((await rejection(pending)).reason, 'disconnected');
    const seen: string[] = [];
    t.onConnect((l) => seen.push(l.participantId));
    assert.deepEqual(seen, ['p1']);
    assert.equal((await linkOf(t, 'p1').request(fit)).kind, 'fit-result');
  });

  it('enforces the envelope size cap when encoding', async () => {
    const t = new MemoryTransport({ encode: true, maxEnvelopeBytes: 64 });
    t.connect('p1', echo);
    const err = await rejection(linkOf(t, 'p1').request({ ...fit, tensors: [{ name: 'w', shape: [32], data: new Float32Array(32) }] }));
    assert.equal(err.reason, 'too-large');
  });

  it('records every envelope on both sides with identical size and SHA-256', async () => {
    const coordinatorLog: MessageRecord[] = [];
    const participantLog: MessageRecord[] = [];
    const t = new MemoryTransport({ audit: (r) => coordinatorLog.push(r) });
    t.connect('p1', echo, { audit: (r) => participantLog.push(r) });
    await linkOf(t, 'p1').request(fit);
    assert.deepEqual(
      coordinatorLog.map((r) => [r.direction, r.kind, r.bytes, r.sha256]),
      [
        ['sent', 'fit', participantLog[0]?.bytes, participantLog[0]?.sha256],
        ['received', 'fit-result', participantLog[1]?.bytes, participantLog[1]?.sha256],
      ],
    );
    assert.deepEqual(
      participantLog.map((r) => r.direction),
      ['received', 'sent'],
    );
  });

  it('close() rejects pending requests with "closed" and refuses new participants', async () => {
    const t = new MemoryTransport();
    t.connect('p1', () => new Promise(() => {}));
    const pending = linkOf(t, 'p1').request(fit);
    await t.close();
    assert.equal((await rejection(pending)).reason, 'closed');
    assert.throws(() => t.connect('p2', echo), (e: unknown) => e instanceof TransportError && e.reason === 'closed');
  });
});
