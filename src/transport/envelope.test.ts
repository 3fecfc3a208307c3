import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decodeEnvelope, encodeEnvelope, encodeEnvelopeParts, firstTensorDataOffset, type Envelope, type Tensor } from './envelope.js';
import { TransportError } from './errors.js';
import { ProtoWriter, utf8 } from './protobuf-wire.js';

const base: Envelope = { kind: 'fit', correlationId: 'c1', sender: 'coordinator', receiver: 'p1', jobId: 'j', round: 2, header: { lr: 0.1 }, tensors: [] };

function text(maxLength: number): fc.Arbitrary<string> {
  return fc.string({ unit: 'binary', maxLength });
}

const tensorArb: fc.Arbitrary<Tensor> = fc
  .record({ name: text(12), shape: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }) })
  .chain(({ name, shape }) => {
    const n = shape.reduce((a, b) => a * b, 1);
    return fc
      .array(fc.float(), { minLength: n, maxLength: n })
      .map((values): Tensor => ({ name, shape, data: Float32Array.from(values) }));
  });

const envelopeArb: fc.Arbitrary<Envelope> = fc.record({
  kind: fc.string({ unit: 'binary', minLength: 1, maxLength: 16 }),
  correlationId: text(40),
  sender: text(16),
  receiver: text(16),
  jobId: text(16),
  round: fc.integer({ min: 0, max: 0xffffffff }),
  header: fc.jsonValue({ maxDepth: 3 }),
  tensors: fc.array(tensorArb, { maxLength: 4 }),
});

/** Raises if `fn` throws anything other than a TransportError with reason `protocol`. */
function decodesOrRefuses(bytes: Uint8Array): void {
  try {
    decodeEnvelope(bytes);
  } catch (err) {
    assert.ok(err instanceof TransportError, `expected a TransportError, got ${String(err)}`);
    assert.equal(err.reason, 'protocol');
  }
}

describe('encodeEnvelope / decodeEnvelope', () => {
  it('round-trips any envelope exactly, NaN, -0 and infinities in tensors included', () => {
    fc.assert(
      fc.property(envelopeArb, (e) => {
        const back = decodeEnvelope(encodeEnvelope(e));
        assert.deepStrictEqual(back, { ...e, header: JSON.parse(JSON.stringify(e.header)) as unknown });
      }),
      { numRuns: 300 },
    );
  });

  it('produces the proto3 bytes of a small envelope exactly (known answer)', () => {
    const bytes = encodeEnvelope({
      kind: 'a',
      correlationId: '',
      sender: '',
      receiver: '',
      jobId: '',
      round: 1,
      header: null,
      tensors: [{ name: 't', shape: [1], data: Float32Array.of(1) }],
    });
    // kind(1,"a") round(6,1) header_json(7,"null") tensors(8){ name(1,"t") dtype(2,"f32") shape(3,[1]) data(4, 00 00 80 3f) }
    const expected = [
      0x0a, 0x01, 0x61, 0x30, 0x01, 0x3a, 0x04, 0x6e, 0x75, 0x6c, 0x6c, 0x42, 0x11, 0x0a, 0x01, 0x74, 0x12, 0x03, 0x66, 0x33, 0x32,
      0x1a, 0x01, 0x01, 0x22, 0x04, 0x00, 0x00, 0x80, 0x3f,
    ];
    assert.deepEqual([...bytes], expected);
  });

  it('decodes tensors at an unaligned offset by copying them into aligned arrays', () => {
    const e: Envelope = { ...base, tensors: [{ name: 'w', shape: [3], data: Float32Array.of(1.5, -2, 3.25) }] };
    const encoded = encodeEnvelope(e);
    for (let shift = 0; shift < 4; shift++) {
      const holder = new Uint8Array(encoded.length + shift);
      holder.set(encoded, shift);
      const back = decodeEnvelope(holder.subarray(shift));
      const t = back.tensors[0];
      assert.ok(t !== undefined);
      assert.equal(t.data.byteOffset % 4, 0);
      assert.deepEqual([...t.data], [1.5, -2, 3.25]);
    }
  });

  it('sends an undefined header as no header, which arrives as null', () => {
    assert.equal(decodeEnvelope(encodeEnvelope({ ...base, header: undefined })).header, null);
  });

  it('refuses to encode envelopes that could not decode to themselves', () => {
    const bad: [string, Envelope][] = [
      ['empty kind', { ...base, kind: '' }],
      ['lone surrogate', { ...base, sender: 'p\uD800' }],
      ['negative round', { ...base, round: -1 }],
      ['fractional round', { ...base, round: 1.5 }],
      ['round above uint32', { ...base, round: 2 ** 32 }],
      ['BigInt header', { ...base, header: { n: 1n } }],
      ['shape/data mismatch', { ...base, tensors: [{ name: 'w', shape: [2, 2], data: new Float32Array(3) }] }],
      ['negative dimension', { ...base, tensors: [{ name: 'w', shape: [-1], data: new Float32Array(0) }] }],
      ['oversized id', { ...base, jobId: 'x'.repeat(1025) }],
    ];
    for (const [what, e] of bad) {
      assert.throws(() => encodeEnvelope(e), (err: unknown) => err instanceof TransportError && err.reason === 'protocol', what);
    }
  });

  it('never throws anything but a protocol TransportError on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => decodesOrRefuses(bytes)),
      { numRuns: 2000 },
    );
  });

  it('never throws anything but a protocol TransportError on truncated or bit-flipped encodings', () => {
    fc.assert(
      fc.property(envelopeArb, fc.nat(), fc.nat(), (e, cut, flip) => {
        const bytes = encodeEnvelope(e);
        decodesOrRefuses(bytes.subarray(0, cut % (bytes.length + 1)));
        const mutated = bytes.slice();
        const at = flip % mutated.length;
        mutated[at] = (mutated[at] as number) ^ (1 << (flip % 8));
        decodesOrRefuses(mutated);
      }),
      { numRuns: 500 },
    );
  });

  it('carries uint32 and byte tensors bit for bit, NaN-looking uint32 patterns included', () => {
    const ring = Uint32Array.of(0, 1, 0x7fc00001, 0xffffffff, 0x7f800001);
    const bytes = Uint8Array.of(0, 255, 17);
    const out = decodeEnvelope(encodeEnvelope({ ...base, tensors: [{ name: 'm', shape: [5], data: ring }, { name: 'k', shape: [3], data: bytes }] }));
    assert.ok(out.tensors[0]?.data instanceof Uint32Array);
    assert.deepEqual([...out.tensors[0].data], [...ring]);
    assert.ok(out.tensors[1]?.data instanceof Uint8Array && !(out.tensors[1].data instanceof Uint32Array));
    assert.deepEqual([...out.tensors[1].data], [...bytes]);
  });

  it('reports a tensor cut short with the field and byte offset', () => {
    const bytes = encodeEnvelope({ ...base, tensors: [{ name: 'w', shape: [4], data: new Float32Array(4) }] });
    assert.throws(() => decodeEnvelope(bytes.subarray(0, bytes.length - 1)), /envelope: length \d+ runs past the end \(at byte \d+/);
  });

  it('refuses an unsupported dtype, a shape that disagrees with the data, invalid UTF-8 and a non-JSON header', () => {
    const tensor = (dtype: string, shape: number[], dataBytes: number): Uint8Array => {
      const name = utf8('w', 'name');
      const dt = utf8(dtype, 'dtype');
      const size = 2 + name.length + 2 + dt.length + 2 + shape.length + 2 + dataBytes;
      const w = new ProtoWriter(size);
      w.bytesField(1, name);
      w.bytesField(2, dt, true);
      w.tag(3, 2);
      w.varint(shape.length);
      for (const d of shape) w.varint(d);
      w.tag(4, 2);
      w.varint(dataBytes);
      w.raw(new Uint8Array(dataBytes));
      return w.finish();
    };
    const envelopeWith = (field: number, payload: Uint8Array): Uint8Array => {
      const w = new ProtoWriter(3 + 2 + payload.length + (payload.length > 127 ? 1 : 0));
      w.bytesField(1, utf8('k', 'kind'));
      w.tag(field, 2);
      w.varint(payload.length);
      w.raw(payload);
      return w.finish();
    };
    assert.throws(() => decodeEnvelope(envelopeWith(8, tensor('f64', [1], 8))), /dtype "f64" is not supported/);
    assert.throws(() => decodeEnvelope(envelopeWith(8, tensor('f32', [3], 8))), /shape \[3\] has 3 elements but data holds 2/);
    assert.throws(() => decodeEnvelope(envelopeWith(8, tensor('f32', [1], 6))), /not a whole number of f32 values/);
    assert.throws(() => decodeEnvelope(envelopeWith(8, tensor('u32', [2], 7))), /not a whole number of u32 values/);
    assert.throws(() => decodeEnvelope(envelopeWith(3, Uint8Array.of(0xc3, 0x28))), /sender: invalid UTF-8/);
    assert.throws(() => decodeEnvelope(envelopeWith(7, utf8('{"a":', 'h'))), /header_json: not valid JSON/);
  });

  it('refuses a missing kind, a wrong wire type, groups and over-long varints', () => {
    assert.throws(() => decodeEnvelope(Uint8Array.of(0x30, 0x01)), /kind is missing or empty/);
    assert.throws(() => decodeEnvelope(Uint8Array.of(0x08, 0x01)), /kind \(field 1\) has wire type 0, expected 2/);
    assert.throws(() => decodeEnvelope(Uint8Array.of(0x0b)), /unsupported wire type 3/);
    assert.throws(() => decodeEnvelope(Uint8Array.of(0x30, ...new Array<number>(10).fill(0xff), 0x01)), /varint longer than 10 bytes/);
    assert.throws(() => decodeEnvelope(Uint8Array.of(0x30, 0x80, 0x80, 0x80, 0x80, 0x10)), /round: 4294967296 does not fit in uint32/);
  });

  it('skips unknown fields of every wire type, as proto3 requires', () => {
    const known = encodeEnvelope(base);
    const unknown = Uint8Array.of(0x78, 0x05, 0x81, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, 0x82, 0x01, 0x01, 0xaa, 0x85, 0x01, 1, 2, 3, 4);
    const withUnknown = new Uint8Array(known.length + unknown.length);
    withUnknown.set(unknown, 0);
    withUnknown.set(known, unknown.length);
    assert.deepStrictEqual(decodeEnvelope(withUnknown), decodeEnvelope(known));
  });
});

describe('encodeEnvelopeParts / firstTensorDataOffset', () => {
  it('encodes to parts whose concatenation is the envelope, tensor data as a view of the caller\'s array', () => {
    fc.assert(
      fc.property(envelopeArb, (e) => {
        const { byteLength, parts } = encodeEnvelopeParts(e);
        const joined = Uint8Array.from(parts.flatMap((p) => [...p]));
        assert.equal(byteLength, joined.length);
        assert.deepEqual([...joined], [...encodeEnvelope(e)]);
      }),
    );
    const data = new Float32Array([1, 2, 3]);
    const { parts } = encodeEnvelopeParts({ ...base, tensors: [{ name: 'w', shape: [3], data }] });
    assert.ok(parts.some((p) => p.buffer === data.buffer), 'the tensor bytes were copied');
  });

  it('finds the first tensor\'s data in a prefix of the encoding, and gives no hint for a prefix too short', () => {
    const data = new Float32Array([1.5, -2, 3]);
    const bytes = encodeEnvelope({ ...base, tensors: [{ name: 'w', shape: [3], data }] });
    const offset = firstTensorDataOffset(bytes.subarray(0, bytes.length - 6));
    assert.ok(offset !== undefined);
    assert.deepEqual([...new Float32Array(Uint8Array.from(bytes.subarray(offset, offset + 12)).buffer)], [...data]);
    assert.equal(firstTensorDataOffset(bytes.subarray(0, 5)), undefined);
  });
});
