import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EduFedError } from '../../core/errors.js';
import { Mailbox } from './mailbox.js';

test('a message put before the wait and one put after both reach the waiter, in order per key', async () => {
  const box = new Mailbox<string>();
  box.put('a', 'first');
  box.put('a', 'second');
  assert.equal(await box.take('a'), 'first');
  const later = box.take('b');
  box.put('b', 'third');
  assert.equal(await later, 'third');
  assert.equal(await box.take('a'), 'second');
  assert.equal(box.size, 0);
});

test('fail rejects pending and later waits, and drops what was queued', async () => {
  const box = new Mailbox<string>();
  box.put('x', 'queued');
  const pending = box.take('y');
  box.fail(new EduFedError('PROTOCOL', 'stop'));
  await assert.rejects(pending, /stop/);
  await assert.rejects(box.take('x'), /stop/);
  box.put('x', 'ignored');
  assert.equal(box.size, 0);
});
