import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import type { MessageRecord } from './audit.js';
import { EnvelopeReceiver, EnvelopeSender, TICK_BUDGET_BYTES, type FrameSink } from './envelope-stream.js';
import { encodeEnvelope, type Envelope } from './envelope.js';

class RecordingSink implements FrameSink {
  readonly frames: Buffer[] = [];
  write(chunk: Buffer): boolean {
    this.frames.push(chunk);
    return true;
  }
  once(): unknown {
    return this;
  }
  get bytes(): number {
    return this.frames.reduce((n, f) => n + f.length, 0);
  }
}

function model(n: number, seed: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.01 + seed));
}

function envelope(receiver: string, data: Float32Array): Envelope {
  return { kind: 'train', correlationId: `c-${receiver}`, sender: 'coordinator', receiver, jobId: 'j1', round: 3, header: { lr: 0.1 }, tensors: [{ name: 'w', shape: [data.length], data }] };
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function drained(sink: RecordingSink, expectedBytes: () => number): Promise<void> {
  for (let i = 0; i < 1000 && sink.bytes < expectedBytes(); i++) await turn();
}

describe('EnvelopeSender / EnvelopeReceiver', () => {
  it('builds at most one tick budget of frames synchronously, so a broadcast to many participants yields to the event loop', async () => {
    // Prepare: one 4 MiB model broadcast to 8 participants (32 MiB of frames in all).
    const data = model(1 << 20, 1);
    const sinks = Array.from({ length: 8 }, () => new RecordingSink());
    const senders = sinks.map((s, i) => new EnvelopeSender(s, 1 << 20, 1 << 28, `p${i}`, undefined));
    await turn();
    // Execute
    senders.forEach((s, i) => s.send(envelope(`p${i}`, data)));
    const synchronous = sinks.reduce((n, s) => n + s.bytes, 0);
    await Promise.all(sinks.map((s, i) => drained(s, () => encodeEnvelope(envelope(`p${i}`, data)).length)));
    // Assert: the first turn stopped near the budget; every stream eventually got its whole envelope.
    assert.ok(synchronous <= TICK_BUDGET_BYTES + (1 << 20) + 64, `${synchronous} bytes were framed before yielding`);
    for (const [i, s] of sinks.entries()) assert.ok(s.bytes > encodeEnvelope(envelope(`p${i}`, data)).length);
  });

  it('delivers an envelope frame by frame, and both sides audit the SHA-256 of exactly the encoded bytes', async () => {
    // Prepare
    const sent: MessageRecord[] = [];
    const received: MessageRecord[] = [];
    const sink = new RecordingSink();
    const sender = new EnvelopeSender(sink, 1000, 1 << 24, 'p1', (r) => sent.push(r));
    const receiver = new EnvelopeReceiver(1 << 24, 'coordinator', (r) => received.push(r));
    const e = envelope('p1', model(2501, 2));
    const expected = encodeEnvelope(e);
    // Execute
    sender.send(e);
    await drained(sink, () => expected.length);
    const out = sink.frames.map((f) => receiver.push(f)).filter((x) => x !== undefined);
    // Assert
    assert.equal(out.length, 1);
    assert.deepEqual(out[0]?.tensors[0]?.data, e.tensors[0]?.data);
    assert.equal(out[0]?.tensors[0]?.data.byteOffset !== undefined && out[0].tensors[0].data.byteOffset % 4, 0);
    assert.equal(sent.length, 1);
    assert.equal(sent[0]?.sha256, sha256(expected));
    assert.equal(sent[0]?.bytes, expected.length);
    assert.equal(received[0]?.sha256, sha256(expected));
    assert.equal(received[0]?.bytes, expected.length);
  });
});
