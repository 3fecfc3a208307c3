import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isStep, maskContext, phaseLabel, sealAad, sealContext, STEP_ROLES, type VerticalMessage } from './protocol.js';

test('party-to-party steps go between feature holders and the label holder only; every other step has the arbiter at one end', () => {
  for (const [step, roles] of Object.entries(STEP_ROLES)) {
    const partyToParty = !roles.from.includes('arbiter') && !roles.to.includes('arbiter');
    if (partyToParty) {
      assert.ok(
        (roles.from.join() === 'feature-holder' && roles.to.join() === 'label-holder') || (roles.from.join() === 'label-holder' && roles.to.join() === 'feature-holder'),
        step,
      );
    } else {
      assert.ok(roles.from.includes('arbiter') !== roles.to.includes('arbiter'), step);
    }
  }
});

test('key contexts do not depend on the order of the two parties, and the authenticated data names direction, step and place', () => {
  assert.equal(sealContext('j', 'A', 'C'), sealContext('j', 'C', 'A'));
  assert.equal(maskContext('j', 'B', 'A'), maskContext('j', 'A', 'B'));
  assert.notEqual(sealContext('j', 'A', 'C'), maskContext('j', 'A', 'C'));
  const aads = new Set([
    sealAad('j', 'partial-logits', 'A', 'C', 'train/1/0'),
    sealAad('j', 'partial-logits', 'C', 'A', 'train/1/0'),
    sealAad('j', 'embeddings', 'A', 'C', 'train/1/0'),
    sealAad('j', 'partial-logits', 'A', 'C', 'train/1/1'),
    sealAad('k', 'partial-logits', 'A', 'C', 'train/1/0'),
  ]);
  assert.equal(aads.size, 5);
  assert.deepEqual([phaseLabel({ kind: 'train', epoch: 2 }), phaseLabel({ kind: 'evaluate' }), phaseLabel({ kind: 'score', queryId: 'q1' })], ['train/2', 'evaluate', 'score/q1']);
});

test('isStep narrows a message by its step', () => {
  const m: VerticalMessage = { step: 'hello', from: { role: 'arbiter', id: 'arbiter' }, to: { role: 'label-holder', id: 'C' }, payload: { jobId: 'j' } };
  assert.equal(isStep(m, 'hello'), true);
  assert.equal(isStep(m, 'finish'), false);
});
