import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Outbox } from './outbox.js';
import type { VerticalMessage } from './protocol.js';

/** The job id of a finish-result, '' for anything else. */
const job = (m: VerticalMessage): string => (m.step === 'finish-result' ? m.payload.jobId : '');
const msg = (jobId: string): VerticalMessage => ({ step: 'finish-result', from: { role: 'feature-holder', id: 'A' }, to: { role: 'arbiter', id: 'arbiter' }, payload: { jobId } });

test('messages leave in the order sent, to readers that came before or after them', async () => {
  const box = new Outbox();
  const early = box.next();
  box.send(msg('1'));
  box.send(msg('2'));
  box.send(msg('3'));
  assert.equal(job(await early), '1');
  assert.equal(job(await box.next()), '2');
  assert.equal(box.size, 1);
  assert.equal(job(await box.next()), '3');
});

test('a cancelled read gives up its place and loses no message', async () => {
  const box = new Outbox();
  const controller = new AbortController();
  const cancelled = box.next(controller.signal);
  controller.abort();
  await assert.rejects(cancelled, /cancelled/);
  box.send(msg('kept'));
  assert.equal(job(await box.next()), 'kept');
});
