import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Envelope } from './channel.js';
import { CoordinatorLink } from './coordinator-link.js';
import { TransportError } from './errors.js';

function answerTo(request: Envelope, kind = 'ok', header: unknown = null): Envelope {
  return { kind, correlationId: request.correlationId, sender: 'p1', receiver: 'coordinator', jobId: '', round: 0, header, tensors: [] };
}

describe('CoordinatorLink', () => {
  it('resolves a request only with the answer carrying its correlation id, and refuses a second (replayed) answer', async () => {
    const sent: Envelope[] = [];
    const link = new CoordinatorLink('p1', (e) => sent.push(e));
    const pending = link.request({ kind: 'fit', jobId: 'j', round: 1, header: null, tensors: [] });
    const request = sent[0];
    assert.ok(request !== undefined);
    assert.equal(link.deliver({ ...answerTo(request), correlationId: 'someone-else' }), false);
    assert.equal(link.deliver(answerTo(request, 'fit-result')), true);
    assert.equal((await pending).kind, 'fit-result');
    assert.equal(link.deliver(answerTo(request, 'fit-result')), false);
    assert.equal(link.pendingCount, 0);
  });

  it('sends a cancel notice for a request that timed out, and drops its late answer', async () => {
    const sent: Envelope[] = [];
    const link = new CoordinatorLink('p1', (e) => sent.push(e));
    const pending = link.request({ kind: 'fit', jobId: 'j', round: 1, header: null, tensors: [] }, { timeoutMs: 5 });
    await assert.rejects(pending, (e: unknown) => e instanceof TransportError && e.reason === 'timeout');
    const [request, cancel] = sent;
    assert.ok(request !== undefined && cancel !== undefined);
    assert.equal(cancel.kind, 'edufed.transport.cancel');
    assert.equal(cancel.correlationId, request.correlationId);
    assert.equal(link.deliver(answerTo(request)), false);
  });

  it('turns an error answer into a "remote" rejection and tolerates a malformed error header', async () => {
    const sent: Envelope[] = [];
    const link = new CoordinatorLink('p1', (e) => sent.push(e));
    const a = link.request({ kind: 'fit', jobId: '', round: 0, header: null, tensors: [] });
    const b = link.request({ kind: 'fit', jobId: '', round: 0, header: null, tensors: [] });
    const [ra, rb] = sent as [Envelope, Envelope];
    link.deliver(answerTo(ra, 'edufed.transport.error', { code: 'DATA', message: 'bad column' }));
    link.deliver(answerTo(rb, 'edufed.transport.error', [1, 2]));
    await assert.rejects(a, /participant "p1": handler failed: \[DATA\] bad column/);
    await assert.rejects(b, /handler failed: \[INTERNAL\] no message/);
  });

  it('rejects at once when the envelope cannot be sent, and keeps no pending entry', async () => {
    const link = new CoordinatorLink('p1', () => {
      throw new TransportError('too-large', 'envelope is too large');
    });
    await assert.rejects(link.request({ kind: 'fit', jobId: '', round: 0, header: null, tensors: [] }), (e: unknown) => e instanceof TransportError && e.reason === 'too-large');
    assert.equal(link.pendingCount, 0);
  });

  it('refuses a non-positive timeout', async () => {
    const link = new CoordinatorLink('p1', () => {});
    await assert.rejects(link.request({ kind: 'fit', jobId: '', round: 0, header: null, tensors: [] }, { timeoutMs: 0 }), /timeoutMs 0 must be a positive number/);
  });
});
