/**
 * The transport's generic message, `Envelope`, and its binary codec (the `Envelope` and `Tensor`
 * messages of `edufed.proto`, proto3 wire format). Tensors travel as raw little-endian bytes (float32,
 * uint32 or plain bytes), never as JSON numbers; everything else that a workflow needs rides in a small JSON header.
 *
 * Decoding treats its input as hostile: every field is checked, unknown fields are skipped, and any
 * problem is a {@link TransportError} with reason `protocol`, never a crash or a half-built value.
 */
import { endianness } from 'node:os';
import { TransportError } from './errors.js';
import { lenFieldSize, ProtoReader, ProtoWriter, tagSize, utf8, varintSize, WIRE_LEN, WIRE_VARINT } from './protobuf-wire.js';

/** The element arrays a tensor may hold: float32 (models), uint32 (masked ring elements), bytes (keys, ciphertexts). */
export type TensorData = Float32Array | Uint32Array | Uint8Array;

/** A named tensor; `data.length` equals the product of `shape` (1 for a scalar with shape []). */
export interface Tensor {
  name: string;
  shape: readonly number[];
  /**
   * The values; the array's class is the element type on the wire ("f32", "u32" or "u8"). Once
   * handed to a link a tensor must not be mutated: its bytes are read when its frames are written,
   * possibly after `request` returned, and one array may be shared by every request of a broadcast
   * (the coordinator's global models are immutable; strategies return new arrays).
   */
  data: TensorData;
}

/** One message between the coordinator and a participant. */
export interface Envelope {
  /** What the message is (e.g. `fit`, `fit-result`); names starting with `edufed.transport.` are reserved. */
  kind: string;
  /** Pairs a response with its request: the response carries the request's id. */
  correlationId: string;
  /** Who sent it: `coordinator` or a participant id. Checked against the TLS identity on receipt. */
  sender: string;
  /** Who it is for. */
  receiver: string;
  /** The job it belongs to; empty for transport messages. */
  jobId: string;
  /** The round it belongs to (0 when not round-bound). */
  round: number;
  /** Parsed JSON header; `undefined` is sent as no header and arrives as `null`. */
  header: unknown;
  tensors: readonly Tensor[];
}

/** Upper bound on the length of the short string fields (kind, ids, tensor names), in UTF-8 bytes. */
export const MAX_SHORT_STRING_BYTES = 1024;
/** Upper bound on a tensor's rank. */
export const MAX_TENSOR_RANK = 32;
/** Element type of float32 tensors (IEEE 754 binary32, little-endian). */
export const TENSOR_DTYPE_F32 = 'f32';
/** Element type of unsigned 32-bit integer tensors (little-endian). */
export const TENSOR_DTYPE_U32 = 'u32';
/** Element type of byte tensors. */
export const TENSOR_DTYPE_U8 = 'u8';
/** Every element type this version carries. */
export const TENSOR_DTYPES = [TENSOR_DTYPE_F32, TENSOR_DTYPE_U32, TENSOR_DTYPE_U8] as const;
type Dtype = (typeof TENSOR_DTYPES)[number];

const LITTLE_ENDIAN_HOST = endianness() === 'LE';
const DTYPE_BYTES: Readonly<Record<Dtype, Uint8Array>> = {
  f32: utf8(TENSOR_DTYPE_F32, 'dtype'),
  u32: utf8(TENSOR_DTYPE_U32, 'dtype'),
  u8: utf8(TENSOR_DTYPE_U8, 'dtype'),
};

/** The wire element type of a tensor's array, or undefined for an array class the wire does not carry. */
function dtypeOf(data: unknown): Dtype | undefined {
  if (data instanceof Float32Array) return TENSOR_DTYPE_F32;
  if (data instanceof Uint32Array) return TENSOR_DTYPE_U32;
  if (data instanceof Uint8Array) return TENSOR_DTYPE_U8;
  return undefined;
}

// Field numbers, as declared in edufed.proto.
const ENV_KIND = 1;
const ENV_CORRELATION_ID = 2;
const ENV_SENDER = 3;
const ENV_RECEIVER = 4;
const ENV_JOB_ID = 5;
const ENV_ROUND = 6;
const ENV_HEADER_JSON = 7;
const ENV_TENSORS = 8;
const TENSOR_NAME = 1;
const TENSOR_DTYPE = 2;
const TENSOR_SHAPE = 3;
const TENSOR_DATA = 4;

function shortString(value: unknown, what: string): Uint8Array {
  if (typeof value !== 'string') throw new TransportError('protocol', `${what}: expected a string, got ${typeof value}`);
  const bytes = utf8(value, what);
  if (bytes.length > MAX_SHORT_STRING_BYTES) {
    throw new TransportError('protocol', `${what}: ${bytes.length} bytes, above the limit of ${MAX_SHORT_STRING_BYTES}`);
  }
  return bytes;
}

function headerJson(header: unknown): Uint8Array {
  let text: string | undefined;
  try {
    text = JSON.stringify(header);
  } catch (err) {
    throw new TransportError('protocol', 'envelope header is not JSON-serialisable', { cause: err });
  }
  // JSON.stringify returns undefined for undefined, functions and symbols: sent as "no header".
  return text === undefined ? new Uint8Array(0) : utf8(text, 'header');
}

/** Number of elements a shape describes, checked to be a safe integer. */
export function shapeSize(shape: readonly number[], what: string): number {
  if (!Array.isArray(shape)) throw new TransportError('protocol', `${what}.shape: expected an array`);
  if (shape.length > MAX_TENSOR_RANK) {
    throw new TransportError('protocol', `${what}.shape: rank ${shape.length} is above the limit of ${MAX_TENSOR_RANK}`);
  }
  let n = 1;
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0 || d > 0xffffffff) {
      throw new TransportError('protocol', `${what}.shape: dimension ${String(d)} is not a uint32`);
    }
    n *= d;
    if (n > Number.MAX_SAFE_INTEGER) throw new TransportError('protocol', `${what}.shape: too many elements`);
  }
  return n;
}

interface TensorPlan {
  readonly name: Uint8Array;
  readonly shape: readonly number[];
  readonly shapeBytes: number;
  readonly data: TensorData;
  readonly dtype: Dtype;
  readonly size: number;
}

function planTensor(t: Tensor, index: number): TensorPlan {
  const what = `tensors[${index}]`;
  if (typeof t !== 'object' || t === null) throw new TransportError('protocol', `${what}: expected an object`);
  const name = shortString(t.name, `${what}.name`);
  const elements = shapeSize(t.shape, what);
  const dtype = dtypeOf(t.data);
  if (dtype === undefined) throw new TransportError('protocol', `${what}.data: expected a Float32Array, Uint32Array or Uint8Array`);
  if (t.data.length !== elements) {
    throw new TransportError(
      'protocol',
      `${what} "${t.name}": shape [${t.shape.join(', ')}] has ${elements} elements but data has ${t.data.length}`,
    );
  }
  let shapeBytes = 0;
  for (const d of t.shape) shapeBytes += varintSize(d);
  const dataBytes = t.data.byteLength;
  let size = 0;
  if (name.length > 0) size += lenFieldSize(TENSOR_NAME, name.length);
  size += lenFieldSize(TENSOR_DTYPE, DTYPE_BYTES[dtype].length);
  if (t.shape.length > 0) size += lenFieldSize(TENSOR_SHAPE, shapeBytes);
  if (dataBytes > 0) size += lenFieldSize(TENSOR_DATA, dataBytes);
  return { name, shape: t.shape, shapeBytes, data: t.data, dtype, size };
}

// Big-endian hosts only: the little-endian bytes of each tensor, converted once however many
// participants it is broadcast to. Sound because sent tensors are never mutated (see Tensor.data).
const swappedBytes = new WeakMap<TensorData, Uint8Array>();

/** The little-endian bytes of `data`: a view on little-endian hosts (and for bytes), a cached conversion otherwise. */
function littleEndianBytes(data: TensorData): Uint8Array {
  if (LITTLE_ENDIAN_HOST || data instanceof Uint8Array) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const cached = swappedBytes.get(data);
  if (cached !== undefined) return cached;
  const out = new Uint8Array(data.byteLength);
  const view = new DataView(out.buffer);
  // Integers are swapped as integers, so no float conversion can touch their bits.
  if (data instanceof Uint32Array) for (let i = 0; i < data.length; i++) view.setUint32(i * 4, data[i] as number, true);
  else for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i] as number, true);
  swappedBytes.set(data, out);
  return out;
}

/**
 * An envelope encoded as byte ranges whose concatenation is the `Envelope` message: the field
 * headers live in one small buffer, and each tensor's data is a view of the caller's typed array
 * (little-endian hosts), so nothing large is copied until the bytes are framed.
 */
export interface EncodedEnvelope {
  /** Total size of the encoded envelope in bytes. */
  readonly byteLength: number;
  /** The encoded bytes, in order; tensor data as views, not copies. */
  readonly parts: readonly Uint8Array[];
}

/**
 * Encodes an envelope into the `Envelope` message of `edufed.proto` without copying tensor data.
 * The parts alias the tensors, which must not be mutated until every part has been consumed.
 * @throws TransportError (`protocol`) for an envelope that would not decode to itself: a non-string
 *   or oversized id, a round that is not a uint32, a header JSON cannot carry, a tensor whose shape
 *   and data disagree.
 */
export function encodeEnvelopeParts(e: Envelope): EncodedEnvelope {
  const kind = shortString(e.kind, 'kind');
  if (kind.length === 0) throw new TransportError('protocol', 'kind: must not be empty');
  const correlationId = shortString(e.correlationId, 'correlationId');
  const sender = shortString(e.sender, 'sender');
  const receiver = shortString(e.receiver, 'receiver');
  const jobId = shortString(e.jobId, 'jobId');
  if (typeof e.round !== 'number' || !Number.isInteger(e.round) || e.round < 0 || e.round > 0xffffffff) {
    throw new TransportError('protocol', `round: ${String(e.round)} is not a uint32`);
  }
  const header = headerJson(e.header);
  if (!Array.isArray(e.tensors)) throw new TransportError('protocol', 'tensors: expected an array');
  const plans = e.tensors.map(planTensor);

  let metaSize = lenFieldSize(ENV_KIND, kind.length);
  for (const [field, bytes] of [
    [ENV_CORRELATION_ID, correlationId],
    [ENV_SENDER, sender],
    [ENV_RECEIVER, receiver],
    [ENV_JOB_ID, jobId],
    [ENV_HEADER_JSON, header],
  ] as const) {
    if (bytes.length > 0) metaSize += lenFieldSize(field, bytes.length);
  }
  if (e.round !== 0) metaSize += tagSize(ENV_ROUND) + varintSize(e.round);
  let byteLength = metaSize;
  for (const p of plans) {
    byteLength += lenFieldSize(ENV_TENSORS, p.size);
    metaSize += tagSize(ENV_TENSORS) + varintSize(p.size) + p.size - p.data.byteLength;
  }

  // Every field header goes into one buffer; each tensor's data sits as a view between its slices.
  const w = new ProtoWriter(metaSize);
  w.bytesField(ENV_KIND, kind);
  w.bytesField(ENV_CORRELATION_ID, correlationId);
  w.bytesField(ENV_SENDER, sender);
  w.bytesField(ENV_RECEIVER, receiver);
  w.bytesField(ENV_JOB_ID, jobId);
  w.uintField(ENV_ROUND, e.round);
  w.bytesField(ENV_HEADER_JSON, header);
  const parts: Uint8Array[] = [];
  let sliceStart = 0;
  for (const p of plans) {
    w.tag(ENV_TENSORS, WIRE_LEN);
    w.varint(p.size);
    w.bytesField(TENSOR_NAME, p.name);
    w.bytesField(TENSOR_DTYPE, DTYPE_BYTES[p.dtype]);
    if (p.shape.length > 0) {
      w.tag(TENSOR_SHAPE, WIRE_LEN);
      w.varint(p.shapeBytes);
      for (const d of p.shape) w.varint(d);
    }
    if (p.data.length > 0) {
      w.tag(TENSOR_DATA, WIRE_LEN);
      w.varint(p.data.byteLength);
      parts.push(w.bytes.subarray(sliceStart, w.position));
      sliceStart = w.position;
      parts.push(littleEndianBytes(p.data));
    }
  }
  const meta = w.finish();
  if (sliceStart < meta.length) parts.push(meta.subarray(sliceStart));
  return { byteLength, parts };
}

/**
 * Encodes an envelope into the `Envelope` message of `edufed.proto`, as one buffer.
 * @throws TransportError (`protocol`) as {@link encodeEnvelopeParts}.
 */
export function encodeEnvelope(e: Envelope): Uint8Array {
  const { byteLength, parts } = encodeEnvelopeParts(e);
  const out = Buffer.allocUnsafeSlow(byteLength);
  let pos = 0;
  for (const part of parts) {
    out.set(part, pos);
    pos += part.length;
  }
  return out;
}

function readUint32LE(raw: Uint8Array): Uint32Array {
  const n = raw.length / 4;
  if (LITTLE_ENDIAN_HOST && raw.byteOffset % 4 === 0) return new Uint32Array(raw.buffer, raw.byteOffset, n);
  const out = new Uint32Array(n);
  if (LITTLE_ENDIAN_HOST) {
    new Uint8Array(out.buffer).set(raw);
  } else {
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    for (let i = 0; i < n; i++) out[i] = view.getUint32(i * 4, true);
  }
  return out;
}

function readFloat32LE(raw: Uint8Array): Float32Array {
  const n = raw.length / 4;
  if (LITTLE_ENDIAN_HOST && raw.byteOffset % 4 === 0) {
    // Aligned: a view shares the received buffer instead of copying a possibly large tensor.
    return new Float32Array(raw.buffer, raw.byteOffset, n);
  }
  const out = new Float32Array(n);
  if (LITTLE_ENDIAN_HOST) {
    new Uint8Array(out.buffer).set(raw);
  } else {
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, true);
  }
  return out;
}

function decodeTensor(bytes: Uint8Array, index: number): Tensor {
  const what = `envelope tensors[${index}]`;
  const r = new ProtoReader(bytes, what);
  let name = '';
  let dtype = '';
  const shape: number[] = [];
  let data: Uint8Array = new Uint8Array(0);
  while (!r.done) {
    const tag = r.tag();
    switch (tag.field) {
      case TENSOR_NAME:
        r.expectWire(tag, WIRE_LEN, 'name');
        name = r.string('name', MAX_SHORT_STRING_BYTES);
        break;
      case TENSOR_DTYPE:
        r.expectWire(tag, WIRE_LEN, 'dtype');
        dtype = r.string('dtype', MAX_SHORT_STRING_BYTES);
        break;
      case TENSOR_SHAPE:
        if (tag.wire === WIRE_VARINT) {
          shape.push(r.uint32('shape'));
        } else {
          // Packed repeated uint32 (proto3's default encoding); parsers must accept both forms.
          r.expectWire(tag, WIRE_LEN, 'shape');
          const packed = new ProtoReader(r.lengthDelimited(), `${what}.shape`);
          while (!packed.done) shape.push(packed.uint32('shape'));
        }
        if (shape.length > MAX_TENSOR_RANK) r.fail(`shape: rank above the limit of ${MAX_TENSOR_RANK}`);
        break;
      case TENSOR_DATA:
        r.expectWire(tag, WIRE_LEN, 'data');
        data = r.lengthDelimited();
        break;
      default:
        r.skip(tag);
    }
  }
  if (!(TENSOR_DTYPES as readonly string[]).includes(dtype)) r.fail(`dtype "${dtype}" is not supported (only ${TENSOR_DTYPES.map((d) => `"${d}"`).join(', ')})`);
  const width = dtype === TENSOR_DTYPE_U8 ? 1 : 4;
  if (data.length % width !== 0) r.fail(`data: ${data.length} bytes is not a whole number of ${dtype} values`);
  const elements = shapeSize(shape, what);
  if (elements !== data.length / width) {
    r.fail(`"${name}": shape [${shape.join(', ')}] has ${elements} elements but data holds ${data.length / width}`);
  }
  const values: TensorData = dtype === TENSOR_DTYPE_F32 ? readFloat32LE(data) : dtype === TENSOR_DTYPE_U32 ? readUint32LE(data) : new Uint8Array(data.buffer, data.byteOffset, data.length);
  return { name, shape, data: values };
}

/**
 * Offset of the first tensor's data inside an encoded envelope, judged from its first bytes alone;
 * undefined when they do not reach it. A hint for aligning the reassembly buffer: never throws.
 */
export function firstTensorDataOffset(prefix: Uint8Array): number | undefined {
  try {
    const r = new ProtoReader(prefix, 'envelope prefix');
    while (!r.done) {
      const tag = r.tag();
      if (tag.field !== ENV_TENSORS || tag.wire !== WIRE_LEN) {
        r.skip(tag);
        continue;
      }
      r.varint();
      const start = r.offset;
      const t = new ProtoReader(prefix.subarray(start), 'tensor prefix');
      while (!t.done) {
        const inner = t.tag();
        if (inner.field === TENSOR_DATA && inner.wire === WIRE_LEN) {
          t.varint();
          return start + t.offset;
        }
        t.skip(inner);
      }
      return undefined;
    }
  } catch {
    // Truncated prefix (or garbage the decoder will refuse later): no hint.
  }
  return undefined;
}

function parseHeader(text: string): unknown {
  if (text.length === 0) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new TransportError('protocol', `envelope header_json: not valid JSON (${err instanceof Error ? err.message : String(err)})`, {
      cause: err,
    });
  }
}

/**
 * Decodes and validates an `Envelope` message. Float32 tensors are views into `bytes` when their
 * offset is 4-byte aligned (so keep `bytes` unmodified), copies otherwise.
 * @throws TransportError (`protocol`) for truncated or malformed bytes, invalid UTF-8, a header that
 *   is not JSON, an unsupported dtype, a shape that disagrees with the data, or an empty kind.
 */
export function decodeEnvelope(bytes: Uint8Array): Envelope {
  if (!(bytes instanceof Uint8Array)) throw new TransportError('protocol', 'envelope: expected bytes');
  const r = new ProtoReader(bytes, 'envelope');
  const strings: Record<number, string> = {};
  let round = 0;
  let headerText = '';
  const tensors: Tensor[] = [];
  while (!r.done) {
    const tag = r.tag();
    switch (tag.field) {
      case ENV_KIND:
      case ENV_CORRELATION_ID:
      case ENV_SENDER:
      case ENV_RECEIVER:
      case ENV_JOB_ID: {
        const field = ['', 'kind', 'correlation_id', 'sender', 'receiver', 'job_id'][tag.field] ?? '';
        r.expectWire(tag, WIRE_LEN, field);
        strings[tag.field] = r.string(field, MAX_SHORT_STRING_BYTES);
        break;
      }
      case ENV_ROUND:
        r.expectWire(tag, WIRE_VARINT, 'round');
        round = r.uint32('round');
        break;
      case ENV_HEADER_JSON:
        r.expectWire(tag, WIRE_LEN, 'header_json');
        headerText = r.string('header_json');
        break;
      case ENV_TENSORS:
        r.expectWire(tag, WIRE_LEN, 'tensors');
        tensors.push(decodeTensor(r.lengthDelimited(), tensors.length));
        break;
      default:
        r.skip(tag);
    }
  }
  const kind = strings[ENV_KIND] ?? '';
  if (kind.length === 0) throw new TransportError('protocol', 'envelope: kind is missing or empty');
  return {
    kind,
    correlationId: strings[ENV_CORRELATION_ID] ?? '',
    sender: strings[ENV_SENDER] ?? '',
    receiver: strings[ENV_RECEIVER] ?? '',
    jobId: strings[ENV_JOB_ID] ?? '',
    round,
    header: parseHeader(headerText),
    tensors,
  };
}

/** Size in bytes of a decoded tensor list's payload, for logs and limits. */
export function tensorBytes(tensors: readonly Tensor[]): number {
  let n = 0;
  for (const t of tensors) n += t.data.byteLength;
  return n;
}
