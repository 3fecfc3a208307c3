import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createCkks, DEFAULT_CKKS_PARAMS } from '../../crypto/ckks.js';
import { generateX25519 } from '../../crypto/key-agreement.js';
import type { HorizontalReply, TrainRequest } from '../horizontal/protocol.js';
import { CkksClient, ckksKeyId, openSecretKey, sealSecretKey } from './client.js';
import type { CkksReply, CkksRequest, SealedSecretKey } from './protocol.js';

const JOB = 'job-7';
const params = DEFAULT_CKKS_PARAMS;
const down = { from: 'coordinator', to: 'participant' } as const;

function noTrain(): Promise<HorizontalReply> {
  return Promise.reject(new Error('not expected to train'));
}

function expectStep<S extends CkksReply['step']>(reply: CkksReply, step: S): Extract<CkksReply, { step: S }> {
  if (reply.step !== step) assert.fail(`expected ${step}, got ${reply.step}: ${JSON.stringify(reply.payload)}`);
  return reply as Extract<CkksReply, { step: S }>;
}

async function hello(client: CkksClient): Promise<Uint8Array> {
  return expectStep(await client.handle(JOB, { step: 'ckks-hello', ...down, payload: { params } }, noTrain), 'ckks-hello-result').payload.agreementKey;
}

/** A leader and peers holding one job key, as the coordinator's key setup leaves them. */
async function keyedGroup(ids: readonly string[], options: { minInputs?: number } = {}) {
  const clients = new Map(ids.map((id) => [id, new CkksClient(id, options)]));
  const agreement = new Map<string, Uint8Array>();
  for (const [id, c] of clients) agreement.set(id, await hello(c));
  const [leader, ...peers] = ids as [string, ...string[]];
  const keygen = expectStep(
    await (clients.get(leader) as CkksClient).handle(
      JOB,
      { step: 'ckks-keygen', ...down, payload: { params, peers: peers.map((participantId) => ({ participantId, publicKey: agreement.get(participantId) as Uint8Array })) } },
      noTrain,
    ),
    'ckks-keygen-result',
  );
  const sealed = new Map(keygen.payload.sealed.map((s: SealedSecretKey) => [s.participantId, s.sealed]));
  const install = (id: string, sealedSecretKey: Uint8Array, publicKey = keygen.payload.publicKey): CkksRequest => ({
    step: 'ckks-install',
    ...down,
    payload: { params, sealer: leader, sealerKey: agreement.get(leader) as Uint8Array, publicKey, sealedSecretKey },
  });
  for (const id of peers) expectStep(await (clients.get(id) as CkksClient).handle(JOB, install(id, sealed.get(id) as Uint8Array), noTrain), 'ckks-install-result');
  return { clients, agreement, leader, publicKey: keygen.payload.publicKey, keyId: ckksKeyId(keygen.payload.publicKey), sealed, install };
}

function collect(keyId: string, global: Float32Array, maxInputs = 1000): CkksRequest {
  return {
    step: 'ckks-collect',
    ...down,
    payload: { train: { round: 1, params: global, instructions: { epochs: 1, batchSize: 4, learningRate: 0.1 } }, weighting: 'examples', maxInputs, keyId },
  };
}

function trainTo(params: Float32Array, numExamples: number): (req: TrainRequest) => Promise<HorizontalReply> {
  return (req) => Promise.resolve({ step: 'train-result', from: 'participant', to: 'coordinator', payload: { round: req.payload.round, params, numExamples, loss: 0.5, trainMs: 1 } });
}

describe('ckks client', () => {
  it('the sealed secret key opens for its recipient only: a third party or the relaying coordinator cannot open it', async () => {
    // Prepare
    const group = await keyedGroup(['lead', 'peer']);
    const sealed = group.sealed.get('peer') as Uint8Array;
    const leaderKey = { participantId: 'lead', publicKey: group.agreement.get('lead') as Uint8Array };
    const outsider = generateX25519();
    // Execute / Assert: the outsider, with its own key, under the peer's name or its own.
    for (const id of ['peer', 'outsider']) {
      assert.throws(() => openSecretKey(JOB, { id, keys: outsider }, leaderKey, sealed, group.keyId), /failed authentication/);
    }
    // Control: sealing and opening with the right key pair round-trips the bytes.
    const peerKeys = generateX25519();
    const secret = Uint8Array.from([1, 2, 3, 4]);
    const box = sealSecretKey(JOB, { id: 'lead', keys: outsider }, { participantId: 'peer', publicKey: peerKeys.publicKey }, secret, group.keyId);
    assert.deepEqual(openSecretKey(JOB, { id: 'peer', keys: peerKeys }, { participantId: 'lead', publicKey: outsider.publicKey }, box, group.keyId), secret);
    assert.throws(() => openSecretKey('other-job', { id: 'peer', keys: peerKeys }, { participantId: 'lead', publicKey: outsider.publicKey }, box, group.keyId));
  });

  it('install refuses a key sealed for another participant, a swapped public key, and a secret key that does not match the public key', async () => {
    const group = await keyedGroup(['lead', 'p2', 'p3']);
    const p3 = group.clients.get('p3') as CkksClient;
    // Sealed for p2, offered to p3.
    const wrongRecipient = await p3.handle(JOB, group.install('p3', group.sealed.get('p2') as Uint8Array), noTrain);
    assert.match(expectStep(wrongRecipient, 'ckks-error').payload.message, /failed authentication/);
    // The right sealed key with another public key: the key id is bound to the sealing.
    const other = await createCkks();
    other.generateKeys();
    const swapped = await p3.handle(JOB, group.install('p3', group.sealed.get('p3') as Uint8Array, other.savePublicKey()), noTrain);
    assert.match(expectStep(swapped, 'ckks-error').payload.message, /failed authentication/);
    // A correctly sealed secret key of another key pair.
    const p3Agreement = generateX25519();
    const p4 = new CkksClient('p4');
    const p4Key = await hello(p4);
    const foreignSecret = other.saveSecretKey();
    const box = sealSecretKey(JOB, { id: 'lead', keys: p3Agreement }, { participantId: 'p4', publicKey: p4Key }, foreignSecret, group.keyId);
    const mismatch = await p4.handle(
      JOB,
      { step: 'ckks-install', ...down, payload: { params, sealer: 'lead', sealerKey: p3Agreement.publicKey, publicKey: group.publicKey, sealedSecretKey: box } },
      noTrain,
    );
    assert.match(expectStep(mismatch, 'ckks-error').payload.message, /does not match the public key/);
    other.dispose();
  });

  it('a decryptor refuses too few contributors, a count slot that disagrees with the list, and a second subset for the same round', async () => {
    // Prepare: three key holders each encrypt an input; the decryptor requires 2 contributors.
    const group = await keyedGroup(['p1', 'p2', 'p3'], { minInputs: 2 });
    const global = new Float32Array(10);
    const inputs: Uint8Array[][] = [];
    for (const [k, id] of ['p1', 'p2', 'p3'].entries()) {
      const reply = await (group.clients.get(id) as CkksClient).handle(JOB, collect(group.keyId, global), trainTo(new Float32Array(10).fill(k + 1), 1));
      inputs.push([...expectStep(reply, 'ckks-collect-result').payload.ciphertexts]);
    }
    const he = await createCkks();
    const decryptor = group.clients.get('p1') as CkksClient;
    const decrypt = (contributors: string[], ciphertexts: readonly Uint8Array[], round = 1): Promise<CkksReply> =>
      decryptor.handle(JOB, { step: 'ckks-decrypt', ...down, payload: { round, keyId: group.keyId, contributors, length: 12, ciphertexts } }, noTrain);
    // Execute / Assert
    assert.match(expectStep(await decrypt(['p2'], inputs[1] as Uint8Array[]), 'ckks-error').payload.message, /at least 2/);
    assert.match(expectStep(await decrypt(['p2', 'p3'], inputs[1] as Uint8Array[]), 'ckks-error').payload.message, /count slot/);
    const pair = he.sum([inputs[0] as Uint8Array[], inputs[1] as Uint8Array[]]);
    const ok = expectStep(await decrypt(['p1', 'p2'], pair), 'ckks-decrypt-result');
    assert.ok(Math.abs((ok.payload.values[2] as number) - 3) < 1e-9, 'w·delta of p1 + p2 = 1 + 2');
    expectStep(await decrypt(['p1', 'p2'], pair), 'ckks-decrypt-result');
    const other = he.sum([inputs[0] as Uint8Array[], inputs[2] as Uint8Array[]]);
    assert.match(expectStep(await decrypt(['p1', 'p3'], other), 'ckks-error').payload.message, /already decrypted for another set/);
    expectStep(await decrypt(['p1', 'p3'], other, 2), 'ckks-decrypt-result');
    he.dispose();
  });

  it('without the job key, or with another key, requests come back as errors asking for the key; a step before hello does not', async () => {
    const client = new CkksClient('solo');
    const noKey = expectStep(await client.handle(JOB, collect('00'.repeat(32), new Float32Array(3)), noTrain), 'ckks-error');
    assert.equal(noKey.payload.needsKey, true);
    const beforeHello = expectStep(await client.handle(JOB, { step: 'ckks-keygen', ...down, payload: { params, peers: [] } }, noTrain), 'ckks-error');
    assert.equal(beforeHello.payload.needsKey, false);
    assert.match(beforeHello.payload.message, /before ckks-hello/);
    const group = await keyedGroup(['p1', 'p2']);
    const otherKey = expectStep(await (group.clients.get('p2') as CkksClient).handle(JOB, collect('00'.repeat(32), new Float32Array(3)), noTrain), 'ckks-error');
    assert.equal(otherKey.payload.needsKey, true);
  });

  it("collect passes training's own error back, and never throws when training does", async () => {
    const group = await keyedGroup(['p1', 'p2']);
    const p1 = group.clients.get('p1') as CkksClient;
    const failing = (): Promise<HorizontalReply> => Promise.resolve({ step: 'error', from: 'participant', to: 'coordinator', payload: { code: 'DATA', message: 'no rows' } });
    const reply = expectStep(await p1.handle(JOB, collect(group.keyId, new Float32Array(3)), failing), 'ckks-error');
    assert.deepEqual(reply.payload, { code: 'DATA', message: 'no rows', needsKey: false });
    const throwing = (): Promise<HorizontalReply> => Promise.reject(new Error('boom'));
    assert.match(expectStep(await p1.handle(JOB, collect(group.keyId, new Float32Array(3)), throwing), 'ckks-error').payload.message, /boom/);
  });

  it('collect refuses an update beyond its share of the headroom, without revealing the value', async () => {
    const group = await keyedGroup(['p1', 'p2']);
    const p1 = group.clients.get('p1') as CkksClient;
    const huge = Float32Array.from([0, 3.0000001e30, 0]);
    const reply = expectStep(await p1.handle(JOB, collect(group.keyId, new Float32Array(3)), trainTo(huge, 1)), 'ckks-error');
    assert.match(reply.payload.message, /vector\[3\] is not finite or exceeds/);
    assert.doesNotMatch(reply.payload.message, /3\.0000/);
    const wrongSize = expectStep(await p1.handle(JOB, collect(group.keyId, new Float32Array(4)), trainTo(huge, 1)), 'ckks-error');
    assert.match(wrongSize.payload.message, /3 parameters, the global model 4/);
  });
});
