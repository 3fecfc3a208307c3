import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationError } from '../../../core/errors.js';
import { decodeEnvelope, encodeEnvelope } from '../../../transport/envelope.js';
import type { Envelope } from '../../../transport/channel.js';
import { decodePsiEnvelope, encodePsiEnvelope, isPsiKind, psiKind } from './codec.js';
import type { PsiRelayed } from './protocol.js';

const MESSAGES: readonly PsiRelayed[] = [
  { step: 'psi-hello', from: 'label-holder', to: 'feature-holder', payload: { version: 1, publicKey: new Uint8Array(32).fill(7), paramsDigest: 'ab'.repeat(32) } },
  { step: 'psi-error', from: 'feature-holder', to: 'label-holder', payload: { code: 'CONFIG', message: 'salt differs' } },
  { step: 'psi-blinded', from: 'label-holder', to: 'feature-holder', payload: { seq: 4, sealed: new Uint8Array(60).fill(1) } },
  { step: 'psi-stage-result', from: 'label-holder', to: 'feature-holder', payload: { seq: 0, sealed: new Uint8Array(28) } },
];

function asReceived(msg: PsiRelayed, sender = 'platform-a'): Envelope {
  // Through the real binary codec, as the transport would carry it.
  const e: Envelope = { ...encodePsiEnvelope('job-1', msg), correlationId: 'c', sender, receiver: 'coordinator' };
  return decodeEnvelope(encodeEnvelope(e));
}

test('every relayed message survives the transport envelope codec unchanged', () => {
  for (const msg of MESSAGES) assert.deepEqual(decodePsiEnvelope(asReceived(msg)), msg, msg.step);
});

test('kinds are psi.<step>, and only they are recognised', () => {
  assert.equal(psiKind('psi-peer-blinded'), 'psi.peer-blinded');
  assert.equal(isPsiKind('psi.hello'), true);
  assert.equal(isPsiKind('secagg.setup'), false);
});

test('decoding refuses malformed envelopes, naming the sender', () => {
  const good = asReceived(MESSAGES[2] as PsiRelayed, 'library');
  const hello = asReceived(MESSAGES[0] as PsiRelayed, 'library');
  const cases: [Envelope, RegExp][] = [
    [{ ...good, kind: 'secagg.setup' }, /not a PSI message/],
    [{ ...good, kind: 'psi.unknown' }, /unknown PSI step/],
    [{ ...good, header: null }, /header is not an object/],
    [{ ...good, header: { from: 'label-holder', to: 'label-holder', seq: 0 } }, /both label-holder/],
    [{ ...good, header: { from: 'arbiter', to: 'label-holder', seq: 0 } }, /from/],
    [{ ...good, header: { from: 'label-holder', to: 'feature-holder', seq: -1 } }, /seq/],
    [{ ...good, tensors: [] }, /exactly one tensor "sealed"/],
    [{ ...good, tensors: [{ name: 'sealed', shape: [3], data: new Uint8Array(3) }] }, /too short/],
    [{ ...good, tensors: [{ name: 'sealed', shape: [40], data: new Float32Array(40) }] }, /u8/],
    [{ ...hello, tensors: [{ name: 'publicKey', shape: [31], data: new Uint8Array(31) }] }, /32 bytes/],
    [{ ...hello, header: { from: 'label-holder', to: 'feature-holder', version: 1, paramsDigest: 'xyz' } }, /paramsDigest/],
    [{ ...good, kind: 'psi.error', tensors: [], header: { from: 'label-holder', to: 'feature-holder', code: 'OOPS', message: 'x' } }, /error code/],
  ];
  for (const [e, message] of cases) {
    assert.throws(() => decodePsiEnvelope(e), (err: unknown) => err instanceof ValidationError && err.participant === 'library' && message.test(err.message), String(message));
  }
});
