/**
 * The few pieces of the Protocol Buffers binary wire format that `edufed.proto` needs: varints,
 * tags and length-delimited fields (https://protobuf.dev/programming-guides/encoding/). Written by
 * hand because the schema has three small messages, and a codec of our own lets tensor bytes pass
 * with one copy and rejects anything malformed with an error that says where.
 *
 * Numbers are JS numbers: varints above 2^53 - 1 are refused rather than rounded.
 */
import { TransportError } from './errors.js';

/** Wire type of varint fields (uint32, uint64, bool, enum). */
export const WIRE_VARINT = 0;
/** Wire type of fixed 64-bit fields. */
export const WIRE_I64 = 1;
/** Wire type of length-delimited fields (string, bytes, messages, packed repeated). */
export const WIRE_LEN = 2;
/** Wire type of fixed 32-bit fields. */
export const WIRE_I32 = 5;

const MAX_FIELD_NUMBER = 2 ** 29 - 1;
const utf8Encoder = new TextEncoder();
// fatal: invalid UTF-8 is an error, not U+FFFD; ignoreBOM: a leading U+FEFF is part of the string.
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
// A lone surrogate cannot be encoded as UTF-8; TextEncoder would silently replace it.
const LONE_SURROGATE = /\p{Cs}/u;

/** Bytes the varint encoding of a non-negative safe integer takes. */
export function varintSize(n: number): number {
  let size = 1;
  let v = n;
  while (v >= 128) {
    v = Math.floor(v / 128);
    size++;
  }
  return size;
}

/** Bytes a field's tag takes. */
export function tagSize(field: number): number {
  return varintSize(field * 8);
}

/** Bytes a length-delimited field of `length` payload bytes takes, tag included. */
export function lenFieldSize(field: number, length: number): number {
  return tagSize(field) + varintSize(length) + length;
}

/**
 * UTF-8 bytes of a string, for a field named `what`.
 * @throws TransportError (`protocol`) for a string holding a lone surrogate, which UTF-8 cannot carry.
 */
export function utf8(value: string, what: string): Uint8Array {
  if (LONE_SURROGATE.test(value)) {
    throw new TransportError('protocol', `${what}: string holds a lone UTF-16 surrogate and cannot be sent as UTF-8`);
  }
  return utf8Encoder.encode(value);
}

/** Writes fields into a buffer whose exact size was computed beforehand. */
export class ProtoWriter {
  readonly bytes: Uint8Array;
  private pos = 0;

  constructor(size: number) {
    // allocUnsafeSlow: not from the shared pool, so byteOffset is 0 and the buffer is ours alone.
    this.bytes = Buffer.allocUnsafeSlow(size);
  }

  /** Number of bytes written so far. */
  get position(): number {
    return this.pos;
  }

  /** Appends a varint. */
  varint(n: number): void {
    let v = n;
    while (v >= 128) {
      this.bytes[this.pos++] = (v % 128) | 128;
      v = Math.floor(v / 128);
    }
    this.bytes[this.pos++] = v;
  }

  /** Appends a tag. */
  tag(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  /** Appends a varint field unless it is 0 (proto3 leaves defaults out). */
  uintField(field: number, n: number): void {
    if (n === 0) return;
    this.tag(field, WIRE_VARINT);
    this.varint(n);
  }

  /** Appends a length-delimited field, even when empty if `always`. */
  bytesField(field: number, payload: Uint8Array, always = false): void {
    if (payload.length === 0 && !always) return;
    this.tag(field, WIRE_LEN);
    this.varint(payload.length);
    this.raw(payload);
  }

  /** Appends bytes without a tag. */
  raw(payload: Uint8Array): void {
    this.bytes.set(payload, this.pos);
    this.pos += payload.length;
  }

  /** The written bytes; checks that the size computed beforehand was exact. */
  finish(): Uint8Array {
    if (this.pos !== this.bytes.length) {
      throw new TransportError('protocol', `internal encoder error: wrote ${this.pos} of ${this.bytes.length} bytes`);
    }
    return this.bytes;
  }
}

/** A field's tag: its number and wire type. */
export interface Tag {
  readonly field: number;
  readonly wire: number;
}

/** Reads fields from untrusted bytes; every failure is a {@link TransportError} naming `what` and the byte offset. */
export class ProtoReader {
  private pos = 0;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly what: string,
  ) {}

  /** True when every byte has been read. */
  get done(): boolean {
    return this.pos >= this.bytes.length;
  }

  /** Offset of the next byte to read, relative to the start of this reader's bytes. */
  get offset(): number {
    return this.pos;
  }

  /** @throws TransportError (`protocol`) always. */
  fail(message: string): never {
    throw new TransportError('protocol', `${this.what}: ${message} (at byte ${this.pos} of ${this.bytes.length})`);
  }

  /** Reads a varint up to 2^53 - 1. */
  varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.bytes.length) this.fail('truncated varint');
      const b = this.bytes[this.pos++] as number;
      result += (b & 127) * scale;
      if (b < 128) {
        if (!Number.isSafeInteger(result)) this.fail('varint above 2^53 - 1');
        return result;
      }
      scale *= 128;
    }
    return this.fail('varint longer than 10 bytes');
  }

  /** Reads a varint that must fit in 32 unsigned bits. */
  uint32(field: string): number {
    const v = this.varint();
    if (v > 0xffffffff) this.fail(`${field}: ${v} does not fit in uint32`);
    return v;
  }

  /** Reads a tag; refuses field number 0, deprecated groups and unknown wire types. */
  tag(): Tag {
    const key = this.varint();
    const field = Math.floor(key / 8);
    const wire = key % 8;
    if (field === 0 || field > MAX_FIELD_NUMBER) this.fail(`invalid field number ${field}`);
    if (wire !== WIRE_VARINT && wire !== WIRE_I64 && wire !== WIRE_LEN && wire !== WIRE_I32) {
      this.fail(`unsupported wire type ${wire} for field ${field}`);
    }
    return { field, wire };
  }

  /** Reads a length-delimited payload as a view (no copy) into the input. */
  lengthDelimited(): Uint8Array {
    const length = this.varint();
    if (length > this.bytes.length - this.pos) {
      this.fail(`length ${length} runs past the end`);
    }
    const out = this.bytes.subarray(this.pos, this.pos + length);
    this.pos += length;
    return out;
  }

  /** Reads a UTF-8 string field of at most `maxBytes` bytes. */
  string(field: string, maxBytes = Number.MAX_SAFE_INTEGER): string {
    const raw = this.lengthDelimited();
    if (raw.length > maxBytes) this.fail(`${field}: ${raw.length} bytes, above the limit of ${maxBytes}`);
    try {
      return utf8Decoder.decode(raw);
    } catch (err) {
      return this.fail(`${field}: invalid UTF-8 (${err instanceof Error ? err.message : String(err)})`);
    }
  }

  /** Checks a tag's wire type against the one the schema declares. */
  expectWire(tag: Tag, wire: number, field: string): void {
    if (tag.wire !== wire) this.fail(`${field} (field ${tag.field}) has wire type ${tag.wire}, expected ${wire}`);
  }

  /** Skips an unknown field, as proto3 requires for forward compatibility. */
  skip(tag: Tag): void {
    switch (tag.wire) {
      case WIRE_VARINT:
        this.varint();
        return;
      case WIRE_I64:
        this.advance(8);
        return;
      case WIRE_LEN:
        this.lengthDelimited();
        return;
      default:
        this.advance(4);
    }
  }

  private advance(n: number): void {
    if (n > this.bytes.length - this.pos) this.fail('truncated fixed-width field');
    this.pos += n;
  }
}
