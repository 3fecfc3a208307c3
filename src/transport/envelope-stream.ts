/**
 * Envelopes over a gRPC stream of frames, shared by both ends: the sender encodes, enforces the
 * size cap, numbers and chunks each envelope and writes the frames in order while honouring the
 * stream's back-pressure; the receiver reassembles and decodes, refusing anything out of sequence.
 *
 * The sender never holds the event loop for long: sending checks and plans an envelope at once but
 * builds its frames lazily, at most {@link TICK_BUDGET_BYTES} per turn of the event loop across all
 * senders, so a coordinator broadcasting a large model to many participants keeps answering
 * HTTP/2 keepalive pings. Both sides hash each envelope's bytes chunk by chunk, as sent or received,
 * so the audit record's SHA-256 covers exactly the wire bytes without another pass over a copy.
 */
import { createHash, type Hash } from 'node:crypto';
import { recordOf, type AuditSink, type MessageRecord } from './audit.js';
import { decodeEnvelope, encodeEnvelopeParts, firstTensorDataOffset, type Envelope } from './envelope.js';
import { TransportError } from './errors.js';
import { decodeFrame, FrameAssembler, FrameSplitter } from './frame.js';

/** Frame bytes all senders together build in one turn of the event loop before yielding. */
export const TICK_BUDGET_BYTES = 4 << 20;

let spentThisTick = 0;
let resetScheduled = false;

function spend(bytes: number): void {
  spentThisTick += bytes;
  if (!resetScheduled) {
    resetScheduled = true;
    setImmediate(() => {
      resetScheduled = false;
      spentThisTick = 0;
    });
  }
}

/** The part of a gRPC duplex stream the sender writes to. */
export interface FrameSink {
  write(chunk: Buffer): boolean;
  once(event: 'drain', listener: () => void): unknown;
}

interface Outgoing {
  readonly envelope: Envelope;
  readonly frames: FrameSplitter;
  readonly hash: Hash | undefined;
  readonly byteLength: number;
}

function record(direction: 'sent' | 'received', peer: string, e: Envelope, bytes: number, hash: Hash): MessageRecord {
  return recordOf(direction, peer, e, bytes, hash.digest('hex'));
}

/** Writes envelopes to one stream. */
export class EnvelopeSender {
  private nextMessageId = 1;
  private readonly queue: Outgoing[] = [];
  private blocked = false;
  private scheduled = false;
  private closed = false;

  constructor(
    private readonly sink: FrameSink,
    private readonly chunkBytes: number,
    private readonly maxEnvelopeBytes: number,
    private readonly peer: string,
    private readonly audit: AuditSink | undefined,
  ) {}

  /**
   * Checks and queues an envelope; its frames are built and go out in order as the stream accepts
   * them and the event loop has time. Its tensors must not be mutated afterwards (see `Tensor.data`).
   * @throws TransportError: `closed` after {@link close}; `too-large` above the cap; `protocol`
   *   for an envelope that cannot be encoded.
   */
  send(e: Envelope): void {
    if (this.closed) throw new TransportError('closed', `the stream to ${this.peer} is closed`);
    const encoded = encodeEnvelopeParts(e);
    if (encoded.byteLength > this.maxEnvelopeBytes) {
      throw new TransportError(
        'too-large',
        `envelope "${e.kind}" to ${this.peer} is ${encoded.byteLength} bytes, above the maximum of ${this.maxEnvelopeBytes}`,
      );
    }
    this.queue.push({
      envelope: e,
      frames: new FrameSplitter(this.nextMessageId++, encoded.byteLength, encoded.parts, this.chunkBytes),
      hash: this.audit !== undefined ? createHash('sha256') : undefined,
      byteLength: encoded.byteLength,
    });
    this.pump();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    while (!this.blocked && !this.closed) {
      const item = this.queue[0];
      if (item === undefined) return;
      if (spentThisTick >= TICK_BUDGET_BYTES) {
        this.schedule();
        return;
      }
      const next = item.frames.next();
      if (next === undefined) {
        this.queue.shift();
        continue;
      }
      spend(next.frame.length);
      item.hash?.update(next.payload);
      if (next.last) {
        this.queue.shift();
        if (item.hash !== undefined) this.audit?.(record('sent', this.peer, item.envelope, item.byteLength, item.hash));
      }
      if (!this.sink.write(next.frame)) {
        this.blocked = true;
        this.sink.once('drain', () => {
          this.blocked = false;
          this.pump();
        });
      }
    }
  }

  /** Drops queued frames; later sends throw `closed`. */
  close(): void {
    this.closed = true;
    this.queue.length = 0;
  }
}

/** Reads envelopes from one stream. */
export class EnvelopeReceiver {
  private readonly assembler: FrameAssembler;
  private hash: Hash | undefined;

  constructor(
    maxEnvelopeBytes: number,
    private readonly peer: string,
    private readonly audit: AuditSink | undefined,
  ) {
    this.assembler = new FrameAssembler(maxEnvelopeBytes, peer, firstTensorDataOffset);
  }

  /**
   * Takes one received gRPC message; returns the envelope it completes, if any.
   * @throws TransportError (`protocol`, `too-large`) for a bad frame or envelope.
   */
  push(message: Buffer): Envelope | undefined {
    const frame = decodeFrame(message);
    const bytes = this.assembler.push(frame);
    if (this.audit !== undefined) {
      // The assembler accepted the frame, so it continues (or starts) the envelope in order.
      if (frame.chunkIndex === 0) this.hash = createHash('sha256');
      this.hash?.update(frame.payload);
    }
    if (bytes === undefined) return undefined;
    const e = decodeEnvelope(bytes);
    const hash = this.hash;
    this.hash = undefined;
    if (hash !== undefined) this.audit?.(record('received', this.peer, e, bytes.length, hash));
    return e;
  }
}
