import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, ValidationError } from '../../core/errors.js';
import { decodeEnvelope, encodeEnvelope } from '../../transport/envelope.js';
import type { Envelope } from '../../transport/channel.js';
import { decodeVerticalMessage, encodeVerticalMessage } from './codec.js';
import type { RandomBytes } from './dealer.js';
import type { VerticalMessage, VerticalMode } from './protocol.js';
import { simulateVertical } from './simulate-vertical.js';
import { syntheticVertical } from './synthetic-scenario.js';
import { verticalTrainConfig } from './train-config.js';

const split = syntheticVertical({ n: 240, seed: 6 });

/** A message through the codec and the binary envelope, as over gRPC. */
function overTheWire(m: VerticalMessage): VerticalMessage {
  const body = encodeVerticalMessage(m);
  const envelope: Envelope = { ...body, correlationId: 'c1', sender: m.from.id, receiver: m.to.id };
  return decodeVerticalMessage(decodeEnvelope(encodeEnvelope(envelope)), m.from.id);
}

function counting(): RandomBytes {
  let k = 0;
  return (n) => new Uint8Array(n).fill(++k);
}

test('every message of secure-lr, plain-lr and split-nn jobs (training, evaluation, queries, finish) survives the wire unchanged', async () => {
  for (const mode of ['secure-lr', 'plain-lr', 'split-nn'] as const satisfies readonly VerticalMode[]) {
    // Prepare
    const config = verticalTrainConfig({ jobId: `wire-${mode}`, mode, epochs: 2, batchSize: 32 });
    const seen = new Set<string>();
    const transform = (m: VerticalMessage): VerticalMessage => {
      seen.add(m.step);
      // Execute
      const back = overTheWire(m);
      // Assert
      assert.deepEqual(back, m, `${mode}: ${m.step}`);
      return back;
    };
    const options = { idColumn: 'learner_id', config, randomBytes: counting(), queries: [['L00001', 'L00002']], compare: false };
    const wired = await simulateVertical(split.platforms, { ...options, transform });
    const direct = await simulateVertical(split.platforms, { ...options, randomBytes: counting() });
    assert.deepEqual(wired.scores, direct.scores);
    assert.ok(seen.has('setup') && seen.has('epoch-start') && seen.has('evaluate-result') && seen.has('score-result') && seen.has('finish-result'));
  }
});

test('a message whose sender differs from the authenticated peer, a role that may not send the step, or a bad plan is refused', () => {
  const hello: VerticalMessage = { step: 'hello-result', from: { role: 'feature-holder', id: 'A' }, to: { role: 'arbiter', id: 'arbiter' }, payload: { jobId: 'j', agreementKey: new Uint8Array(32) } };
  const envelope = (m: VerticalMessage, header?: unknown): Envelope => {
    const body = encodeVerticalMessage(m);
    return { ...body, header: header ?? body.header, correlationId: 'c', sender: m.from.id, receiver: m.to.id };
  };
  assert.throws(() => decodeVerticalMessage(envelope(hello), 'B'), /authenticated "B"/);
  assert.throws(() => decodeVerticalMessage(envelope(hello, { from: { role: 'arbiter', id: 'A' }, to: { role: 'arbiter', id: 'arbiter' } }), 'A'), ValidationError);
  const short = { ...envelope(hello), tensors: [{ name: 'agreementKey', shape: [31], data: new Uint8Array(31) }] };
  assert.throws(() => decodeVerticalMessage(short, 'A'), /32 bytes/);
  assert.throws(() => decodeVerticalMessage({ ...envelope(hello), kind: 'vertical.magic' }, 'A'), /unknown step/);
  const setup: VerticalMessage = {
    step: 'setup',
    from: { role: 'arbiter', id: 'arbiter' },
    to: { role: 'label-holder', id: 'C' },
    payload: { config: { ...verticalTrainConfig({ jobId: 'j', mode: 'plain-lr' }), epochs: 0 }, directory: [], rows: Int32Array.of(0), nTrain: 1 },
  };
  assert.throws(() => decodeVerticalMessage(envelope(setup), 'arbiter'), ConfigError);
});
