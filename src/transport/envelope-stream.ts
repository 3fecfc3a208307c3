/**
 * Envelopes over a gRPC stream of frames, shared by both ends: the sender encodes, enforces the
 * size cap, numbers and chunks each envelope and writes the frames in order while honouring the
 * stream's back-pressure; the receiver reassembles and decodes, refusing anything out of sequence.
 */
import { messageRecord, type AuditSink } from './audit.js';
import { decodeEnvelope, encodeEnvelope, type Envelope } from './envelope.js';
import { TransportError } from './errors.js';
import { decodeFrame, encodeFrame, FrameAssembler, splitIntoFrames, type Frame } from './frame.js';

/** The part of a gRPC duplex stream the sender writes to. */
export interface FrameSink {
  write(chunk: Buffer): boolean;
  once(event: 'drain', listener: () => void): unknown;
}

/** Writes envelopes to one stream. */
export class EnvelopeSender {
  private nextMessageId = 1;
  private readonly queue: Frame[][] = [];
  private frameIndex = 0;
  private blocked = false;
  private closed = false;

  constructor(
    private readonly sink: FrameSink,
    private readonly chunkBytes: number,
    private readonly maxEnvelopeBytes: number,
    private readonly peer: string,
    private readonly audit: AuditSink | undefined,
  ) {}

  /**
   * Encodes and queues an envelope; frames go out in order as the stream accepts them.
   * @throws TransportError: `closed` after {@link close}; `too-large` above the cap; `protocol`
   *   for an envelope that cannot be encoded.
   */
  send(e: Envelope): void {
    if (this.closed) throw new TransportError('closed', `the stream to ${this.peer} is closed`);
    const bytes = encodeEnvelope(e);
    if (bytes.length > this.maxEnvelopeBytes) {
      throw new TransportError('too-large', `envelope "${e.kind}" to ${this.peer} is ${bytes.length} bytes, above the maximum of ${this.maxEnvelopeBytes}`);
    }
    this.audit?.(messageRecord('sent', this.peer, e, bytes));
    this.queue.push(splitIntoFrames(this.nextMessageId++, bytes, this.chunkBytes));
    this.pump();
  }

  private pump(): void {
    while (!this.blocked && !this.closed) {
      const frames = this.queue[0];
      if (frames === undefined) return;
      const frame = frames[this.frameIndex++];
      if (frame === undefined) {
        this.queue.shift();
        this.frameIndex = 0;
        continue;
      }
      if (!this.sink.write(encodeFrame(frame))) {
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

  constructor(
    maxEnvelopeBytes: number,
    private readonly peer: string,
    private readonly audit: AuditSink | undefined,
  ) {
    this.assembler = new FrameAssembler(maxEnvelopeBytes, peer);
  }

  /**
   * Takes one received gRPC message; returns the envelope it completes, if any.
   * @throws TransportError (`protocol`, `too-large`) for a bad frame or envelope.
   */
  push(message: Buffer): Envelope | undefined {
    const bytes = this.assembler.push(decodeFrame(message));
    if (bytes === undefined) return undefined;
    const e = decodeEnvelope(bytes);
    this.audit?.(messageRecord('received', this.peer, e, bytes));
    return e;
  }
}
