/**
 * The hand-written codec against the contract: `edufed.proto` loaded by protobufjs (an independent
 * protobuf implementation, present as a dependency of grpc-js) must read what we write and we must
 * read what it writes.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import protobuf from 'protobufjs';
import { projectRoot } from '../core/paths.js';
import { isRecord } from '../core/validate.js';
import { decodeEnvelope, encodeEnvelope, type Envelope, type TensorData } from './envelope.js';
import { decodeFrame, encodeFrame } from './frame.js';

const root = protobuf.loadSync(join(projectRoot(), 'src', 'transport', 'edufed.proto'));
const EnvelopeType = root.lookupType('edufed.v1.Envelope');
const FrameType = root.lookupType('edufed.v1.Frame');
const service = root.lookupService('edufed.v1.Federation');

const conversion = { longs: Number, bytes: Array, defaults: true, arrays: true } as const;

/** The little-endian bytes of a tensor (this test runs on little-endian hosts). */
function bytesLE(data: TensorData): number[] {
  return [...new Uint8Array(data.buffer, data.byteOffset, data.byteLength)];
}

function dtypeName(data: TensorData): string {
  return data instanceof Float32Array ? 'f32' : data instanceof Uint32Array ? 'u32' : 'u8';
}

const envelopeArb: fc.Arbitrary<Envelope> = fc.record({
  kind: fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }),
  correlationId: fc.uuid(),
  sender: fc.string({ maxLength: 12 }),
  receiver: fc.string({ maxLength: 12 }),
  jobId: fc.string({ maxLength: 12 }),
  round: fc.integer({ min: 0, max: 0xffffffff }),
  header: fc.jsonValue({ maxDepth: 2 }),
  tensors: fc.array(
    fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 3 }).chain((shape) =>
      fc
        .tuple(
          fc.array(fc.float({ noNaN: true }), { minLength: shape.reduce((a, b) => a * b, 1), maxLength: shape.reduce((a, b) => a * b, 1) }),
          fc.constantFrom('f32', 'u32', 'u8'),
        )
        .map(([v, dtype]) => ({
          name: 't',
          shape,
          data: dtype === 'f32' ? Float32Array.from(v) : dtype === 'u32' ? Uint32Array.from(v, (x) => Math.abs(Math.trunc(x * 1e3)) >>> 0) : Uint8Array.from(v, (x) => Math.abs(Math.trunc(x)) & 255),
        })),
    ),
    { maxLength: 3 },
  ),
});

describe('edufed.proto contract', () => {
  it('declares service Federation with one bidirectional Connect stream of Frames', () => {
    const connect = service.methods['Connect'];
    assert.ok(connect !== undefined);
    assert.equal(connect.requestType, 'Frame');
    assert.equal(connect.responseType, 'Frame');
    assert.equal(connect.requestStream, true);
    assert.equal(connect.responseStream, true);
  });

  it('protobufjs reads every envelope we encode with the same field values', () => {
    fc.assert(
      fc.property(envelopeArb, (e) => {
        const msg = EnvelopeType.toObject(EnvelopeType.decode(encodeEnvelope(e)), conversion);
        assert.equal(msg['kind'], e.kind);
        assert.equal(msg['correlationId'], e.correlationId);
        assert.equal(msg['sender'], e.sender);
        assert.equal(msg['receiver'], e.receiver);
        assert.equal(msg['jobId'], e.jobId);
        assert.equal(msg['round'], e.round);
        assert.deepEqual(JSON.parse(String(msg['headerJson'])), JSON.parse(JSON.stringify(e.header)));
        const tensors: unknown = msg['tensors'];
        assert.ok(Array.isArray(tensors));
        assert.deepEqual(
          tensors.map((t: unknown) => (isRecord(t) ? [t['name'], t['dtype'], t['shape'], t['data']] : undefined)),
          e.tensors.map((t) => [t.name, dtypeName(t.data), [...t.shape], bytesLE(t.data)]),
        );
      }),
      { numRuns: 200 },
    );
  });

  it('we read every envelope protobufjs encodes from the same values', () => {
    fc.assert(
      fc.property(envelopeArb, (e) => {
        const bytes = EnvelopeType.encode(
          EnvelopeType.fromObject({
            kind: e.kind,
            correlationId: e.correlationId,
            sender: e.sender,
            receiver: e.receiver,
            jobId: e.jobId,
            round: e.round,
            headerJson: JSON.stringify(e.header),
            tensors: e.tensors.map((t) => ({ name: t.name, dtype: dtypeName(t.data), shape: [...t.shape], data: Uint8Array.from(bytesLE(t.data)) })),
          }),
        ).finish();
        assert.deepStrictEqual(decodeEnvelope(bytes), { ...e, header: JSON.parse(JSON.stringify(e.header)) as unknown });
      }),
      { numRuns: 200 },
    );
  });

  it('frames agree both ways, 64-bit fields above 2^32 included', () => {
    fc.assert(
      fc.property(
        fc.record({
          messageId: fc.integer({ min: 0, max: 2 ** 50 }),
          chunkIndex: fc.integer({ min: 0, max: 0xffffffff }),
          chunkCount: fc.integer({ min: 0, max: 0xffffffff }),
          totalBytes: fc.integer({ min: 0, max: 2 ** 50 }),
          payload: fc.uint8Array({ maxLength: 32 }),
        }),
        (f) => {
          const theirs = FrameType.toObject(FrameType.decode(encodeFrame(f)), conversion);
          assert.deepEqual(theirs, { ...f, payload: [...f.payload] });
          const ours = decodeFrame(FrameType.encode(FrameType.fromObject(f)).finish());
          assert.deepEqual({ ...ours, payload: [...ours.payload] }, { ...f, payload: [...f.payload] });
        },
      ),
      { numRuns: 300 },
    );
  });
});
