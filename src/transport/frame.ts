/**
 * Chunking: an encoded envelope travels as one or more `Frame` messages (see `edufed.proto`) so no
 * single gRPC message exceeds the negotiated maximum, and the receiver rebuilds it under a size cap.
 *
 * Per stream and direction, message ids strictly increase and the chunks of one envelope are sent
 * contiguously and in order; the assembler refuses anything else (duplicates, gaps, reordering,
 * interleaving, inconsistent totals), so a replayed or spliced frame cannot produce an envelope.
 */
import { TransportError } from './errors.js';
import { lenFieldSize, ProtoReader, ProtoWriter, tagSize, varintSize, WIRE_LEN, WIRE_VARINT } from './protobuf-wire.js';

/** One chunk of an encoded envelope. */
export interface Frame {
  /** Identifies the envelope on this stream; strictly increasing, starting at 1. */
  readonly messageId: number;
  /** 0-based position of this chunk. */
  readonly chunkIndex: number;
  /** Number of chunks of the envelope (at least 1). */
  readonly chunkCount: number;
  /** Size of the whole encoded envelope in bytes. */
  readonly totalBytes: number;
  readonly payload: Uint8Array;
}

/** Default chunk size: 1 MiB. */
export const DEFAULT_CHUNK_BYTES = 1 << 20;
/** Default maximum size of one reassembled envelope: 256 MiB. */
export const DEFAULT_MAX_ENVELOPE_BYTES = 256 << 20;
/** Bytes a frame adds around its payload, at most (five fields with maximal varints). */
export const FRAME_OVERHEAD_BYTES = 64;

const F_MESSAGE_ID = 1;
const F_CHUNK_INDEX = 2;
const F_CHUNK_COUNT = 3;
const F_TOTAL_BYTES = 4;
const F_PAYLOAD = 5;

function uintSize(field: number, n: number): number {
  return n === 0 ? 0 : tagSize(field) + varintSize(n);
}

/** Encodes a frame as the `Frame` message of `edufed.proto`, into a Buffer that gRPC can send as is. */
export function encodeFrame(f: Frame): Buffer {
  const size =
    uintSize(F_MESSAGE_ID, f.messageId) +
    uintSize(F_CHUNK_INDEX, f.chunkIndex) +
    uintSize(F_CHUNK_COUNT, f.chunkCount) +
    uintSize(F_TOTAL_BYTES, f.totalBytes) +
    (f.payload.length > 0 ? lenFieldSize(F_PAYLOAD, f.payload.length) : 0);
  const w = new ProtoWriter(size);
  w.uintField(F_MESSAGE_ID, f.messageId);
  w.uintField(F_CHUNK_INDEX, f.chunkIndex);
  w.uintField(F_CHUNK_COUNT, f.chunkCount);
  w.uintField(F_TOTAL_BYTES, f.totalBytes);
  w.bytesField(F_PAYLOAD, f.payload);
  const out = w.finish();
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
}

/**
 * Decodes a `Frame` message; the payload is a view into `bytes`.
 * @throws TransportError (`protocol`) for malformed bytes.
 */
export function decodeFrame(bytes: Uint8Array): Frame {
  const r = new ProtoReader(bytes, 'frame');
  let messageId = 0;
  let chunkIndex = 0;
  let chunkCount = 0;
  let totalBytes = 0;
  let payload: Uint8Array = new Uint8Array(0);
  while (!r.done) {
    const tag = r.tag();
    switch (tag.field) {
      case F_MESSAGE_ID:
        r.expectWire(tag, WIRE_VARINT, 'message_id');
        messageId = r.varint();
        break;
      case F_CHUNK_INDEX:
        r.expectWire(tag, WIRE_VARINT, 'chunk_index');
        chunkIndex = r.uint32('chunk_index');
        break;
      case F_CHUNK_COUNT:
        r.expectWire(tag, WIRE_VARINT, 'chunk_count');
        chunkCount = r.uint32('chunk_count');
        break;
      case F_TOTAL_BYTES:
        r.expectWire(tag, WIRE_VARINT, 'total_bytes');
        totalBytes = r.varint();
        break;
      case F_PAYLOAD:
        r.expectWire(tag, WIRE_LEN, 'payload');
        payload = r.lengthDelimited();
        break;
      default:
        r.skip(tag);
    }
  }
  return { messageId, chunkIndex, chunkCount, totalBytes, payload };
}

/** Splits an encoded envelope into frames of at most `chunkBytes` payload bytes each. */
export function splitIntoFrames(messageId: number, bytes: Uint8Array, chunkBytes: number): Frame[] {
  if (!Number.isInteger(chunkBytes) || chunkBytes < 1) {
    throw new TransportError('protocol', `chunkBytes: ${chunkBytes} must be a positive integer`);
  }
  const chunkCount = Math.max(1, Math.ceil(bytes.length / chunkBytes));
  const frames: Frame[] = [];
  for (let i = 0; i < chunkCount; i++) {
    frames.push({
      messageId,
      chunkIndex: i,
      chunkCount,
      totalBytes: bytes.length,
      payload: bytes.subarray(i * chunkBytes, Math.min(bytes.length, (i + 1) * chunkBytes)),
    });
  }
  return frames;
}

/** One encoded frame, and the view of its payload inside it (for hashing exactly what was sent). */
export interface EncodedFrame {
  readonly frame: Buffer;
  readonly payload: Uint8Array;
  /** True for the envelope's last chunk. */
  readonly last: boolean;
}

/**
 * Encodes the frames of one envelope one at a time, straight from its parts (see
 * `encodeEnvelopeParts`): each payload byte is copied once, into its frame, and a frame is only
 * built when the stream can take it. The parts must stay unmodified until the last frame is built.
 */
export class FrameSplitter {
  /** Number of frames this envelope needs. */
  readonly chunkCount: number;
  private chunkIndex = 0;
  private partIndex = 0;
  private partOffset = 0;
  private remaining: number;

  /** @throws TransportError (`protocol`) for a chunk size that is not a positive integer. */
  constructor(
    private readonly messageId: number,
    private readonly totalBytes: number,
    private readonly parts: readonly Uint8Array[],
    private readonly chunkBytes: number,
  ) {
    if (!Number.isInteger(chunkBytes) || chunkBytes < 1) {
      throw new TransportError('protocol', `chunkBytes: ${chunkBytes} must be a positive integer`);
    }
    this.chunkCount = Math.max(1, Math.ceil(totalBytes / chunkBytes));
    this.remaining = totalBytes;
  }

  /** True once every frame has been built. */
  get done(): boolean {
    return this.chunkIndex >= this.chunkCount;
  }

  /** Builds the next frame, or returns undefined after the last one. */
  next(): EncodedFrame | undefined {
    if (this.done) return undefined;
    const length = Math.min(this.chunkBytes, this.remaining);
    const headSize =
      uintSize(F_MESSAGE_ID, this.messageId) +
      uintSize(F_CHUNK_INDEX, this.chunkIndex) +
      uintSize(F_CHUNK_COUNT, this.chunkCount) +
      uintSize(F_TOTAL_BYTES, this.totalBytes) +
      (length > 0 ? tagSize(F_PAYLOAD) + varintSize(length) : 0);
    const w = new ProtoWriter(headSize + length);
    w.uintField(F_MESSAGE_ID, this.messageId);
    w.uintField(F_CHUNK_INDEX, this.chunkIndex);
    w.uintField(F_CHUNK_COUNT, this.chunkCount);
    w.uintField(F_TOTAL_BYTES, this.totalBytes);
    if (length > 0) {
      w.tag(F_PAYLOAD, WIRE_LEN);
      w.varint(length);
    }
    let need = length;
    while (need > 0) {
      const part = this.parts[this.partIndex];
      if (part === undefined) throw new TransportError('protocol', `internal framing error: parts hold fewer than ${this.totalBytes} bytes`);
      const take = Math.min(need, part.length - this.partOffset);
      w.raw(take === part.length ? part : part.subarray(this.partOffset, this.partOffset + take));
      need -= take;
      this.partOffset += take;
      if (this.partOffset === part.length) {
        this.partIndex++;
        this.partOffset = 0;
      }
    }
    const out = w.finish();
    this.remaining -= length;
    this.chunkIndex++;
    const frame = Buffer.from(out.buffer, out.byteOffset, out.byteLength);
    return { frame, payload: frame.subarray(headSize), last: this.done };
  }
}

interface Partial {
  readonly messageId: number;
  readonly chunkCount: number;
  readonly totalBytes: number;
  readonly buffer: Uint8Array;
  nextIndex: number;
  filled: number;
}

/** Rebuilds envelopes from the frames of one stream direction, enforcing order and a size cap. */
export class FrameAssembler {
  private lastMessageId = 0;
  private partial: Partial | undefined;

  /**
   * @param maxEnvelopeBytes largest envelope accepted, in bytes.
   * @param peer names the other side in error messages.
   * @param alignHint given an envelope's first chunk, the offset of the bytes that should start at a
   *   4-byte boundary of the reassembly buffer (e.g. the first tensor's data), so they decode without a copy.
   */
  constructor(
    private readonly maxEnvelopeBytes: number,
    private readonly peer: string,
    private readonly alignHint?: (firstChunk: Uint8Array) => number | undefined,
  ) {}

  private fail(reason: 'protocol' | 'too-large', message: string): never {
    throw new TransportError(reason, `frame from ${this.peer}: ${message}`);
  }

  /**
   * Adds a frame; returns the complete encoded envelope when this frame was its last chunk.
   * @throws TransportError (`too-large`) for an envelope above the cap; (`protocol`) for a frame out of
   *   sequence, duplicated, inconsistent with the earlier chunks of its envelope, or overflowing it.
   */
  push(f: Frame): Uint8Array | undefined {
    const p = this.partial;
    if (p === undefined) return this.start(f);
    if (f.messageId !== p.messageId) {
      this.fail('protocol', `message ${f.messageId} started before message ${p.messageId} was complete (chunk ${p.nextIndex} of ${p.chunkCount} expected)`);
    }
    if (f.chunkIndex !== p.nextIndex) {
      this.fail('protocol', `message ${f.messageId}: chunk ${f.chunkIndex} arrived, expected chunk ${p.nextIndex} (duplicate or out of order)`);
    }
    if (f.chunkCount !== p.chunkCount || f.totalBytes !== p.totalBytes) {
      this.fail('protocol', `message ${f.messageId}: chunk ${f.chunkIndex} disagrees with chunk 0 on chunk_count or total_bytes`);
    }
    this.append(p, f);
    return this.finishIfComplete(p);
  }

  private start(f: Frame): Uint8Array | undefined {
    if (f.messageId <= this.lastMessageId) {
      this.fail('protocol', `message id ${f.messageId} is not above the previous ${this.lastMessageId} (duplicate or replayed)`);
    }
    if (f.chunkIndex !== 0) this.fail('protocol', `message ${f.messageId} starts at chunk ${f.chunkIndex}, expected 0`);
    if (f.totalBytes > this.maxEnvelopeBytes) {
      this.fail('too-large', `message ${f.messageId} is ${f.totalBytes} bytes, above the maximum of ${this.maxEnvelopeBytes}`);
    }
    if (f.chunkCount < 1 || f.chunkCount > Math.max(1, f.totalBytes)) {
      this.fail('protocol', `message ${f.messageId}: chunk_count ${f.chunkCount} is impossible for ${f.totalBytes} bytes`);
    }
    this.lastMessageId = f.messageId;
    if (f.chunkCount === 1) {
      if (f.payload.length !== f.totalBytes) {
        this.fail('protocol', `message ${f.messageId}: single chunk of ${f.payload.length} bytes, total_bytes says ${f.totalBytes}`);
      }
      return f.payload;
    }
    // A fresh unpooled buffer (byteOffset 0), shifted by up to 3 bytes so the hinted offset is aligned.
    const hint = this.alignHint?.(f.payload);
    const pad = hint === undefined ? 0 : (4 - (hint % 4)) % 4;
    const p: Partial = {
      messageId: f.messageId,
      chunkCount: f.chunkCount,
      totalBytes: f.totalBytes,
      buffer: Buffer.allocUnsafeSlow(f.totalBytes + pad).subarray(pad),
      nextIndex: 0,
      filled: 0,
    };
    this.partial = p;
    this.append(p, f);
    return this.finishIfComplete(p);
  }

  private append(p: Partial, f: Frame): void {
    const last = f.chunkIndex === p.chunkCount - 1;
    if (f.payload.length === 0 && p.totalBytes > 0) {
      this.fail('protocol', `message ${p.messageId}: chunk ${f.chunkIndex} is empty`);
    }
    if (f.payload.length > p.totalBytes - p.filled) {
      this.fail('protocol', `message ${p.messageId}: chunk ${f.chunkIndex} overflows total_bytes ${p.totalBytes}`);
    }
    if (last && p.filled + f.payload.length !== p.totalBytes) {
      this.fail('protocol', `message ${p.messageId}: last chunk leaves ${p.totalBytes - p.filled - f.payload.length} bytes missing`);
    }
    p.buffer.set(f.payload, p.filled);
    p.filled += f.payload.length;
    p.nextIndex++;
  }

  private finishIfComplete(p: Partial): Uint8Array | undefined {
    if (p.nextIndex < p.chunkCount) return undefined;
    this.partial = undefined;
    return p.buffer;
  }

  /** True while an envelope is partly received. */
  get busy(): boolean {
    return this.partial !== undefined;
  }
}
