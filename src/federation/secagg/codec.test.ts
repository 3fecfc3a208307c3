import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationError } from '../../core/errors.js';
import { summarize } from '../../core/metrics.js';
import type { EnvelopeBody } from '../../transport/channel.js';
import { decodeEnvelope, encodeEnvelope, type Envelope } from '../../transport/envelope.js';
import { decodeReply, decodeRequest, encodeReply, encodeRequest, isSecAggKind } from './codec.js';
import { SEALED_SHARES_BYTES, SHARE_BYTES, type SecAggReply, type SecAggRequest } from './protocol.js';

function wire(body: EnvelopeBody, sender: string, receiver: string): Envelope {
  return decodeEnvelope(encodeEnvelope({ ...body, correlationId: 'c1', sender, receiver }));
}
const bytes = (n: number, fill: number): Uint8Array => new Uint8Array(n).fill(fill);
const from = 'coordinator' as const;
const to = 'participant' as const;

test('every request survives the binary wire unchanged: ids in the header, keys and sealed shares as u8 rows, the model as f32', () => {
  const train = { round: 5, params: Float32Array.from([0.5, -1.25, 3]), instructions: { epochs: 2, batchSize: 16, learningRate: 0.05 }, evaluate: true };
  const reqs: SecAggRequest[] = [
    { step: 'secagg-setup', from, to, payload: { round: 5, config: { threshold: 3, neighbours: ['a', 'b', 'c', 'd'], clipRange: 8, quantizationBits: 22, weighting: 'examples', maxWeight: 1000 } } },
    { step: 'secagg-share-keys', from, to, payload: { round: 5, keys: [{ participantId: 'a', cPk: bytes(32, 1), sPk: bytes(32, 2) }, { participantId: 'b', cPk: bytes(32, 3), sPk: bytes(32, 4) }] } },
    { step: 'secagg-share-keys', from, to, payload: { round: 5, keys: [] } },
    { step: 'secagg-collect', from, to, payload: { round: 5, train, shares: [{ from: 'a', ciphertext: bytes(SEALED_SHARES_BYTES, 9) }] } },
    { step: 'secagg-unmask', from, to, payload: { round: 5, survivors: ['a', 'p'], dropped: ['b'] } },
  ];
  for (const r of reqs) {
    const body = encodeRequest('job', r);
    assert.ok(isSecAggKind(body.kind), body.kind);
    assert.deepEqual(decodeRequest(wire(body, 'coordinator', 'p')), r, r.step);
  }
});

test('every reply survives the binary wire unchanged, the masked input as u32 and the evaluation summary as in the horizontal protocol', () => {
  const summary = summarize(Float32Array.from([0.1, 0.9, 0.8, 0.3]), Float32Array.from([0, 1, 1, 0]), 4, 2);
  const replies: SecAggReply[] = [
    { step: 'secagg-setup-result', from: to, to: from, payload: { round: 2, cPk: bytes(32, 5), sPk: bytes(32, 6) } },
    { step: 'secagg-share-keys-result', from: to, to: from, payload: { round: 2, shares: [{ to: 'b', ciphertext: bytes(SEALED_SHARES_BYTES, 7) }] } },
    { step: 'secagg-collect-result', from: to, to: from, payload: { round: 2, masked: Uint32Array.from([1, 0xffffffff, 7]), meta: { loss: 0.5, trainMs: 3, summary } } },
    { step: 'secagg-collect-result', from: to, to: from, payload: { round: 2, masked: Uint32Array.from([1, 2]), meta: { loss: 0.5, trainMs: 3 } } },
    { step: 'secagg-unmask-result', from: to, to: from, payload: { round: 2, bShares: [{ owner: 'a', share: bytes(SHARE_BYTES, 1) }, { owner: 'p', share: bytes(SHARE_BYTES, 2) }], sShares: [] } },
    { step: 'secagg-error', from: to, to: from, payload: { code: 'PARTICIPANT', message: 'refused' } },
  ];
  for (const r of replies) assert.deepEqual(decodeReply(wire(encodeReply('job', 2, r), 'p', 'coordinator'), 'p', r.step === 'secagg-collect-result' ? { maskedLength: r.payload.masked.length } : {}), r, r.step);
  const nan = decodeReply(wire(encodeReply('job', 2, { step: 'secagg-collect-result', from: to, to: from, payload: { round: 2, masked: Uint32Array.from([1, 2]), meta: { loss: NaN, trainMs: 1 } } }), 'p', 'coordinator'), 'p');
  assert.ok(nan.step === 'secagg-collect-result' && Number.isNaN(nan.payload.meta.loss), 'a NaN loss arrives as NaN');
});

test('malformed replies are refused with a ValidationError naming the participant and the field', () => {
  const base = { correlationId: 'c', sender: 'p7', receiver: 'coordinator', jobId: 'j', round: 1 };
  const cases: { env: Envelope; field: RegExp; expected?: number }[] = [
    { env: { ...base, kind: 'secagg.setup-result', header: {}, tensors: [{ name: 'cPk', shape: [31], data: bytes(31, 1) }, { name: 'sPk', shape: [32], data: bytes(32, 1) }] }, field: /cPk: expected 32 bytes/ },
    { env: { ...base, kind: 'secagg.setup-result', header: {}, tensors: [{ name: 'cPk', shape: [32], data: bytes(32, 1) }] }, field: /expected tensors \[cPk, sPk\]/ },
    { env: { ...base, kind: 'secagg.setup-result', header: {}, tensors: [{ name: 'cPk', shape: [8], data: new Uint32Array(8) }, { name: 'sPk', shape: [32], data: bytes(32, 1) }] }, field: /cPk: expected u8 data/ },
    { env: { ...base, kind: 'secagg.share-keys-result', header: { to: ['a', 'b'] }, tensors: [{ name: 'ciphertexts', shape: [1, SEALED_SHARES_BYTES], data: bytes(SEALED_SHARES_BYTES, 1) }] }, field: /ciphertexts: expected shape \[2, 160\]/ },
    { env: { ...base, kind: 'secagg.share-keys-result', header: { to: ['a', 'a'] }, tensors: [{ name: 'ciphertexts', shape: [2, SEALED_SHARES_BYTES], data: bytes(2 * SEALED_SHARES_BYTES, 1) }] }, field: /to: "a" appears twice/ },
    { env: { ...base, kind: 'secagg.share-keys-result', header: { to: [3] }, tensors: [{ name: 'ciphertexts', shape: [1, SEALED_SHARES_BYTES], data: bytes(SEALED_SHARES_BYTES, 1) }] }, field: /\.to: expected an array of strings/ },
    { env: { ...base, kind: 'secagg.collect-result', header: { loss: 1, trainMs: 1 }, tensors: [{ name: 'masked', shape: [3], data: new Float32Array(3) }] }, field: /masked: expected u32 data/ },
    { env: { ...base, kind: 'secagg.collect-result', header: { loss: 1, trainMs: 1 }, tensors: [{ name: 'masked', shape: [3], data: new Uint32Array(3) }] }, field: /masked: expected 5 elements/, expected: 5 },
    { env: { ...base, kind: 'secagg.collect-result', header: { loss: 1, trainMs: -1 }, tensors: [{ name: 'masked', shape: [3], data: new Uint32Array(3) }] }, field: /trainMs/ },
    { env: { ...base, kind: 'secagg.collect-result', header: { loss: 1, trainMs: 1, summary: { n: 'many' } }, tensors: [{ name: 'masked', shape: [3], data: new Uint32Array(3) }] }, field: /summary|n/ },
    { env: { ...base, kind: 'secagg.unmask-result', header: { bOwners: ['a'], sOwners: [] }, tensors: [{ name: 'bShares', shape: [1, 65], data: bytes(65, 1) }, { name: 'sShares', shape: [0, SHARE_BYTES], data: new Uint8Array(0) }] }, field: /bShares: expected shape \[1, 66\]/ },
    { env: { ...base, kind: 'secagg.unmask-result', header: { bOwners: [''], sOwners: [] }, tensors: [{ name: 'bShares', shape: [1, SHARE_BYTES], data: bytes(SHARE_BYTES, 1) }, { name: 'sShares', shape: [0, SHARE_BYTES], data: new Uint8Array(0) }] }, field: /bOwners: ids must not be empty/ },
    { env: { ...base, kind: 'secagg.error', header: {}, tensors: [] }, field: /message: expected a string/ },
    { env: { ...base, kind: 'secagg.setup-result', header: null, tensors: [] }, field: /header: expected an object/ },
    { env: { ...base, kind: 'secagg.bogus', header: {}, tensors: [] }, field: /unknown SecAgg\+ reply kind/ },
  ];
  for (const c of cases) {
    assert.throws(
      () => decodeReply(c.env, 'p7', c.expected !== undefined ? { maskedLength: c.expected } : {}),
      (err: unknown) => err instanceof ValidationError && err.participant === 'p7' && c.field.test(err.message),
      `${c.env.kind}: ${c.field.source}`,
    );
  }
});

test('malformed requests are refused before the participant acts on them', () => {
  const base = { correlationId: 'c', sender: 'coordinator', receiver: 'p1', jobId: 'j', round: 1 };
  const config = { threshold: 2, neighbours: ['a'], clipRange: 1, quantizationBits: 16, weighting: 'examples', maxWeight: 10 };
  const cases: { env: Envelope; field: RegExp }[] = [
    { env: { ...base, kind: 'secagg.setup', header: { config: { ...config, weighting: 'loss' } }, tensors: [] }, field: /weighting/ },
    { env: { ...base, kind: 'secagg.setup', header: { config: { ...config, quantizationBits: 40 } }, tensors: [] }, field: /quantizationBits/ },
    { env: { ...base, kind: 'secagg.setup', header: { config: { ...config, neighbours: ['a', 'a'] } }, tensors: [] }, field: /neighbours: "a" appears twice/ },
    { env: { ...base, kind: 'secagg.share-keys', header: { neighbours: ['a'] }, tensors: [{ name: 'cPk', shape: [1, 32], data: bytes(32, 1) }, { name: 'sPk', shape: [1, 16], data: bytes(16, 1) }] }, field: /sPk: expected shape \[1, 32\]/ },
    { env: { ...base, kind: 'secagg.collect', header: { train: { instructions: { epochs: 0, batchSize: 1, learningRate: 1 } }, from: [] }, tensors: [{ name: 'params', shape: [1], data: new Float32Array(1) }, { name: 'ciphertexts', shape: [0, SEALED_SHARES_BYTES], data: new Uint8Array(0) }] }, field: /epochs/ },
    { env: { ...base, kind: 'secagg.collect', header: { train: { instructions: { epochs: 1, batchSize: 1, learningRate: 1 } }, from: ['a'] }, tensors: [{ name: 'params', shape: [1], data: new Float32Array(1) }, { name: 'ciphertexts', shape: [1, 100], data: bytes(100, 1) }] }, field: /ciphertexts: expected shape \[1, 160\]/ },
    { env: { ...base, kind: 'secagg.unmask', header: { survivors: 'all', dropped: [] }, tensors: [] }, field: /survivors: expected an array of strings/ },
    { env: { ...base, kind: 'secagg.unmask', header: { survivors: [], dropped: [] }, tensors: [{ name: 'x', shape: [1], data: bytes(1, 0) }] }, field: /expected tensors \[\]/ },
    { env: { ...base, kind: 'secagg.train', header: {}, tensors: [] }, field: /unknown SecAgg\+ request kind/ },
  ];
  for (const c of cases) assert.throws(() => decodeRequest(c.env), (err: unknown) => err instanceof ValidationError && c.field.test(err.message), c.field.source);
});
