import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getRandomValues } from 'node:crypto';
import { ValidationError } from '../../../core/errors.js';
import { generateX25519 } from '../../../crypto/key-agreement.js';
import { decodeBody, PsiChannel, SEALED_STEP_ROUTE, type PsiPair, type PsiSealedMessage } from './protocol.js';

const PAIR: PsiPair = { jobId: 'j1', labelHolderId: 'C', featureHolderId: 'B' };

function channels(pair: PsiPair = PAIR): { label: PsiChannel; feature: PsiChannel } {
  const l = generateX25519();
  const f = generateX25519();
  return { label: PsiChannel.fromHello(l.privateKey, f.publicKey, pair, 'label-holder'), feature: PsiChannel.fromHello(f.privateKey, l.publicKey, pair, 'feature-holder') };
}

const SAMPLES: readonly PsiSealedMessage[] = [
  { step: 'psi-blinded', from: 'label-holder', to: 'feature-holder', payload: { stage: 0, batch: 3, last: false, total: 2, elements: getRandomValues(new Uint8Array(64)) } },
  { step: 'psi-double-blinded', from: 'feature-holder', to: 'label-holder', payload: { stage: 1, batch: 0, fingerprints: getRandomValues(new Uint8Array(48)) } },
  { step: 'psi-shuffled', from: 'feature-holder', to: 'label-holder', payload: { stage: 0, batch: 2, last: true, total: 9, fingerprints: getRandomValues(new Uint8Array(16)) } },
  { step: 'psi-peer-blinded', from: 'feature-holder', to: 'label-holder', payload: { stage: 2, batch: 7, last: true, total: 0, elements: new Uint8Array(0) } },
  { step: 'psi-peer-ack', from: 'label-holder', to: 'feature-holder', payload: { stage: 0, batch: 5 } },
  { step: 'psi-stage-result', from: 'label-holder', to: 'feature-holder', payload: { stage: 0, count: 3, positions: Uint32Array.from([7, 0, 4294967295]) } },
  { step: 'psi-stage-result', from: 'label-holder', to: 'feature-holder', payload: { stage: 1, positions: new Uint32Array(0) } },
];

test('every sealed message survives seal and open unchanged, in both directions', () => {
  const { label, feature } = channels();
  for (const msg of SAMPLES) {
    const [sender, receiver] = msg.from === 'label-holder' ? [label, feature] : [feature, label];
    assert.deepEqual(receiver.open(sender.seal(msg)), msg, msg.step);
  }
});

test('the route table names each step\'s sender and receiver, and sealing checks the sender', () => {
  const { label } = channels();
  for (const msg of SAMPLES) assert.deepEqual(SEALED_STEP_ROUTE[msg.step], [msg.from, msg.to]);
  const fromFeature = SAMPLES[1] as PsiSealedMessage;
  assert.throws(() => label.seal(fromFeature), ValidationError);
});

test('open refuses a gap in sequence numbers, a replay and a flipped bit', () => {
  const { label, feature } = channels();
  const a = label.seal(SAMPLES[0] as PsiSealedMessage);
  const b = label.seal(SAMPLES[4] as PsiSealedMessage);
  assert.throws(() => feature.open(b), /sequence number 1, expected 0/);
  feature.open(a);
  assert.throws(() => feature.open(a), /sequence number 0, expected 1/);
  const flipped = b.payload.sealed.slice();
  flipped[15] = (flipped[15] as number) ^ 0x40;
  assert.throws(() => feature.open({ ...b, payload: { ...b.payload, sealed: flipped } }), /authentication/);
});

test('the same key pairs in another job give a channel whose messages do not open here', () => {
  const l = generateX25519();
  const f = generateX25519();
  const here = PsiChannel.fromHello(f.privateKey, l.publicKey, PAIR, 'feature-holder');
  const otherJob = PsiChannel.fromHello(l.privateKey, f.publicKey, { ...PAIR, jobId: 'j2' }, 'label-holder');
  const sameJob = PsiChannel.fromHello(l.privateKey, f.publicKey, PAIR, 'label-holder');
  assert.throws(() => here.open(otherJob.seal(SAMPLES[0] as PsiSealedMessage)), /authentication/);
  assert.deepEqual(here.open(sameJob.seal(SAMPLES[0] as PsiSealedMessage)), SAMPLES[0]);
});

test('a message relabelled with another step or direction fails to open', () => {
  const { label, feature } = channels();
  const env = label.seal(SAMPLES[0] as PsiSealedMessage);
  assert.throws(() => feature.open({ ...env, step: 'psi-peer-ack' }), /authentication/);
  assert.throws(() => label.open(env), /not a message the label-holder accepts/);
  assert.throws(() => feature.open({ ...env, from: 'feature-holder', to: 'label-holder' }), ValidationError);
});

function body(header: unknown, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const json = Buffer.from(JSON.stringify(header));
  const out = new Uint8Array(4 + json.length + data.length);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 4);
  out.set(data, 4 + json.length);
  return out;
}

test('decodeBody refuses malformed bodies, naming the sending role', () => {
  const bad: [Parameters<typeof decodeBody>[0], Uint8Array, RegExp][] = [
    ['psi-blinded', new Uint8Array(2), /too short/],
    ['psi-blinded', Uint8Array.from([200, 0, 0, 0, 1]), /exceeds/],
    ['psi-blinded', (() => { const b = body({}); b.set(Buffer.from('{x'), 4); return b; })(), /not JSON|header/],
    ['psi-blinded', body([1]), /not an object/],
    ['psi-blinded', body({ stage: 0, batch: 0, last: false, total: 1 }, new Uint8Array(31)), /whole number of 32-byte rows/],
    ['psi-blinded', body({ stage: -1, batch: 0, last: false, total: 0 }), /stage/],
    ['psi-blinded', body({ stage: 0, batch: 0, last: 'no', total: 0 }), /last/],
    ['psi-double-blinded', body({ stage: 0, batch: 0 }, new Uint8Array(17)), /16-byte rows/],
    ['psi-peer-ack', body({ stage: 0, batch: 0 }, new Uint8Array(1)), /unexpected data/],
    ['psi-stage-result', body({ stage: 0 }, new Uint8Array(5)), /4-byte rows/],
    ['psi-stage-result', body({ stage: 0, count: 1.5 }), /count/],
  ];
  for (const [step, bytes, message] of bad) {
    assert.throws(() => decodeBody(step, bytes), (e: unknown) => e instanceof ValidationError && message.test(e.message) && e.participant === SEALED_STEP_ROUTE[step][0], `${step} ${message}`);
  }
});
