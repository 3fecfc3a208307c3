import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '../../core/errors.js';
import { summarize } from '../../core/metrics.js';
import { DEFAULT_CKKS_PARAMS } from '../../crypto/ckks.js';
import type { Envelope, EnvelopeBody } from '../../transport/channel.js';
import { decodeEnvelope, encodeEnvelope } from '../../transport/envelope.js';
import { decodeCkksReply, decodeCkksRequest, encodeCkksReply, encodeCkksRequest } from './codec.js';
import type { CkksReply, CkksRequest } from './protocol.js';

const JOB = 'job-1';
const KEY_ID = 'ab'.repeat(32);

function bytes(length: number, fill: number): Uint8Array {
  return new Uint8Array(length).fill(fill);
}

/** Through the real transport codec, so dtypes and shapes are exercised as on the network. */
function wire(body: EnvelopeBody, sender = 'coordinator', receiver = 'p1'): Envelope {
  return decodeEnvelope(encodeEnvelope({ ...body, correlationId: 'c1', sender, receiver }));
}

const requests: CkksRequest[] = [
  { step: 'ckks-hello', from: 'coordinator', to: 'participant', payload: { params: DEFAULT_CKKS_PARAMS } },
  {
    step: 'ckks-keygen',
    from: 'coordinator',
    to: 'participant',
    payload: { params: DEFAULT_CKKS_PARAMS, peers: [{ participantId: 'p2', publicKey: bytes(32, 2) }, { participantId: 'p3', publicKey: bytes(32, 3) }] },
  },
  { step: 'ckks-share', from: 'coordinator', to: 'participant', payload: { peers: [{ participantId: 'p4', publicKey: bytes(32, 4) }] } },
  {
    step: 'ckks-install',
    from: 'coordinator',
    to: 'participant',
    payload: { params: DEFAULT_CKKS_PARAMS, sealer: 'p1', sealerKey: bytes(32, 1), publicKey: bytes(700, 5), sealedSecretKey: bytes(300, 6) },
  },
  {
    step: 'ckks-collect',
    from: 'coordinator',
    to: 'participant',
    payload: {
      train: { round: 3, params: Float32Array.from([0.5, -1, 2]), instructions: { epochs: 2, batchSize: 16, learningRate: 0.1 }, evaluate: true },
      weighting: 'uniform',
      maxInputs: 50,
      keyId: KEY_ID,
    },
  },
  {
    step: 'ckks-decrypt',
    from: 'coordinator',
    to: 'participant',
    payload: { round: 3, keyId: KEY_ID, contributors: ['p1', 'p2'], length: 5, ciphertexts: [bytes(1000, 7), bytes(900, 8)] },
  },
];

const summary = summarize(Float32Array.from([0.9, 0.2, 0.7]), Float32Array.from([1, 0, 0]), 3, 2);

const replies: CkksReply[] = [
  { step: 'ckks-hello-result', from: 'participant', to: 'coordinator', payload: { agreementKey: bytes(32, 9) } },
  {
    step: 'ckks-keygen-result',
    from: 'participant',
    to: 'coordinator',
    payload: { publicKey: bytes(800, 1), sealed: [{ participantId: 'p2', sealed: bytes(100, 2) }, { participantId: 'p3', sealed: bytes(100, 3) }] },
  },
  { step: 'ckks-share-result', from: 'participant', to: 'coordinator', payload: { sealed: [{ participantId: 'p4', sealed: bytes(100, 4) }] } },
  { step: 'ckks-install-result', from: 'participant', to: 'coordinator', payload: { keyId: KEY_ID } },
  {
    step: 'ckks-collect-result',
    from: 'participant',
    to: 'coordinator',
    payload: { round: 3, ciphertexts: [bytes(1000, 1)], meta: { loss: 0.25, trainMs: 12, summary } },
  },
  { step: 'ckks-decrypt-result', from: 'participant', to: 'coordinator', payload: { round: 3, values: Float64Array.from([2, 10, 1 / 3, -1e-300, 1e300]) } },
  { step: 'ckks-error', from: 'participant', to: 'coordinator', payload: { code: 'PARTICIPANT', message: 'no key', needsKey: true } },
];

function expectInvalid(f: () => unknown, pattern: RegExp, participant?: string): void {
  assert.throws(f, (err: unknown) => err instanceof ValidationError && pattern.test(err.message) && err.participant === participant, pattern.source);
}

describe('ckks codec', () => {
  it('every request survives encoding, the transport and decoding unchanged', () => {
    for (const req of requests) assert.deepEqual(decodeCkksRequest(wire(encodeCkksRequest(JOB, req))), req, req.step);
  });

  it('every reply survives encoding, the transport and decoding unchanged, float64 values bit for bit', () => {
    for (const reply of replies) assert.deepEqual(decodeCkksReply(wire(encodeCkksReply(JOB, 3, reply), 'p1', 'coordinator'), 'p1'), reply, reply.step);
  });

  it('keys and ciphertexts travel as byte tensors under kinds prefixed "ckks."', () => {
    const body = encodeCkksRequest(JOB, requests[5] as CkksRequest);
    assert.equal(body.kind, 'ckks.decrypt');
    assert.ok(body.tensors.every((t) => t.data instanceof Uint8Array));
    assert.equal(encodeCkksReply(JOB, 0, replies[0] as CkksReply).kind, 'ckks.hello-result');
  });

  it('rejects unknown kinds and malformed requests, naming the field', () => {
    const keygen = wire(encodeCkksRequest(JOB, requests[1] as CkksRequest));
    expectInvalid(() => decodeCkksRequest({ ...keygen, kind: 'ckks.nonsense' }), /unknown CKKS request kind/);
    expectInvalid(() => decodeCkksRequest({ ...keygen, tensors: keygen.tensors.slice(0, 1) }), /expected 2 tensors, got 1/);
    expectInvalid(() => decodeCkksRequest({ ...keygen, header: { params: DEFAULT_CKKS_PARAMS, peers: ['p2', 'p2'] } }), /peers: "p2" appears twice/);
    expectInvalid(() => decodeCkksRequest({ ...keygen, header: { params: { ...DEFAULT_CKKS_PARAMS, scaleBits: 500 }, peers: ['p2', 'p3'] } }), /ckks-keygen\.params\.scaleBits/);
    const shortKey = wire(encodeCkksRequest(JOB, { step: 'ckks-share', from: 'coordinator', to: 'participant', payload: { peers: [{ participantId: 'p4', publicKey: bytes(31, 4) }] } }));
    expectInvalid(() => decodeCkksRequest(shortKey), /agreement key of "p4" has 31 bytes/);
    const collect = wire(encodeCkksRequest(JOB, requests[4] as CkksRequest));
    const h = collect.header as Record<string, unknown>;
    expectInvalid(() => decodeCkksRequest({ ...collect, header: { ...h, weighting: 'by-size' } }), /ckks-collect\.weighting/);
    expectInvalid(() => decodeCkksRequest({ ...collect, header: { ...h, keyId: 'xyz' } }), /ckks-collect\.keyId/);
    expectInvalid(() => decodeCkksRequest({ ...collect, header: { ...h, maxInputs: 0 } }), /ckks-collect\.maxInputs/);
    const decrypt = wire(encodeCkksRequest(JOB, requests[5] as CkksRequest));
    expectInvalid(() => decodeCkksRequest({ ...decrypt, tensors: [{ name: 'ciphertext', shape: [2], data: Float32Array.from([1, 2]) }] }), /must hold bytes/);
    expectInvalid(() => decodeCkksRequest({ ...decrypt, tensors: [] }), /0 ciphertexts/);
    expectInvalid(() => decodeCkksRequest({ ...decrypt, round: 0 }), /round must be at least 1/);
  });

  it('rejects malformed replies with a ValidationError naming the participant and the field', () => {
    const hello = wire(encodeCkksReply(JOB, 0, { step: 'ckks-hello-result', from: 'participant', to: 'coordinator', payload: { agreementKey: bytes(33, 1) } }));
    expectInvalid(() => decodeCkksReply(hello, 'p7'), /agreement key has 33 bytes/, 'p7');
    const values = wire(encodeCkksReply(JOB, 3, replies[5] as CkksReply));
    expectInvalid(() => decodeCkksReply({ ...values, header: { round: 3, length: 6 } }, 'p7'), /values: 40 bytes, expected 48/, 'p7');
    const collect = wire(encodeCkksReply(JOB, 3, replies[4] as CkksReply));
    const h = collect.header as Record<string, unknown>;
    expectInvalid(() => decodeCkksReply({ ...collect, header: { ...h, trainMs: -1 } }, 'p7'), /trainMs/, 'p7');
    expectInvalid(() => decodeCkksReply({ ...collect, header: { ...h, evaluation: { round: 3, summary: { n: 1 } } } }, 'p7'), /evaluation summary/, 'p7');
    expectInvalid(() => decodeCkksReply({ ...collect, tensors: [...collect.tensors, { name: 'params', shape: [1], data: bytes(1, 0) }] }, 'p7'), /tensor 1 is "params"/, 'p7');
    const keygen = wire(encodeCkksReply(JOB, 0, replies[1] as CkksReply));
    expectInvalid(() => decodeCkksReply({ ...keygen, header: { recipients: ['p2'] } }, 'p7'), /expected 2 tensors, got 3/, 'p7');
    const error = wire(encodeCkksReply(JOB, 0, replies[6] as CkksReply));
    expectInvalid(() => decodeCkksReply({ ...error, header: { message: 'x' } }, 'p7'), /needsKey/, 'p7');
    expectInvalid(() => decodeCkksReply({ ...error, kind: 'ckks.surprise' }, 'p7'), /unknown CKKS reply kind/, 'p7');
  });

  it('a participant-sent error code is not trusted: it arrives as PARTICIPANT', () => {
    const error = wire(encodeCkksReply(JOB, 0, { step: 'ckks-error', from: 'participant', to: 'coordinator', payload: { code: 'ROUND', message: 'm', needsKey: false } }));
    const decoded = decodeCkksReply(error, 'p1');
    assert.equal(decoded.step === 'ckks-error' ? decoded.payload.code : undefined, 'PARTICIPANT');
  });

  it('a diverged local loss (NaN, sent as null) is reported, not refused', () => {
    const reply: CkksReply = { step: 'ckks-collect-result', from: 'participant', to: 'coordinator', payload: { round: 1, ciphertexts: [bytes(10, 1)], meta: { loss: NaN, trainMs: 1 } } };
    const decoded = decodeCkksReply(wire(encodeCkksReply(JOB, 1, reply)), 'p1');
    assert.ok(decoded.step === 'ckks-collect-result' && Number.isNaN(decoded.payload.meta.loss));
  });
});
