import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EduFedError, ValidationError } from '../../core/errors.js';
import { Arbiter } from './arbiter.js';
import { FeatureHolder } from './feature-holder.js';
import { LabelHolder } from './label-holder.js';
import { freshAgreementKey } from './peer-channel.js';
import type { VerticalMessage } from './protocol.js';
import { simulateVertical } from './simulate-vertical.js';
import { syntheticVertical } from './synthetic-scenario.js';
import { verticalTrainConfig } from './train-config.js';

const split = syntheticVertical({ n: 200, seed: 4 });
const config = verticalTrainConfig({ jobId: 'roles', mode: 'secure-lr', epochs: 1, batchSize: 16 });

test('a sealed payload altered in transit fails authentication at its receiver, and the job fails naming that party', async () => {
  // Prepare: flip one byte of the first gradient-shares payload on its way.
  let tampered = false;
  const onMessage = (m: VerticalMessage): void => {
    if (!tampered && m.step === 'gradient-shares' && m.to.id === 'B') {
      m.payload.sealed[20] = (m.payload.sealed[20] ?? 0) ^ 1;
      tampered = true;
    }
  };
  // Execute / Assert
  await assert.rejects(
    simulateVertical(split.platforms, { idColumn: 'learner_id', config, onMessage, compare: false }),
    (e: unknown) => e instanceof EduFedError && e.code === 'PARTICIPANT' && /party "B"/.test(e.message) && /authentication/.test(e.message),
  );
  assert.ok(tampered);
});

test('the arbiter refuses to relay a message whose sender claims a role it does not have (a feature holder posing as the label holder)', async () => {
  // Prepare
  const sent: VerticalMessage[] = [];
  const arbiter = new Arbiter(config, [{ id: 'C', role: 'label-holder' }, { id: 'A', role: 'feature-holder' }, { id: 'B', role: 'feature-holder' }], { send: (m) => sent.push(m) });
  // Execute
  arbiter.receive({ step: 'residual', from: { role: 'label-holder', id: 'A' }, to: { role: 'feature-holder', id: 'B' }, payload: { jobId: 'roles', epoch: 1, batch: 0, residual: new Float64Array(1) } });
  // Assert
  await assert.rejects(arbiter.train({ n: 1, nTrain: 1, rows: new Map([['C', Int32Array.of(0)], ['A', Int32Array.of(0)], ['B', Int32Array.of(0)]]) }), ValidationError);
  assert.ok(sent.every((m) => m.step !== 'residual'), 'the message was relayed');
});

test('an arbiter needs exactly one label holder and at least one feature holder', () => {
  const send = (): void => undefined;
  assert.throws(() => new Arbiter(config, [{ id: 'A', role: 'feature-holder' }], { send }), /exactly one label holder/);
  assert.throws(() => new Arbiter(config, [{ id: 'C', role: 'label-holder' }], { send }), /at least one feature holder/);
  assert.throws(() => new Arbiter(config, [{ id: 'C', role: 'label-holder' }, { id: 'C', role: 'feature-holder' }], { send }), ValidationError);
});

test('a party answers a message meant for someone else with an error value instead of throwing', () => {
  const sent: VerticalMessage[] = [];
  const c = split.platforms.find((p) => p.id === 'C');
  assert.ok(c !== undefined);
  const holder = new LabelHolder('C', c.raw, c.schema, 'learner_id', (m) => sent.push(m));
  holder.receive({ step: 'hello', from: { role: 'arbiter', id: 'arbiter' }, to: { role: 'label-holder', id: 'X' }, payload: { jobId: 'roles' } });
  assert.equal(sent[0]?.step, 'error');
  assert.match(sent[0]?.step === 'error' ? sent[0].payload.error.message : '', /addressed to label-holder "X"/);
});

test('a party that never answers fails the job after timeoutMs, naming the party and the step', async () => {
  const arbiter = new Arbiter(config, [{ id: 'C', role: 'label-holder' }, { id: 'A', role: 'feature-holder' }], { send: () => undefined, timeoutMs: 30 });
  await assert.rejects(
    arbiter.train({ n: 1, nTrain: 1, rows: new Map([['C', Int32Array.of(0)], ['A', Int32Array.of(0)]]) }),
    (e: unknown) => e instanceof EduFedError && e.code === 'PARTICIPANT' && /party "C" sent no hello-result within 30 ms/.test(e.message),
  );
  await assert.rejects(arbiter.train({ n: 1, nTrain: 1, rows: new Map() }), /trains once/);
});

test('a feature holder answers each query once: a repeated query id (same pairwise mask) is refused', async () => {
  // Prepare: drive one feature holder by hand, as an arbiter would.
  const a = split.platforms.find((p) => p.id === 'A');
  assert.ok(a !== undefined);
  const sent: VerticalMessage[] = [];
  const holder = new FeatureHolder('A', a.raw, a.schema, 'learner_id', (m) => sent.push(m));
  const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
  const arbiter = { role: 'arbiter', id: 'arbiter' } as const;
  const to = { role: 'feature-holder', id: 'A' } as const;
  const plain = verticalTrainConfig({ jobId: 'once', mode: 'plain-lr', epochs: 1 });
  holder.receive({ step: 'hello', from: arbiter, to, payload: { jobId: 'once' } });
  await tick();
  const key = sent[0]?.step === 'hello-result' ? sent[0].payload.agreementKey : new Uint8Array();
  const directory = [
    { id: 'C', role: 'label-holder', agreementKey: freshAgreementKey().publicKey },
    { id: 'A', role: 'feature-holder', agreementKey: key },
  ] as const;
  holder.receive({ step: 'setup', from: arbiter, to, payload: { config: plain, directory, rows: Int32Array.of(0, 1, 2), nTrain: 2 } });
  await tick();
  // Execute
  const query = { step: 'score', from: arbiter, to, payload: { jobId: 'once', queryId: 'q1', rows: Int32Array.of(1, -1) } } as const;
  holder.receive(query);
  await tick();
  holder.receive(query);
  await tick();
  // Assert
  assert.deepEqual(sent.map((m) => m.step), ['hello-result', 'setup-result', 'partial-logits', 'error']);
  const answer = sent[2];
  assert.ok(answer?.step === 'partial-logits' && answer.payload.data.encoding === 'plain');
  assert.equal(answer.payload.data.values[1], 0, 'an unknown learner contributes the imputed (zero) logit');
  assert.match(sent[3]?.step === 'error' ? sent[3].payload.error.message : '', /score\/q1 was already answered/);
});
