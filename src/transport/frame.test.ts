import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { TransportError } from './errors.js';
import { decodeFrame, encodeFrame, FrameAssembler, FrameSplitter, splitIntoFrames, type Frame } from './frame.js';

function bytes(n: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 7) % 256);
}

function refusal(reason: 'protocol' | 'too-large', pattern: RegExp) {
  return (err: unknown): boolean => err instanceof TransportError && err.reason === reason && pattern.test(err.message);
}

describe('frame codec', () => {
  it('round-trips any frame', () => {
    fc.assert(
      fc.property(
        fc.record({
          messageId: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
          chunkIndex: fc.integer({ min: 0, max: 0xffffffff }),
          chunkCount: fc.integer({ min: 0, max: 0xffffffff }),
          totalBytes: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
          payload: fc.uint8Array({ maxLength: 64 }),
        }),
        (f) => {
          const back = decodeFrame(encodeFrame(f));
          assert.deepStrictEqual({ ...back, payload: [...back.payload] }, { ...f, payload: [...f.payload] });
        },
      ),
    );
  });

  it('never throws anything but a protocol TransportError on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
        try {
          decodeFrame(b);
        } catch (err) {
          assert.ok(err instanceof TransportError && err.reason === 'protocol', String(err));
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('splitIntoFrames / FrameAssembler', () => {
  it('reassembles any payload split at any chunk size, message after message', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { minLength: 1, maxLength: 5 }), fc.integer({ min: 1, max: 64 }), (payloads, chunk) => {
        const assembler = new FrameAssembler(1 << 20, 'p1');
        payloads.forEach((p, m) => {
          const frames = splitIntoFrames(m + 1, p, chunk);
          assert.equal(frames.length, Math.max(1, Math.ceil(p.length / chunk)));
          let out: Uint8Array | undefined;
          for (const f of frames) {
            assert.equal(out, undefined, 'an envelope completed before its last chunk');
            assert.ok(f.payload.length <= chunk);
            out = assembler.push(decodeFrame(encodeFrame(f)));
          }
          assert.deepEqual([...(out ?? [])], [...p]);
        });
      }),
      { numRuns: 300 },
    );
  });

  it('refuses a duplicated chunk, a skipped chunk and chunks out of order', () => {
    const frames = splitIntoFrames(1, bytes(30), 10);
    const [f0, f1, f2] = frames as [Frame, Frame, Frame];
    const dup = new FrameAssembler(100, 'p1');
    dup.push(f0);
    assert.throws(() => dup.push(f0), refusal('protocol', /chunk 0 arrived, expected chunk 1 \(duplicate or out of order\)/));
    const skip = new FrameAssembler(100, 'p1');
    skip.push(f0);
    assert.throws(() => skip.push(f2), refusal('protocol', /chunk 2 arrived, expected chunk 1/));
    assert.throws(() => new FrameAssembler(100, 'p1').push(f1), refusal('protocol', /starts at chunk 1, expected 0/));
  });

  it('refuses a replayed or non-increasing message id', () => {
    const a = new FrameAssembler(100, 'p1');
    const [first] = splitIntoFrames(5, bytes(3), 10);
    assert.ok(first !== undefined);
    a.push(first);
    assert.throws(() => a.push(first), refusal('protocol', /message id 5 is not above the previous 5 \(duplicate or replayed\)/));
    assert.throws(() => a.push({ ...first, messageId: 4 }), refusal('protocol', /not above the previous/));
  });

  it('refuses a new message interleaved with an incomplete one', () => {
    const a = new FrameAssembler(100, 'p1');
    const [m1] = splitIntoFrames(1, bytes(20), 10);
    const [m2] = splitIntoFrames(2, bytes(5), 10);
    assert.ok(m1 !== undefined && m2 !== undefined);
    a.push(m1);
    assert.throws(() => a.push(m2), refusal('protocol', /message 2 started before message 1 was complete/));
  });

  it('refuses an envelope above the maximum size from its first chunk, before buffering it', () => {
    const [f] = splitIntoFrames(1, bytes(101), 50);
    assert.ok(f !== undefined);
    assert.throws(() => new FrameAssembler(100, 'p1').push(f), refusal('too-large', /frame from p1: message 1 is 101 bytes, above the maximum of 100/));
  });

  it('refuses inconsistent totals, overflowing, empty or short chunks and impossible chunk counts', () => {
    const [f0, f1] = splitIntoFrames(1, bytes(20), 10) as [Frame, Frame];
    const check = (frames: Frame[], pattern: RegExp): void => {
      const a = new FrameAssembler(100, 'p1');
      assert.throws(() => {
        for (const f of frames) a.push(f);
      }, refusal('protocol', pattern));
    };
    check([f0, { ...f1, totalBytes: 21 }], /disagrees with chunk 0/);
    check([f0, { ...f1, payload: bytes(11) }], /overflows total_bytes 20/);
    check([f0, { ...f1, payload: bytes(9) }], /last chunk leaves 1 bytes missing/);
    check([f0, { ...f1, chunkCount: 3 }], /disagrees with chunk 0/);
    check([{ ...f0, chunkCount: 3 }, { ...f1, chunkCount: 3, payload: bytes(10) }, { ...f1, chunkIndex: 2, chunkCount: 3, payload: new Uint8Array(0) }], /chunk 2 is empty/);
    check([{ ...f0, chunkCount: 21 }], /chunk_count 21 is impossible for 20 bytes/);
    check([{ ...f0, chunkCount: 0 }], /chunk_count 0 is impossible/);
    check([{ messageId: 1, chunkIndex: 0, chunkCount: 1, totalBytes: 5, payload: bytes(4) }], /single chunk of 4 bytes, total_bytes says 5/);
  });

  it('passes an empty envelope as one empty chunk', () => {
    const frames = splitIntoFrames(1, new Uint8Array(0), 10);
    assert.equal(frames.length, 1);
    const out = new FrameAssembler(100, 'p1').push(decodeFrame(encodeFrame(frames[0] as Frame)));
    assert.equal(out?.length, 0);
  });
});

describe('FrameSplitter', () => {
  it('builds from scattered parts exactly the frames that splitting the joined bytes builds', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 6 }), fc.integer({ min: 1, max: 50 }), (parts, chunk) => {
        const joined = Uint8Array.from(parts.flatMap((p) => [...p]));
        const splitter = new FrameSplitter(7, joined.length, parts, chunk);
        const built: Buffer[] = [];
        for (let f = splitter.next(); f !== undefined; f = splitter.next()) built.push(f.frame);
        const expected = splitIntoFrames(7, joined, chunk).map((f) => encodeFrame(f));
        assert.deepEqual(built.map((b) => [...b]), expected.map((b) => [...b]));
      }),
    );
  });

  it('puts the hinted offset of a reassembled envelope on a 4-byte boundary', () => {
    const frames = splitIntoFrames(1, bytes(30), 10);
    const assembler = new FrameAssembler(100, 'p1', () => 5);
    let out: Uint8Array | undefined;
    for (const f of frames) out = assembler.push(decodeFrame(encodeFrame(f)));
    assert.deepEqual(out !== undefined ? [...out] : undefined, [...bytes(30)]);
    assert.equal(((out?.byteOffset ?? 1) + 5) % 4, 0);
  });
});
