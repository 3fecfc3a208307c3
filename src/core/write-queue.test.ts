import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WriteQueue } from './write-queue.js';

const unexpected = (err: unknown): void => assert.fail(`unexpected write error: ${String(err)}`);

test('rows are written in one batch after the delay, at once when the queue is full, and on flush', async () => {
  const batches: number[][] = [];
  const q = new WriteQueue<number>((rows) => void batches.push([...rows]), { delayMs: 20, maxQueued: 3, onError: unexpected });
  q.push(1);
  q.push(2);
  assert.deepEqual(batches, [], 'nothing written before the delay');
  await new Promise((r) => setTimeout(r, 60));
  assert.deepEqual(batches, [[1, 2]]);
  q.push(3, 4, 5);
  assert.deepEqual(batches, [[1, 2], [3, 4, 5]], 'a full queue is written at once');
  q.push(6);
  q.flush();
  assert.deepEqual(batches.at(-1), [6]);
  assert.equal(q.pending, 0);
});

test('a failed write keeps the rows queued for the next write, and a delayed failure goes to onError', async () => {
  let fail = true;
  const written: number[] = [];
  const errors: unknown[] = [];
  const q = new WriteQueue<number>((rows) => {
    if (fail) throw new Error('disk full');
    written.push(...rows);
  }, { delayMs: 10, maxQueued: 100, onError: (e) => errors.push(e) });
  q.push(1, 2);
  await new Promise((r) => setTimeout(r, 40));
  assert.equal(errors.length, 1);
  assert.equal(q.pending, 2);
  fail = false;
  q.push(3);
  q.flush();
  assert.deepEqual(written, [1, 2, 3]);
});

test('delay 0 writes every push at once; peek and clear serve a caller writing inside its own transaction', () => {
  const batches: number[][] = [];
  const immediate = new WriteQueue<number>((rows) => void batches.push([...rows]), { delayMs: 0, maxQueued: 100, onError: unexpected });
  immediate.push(7);
  assert.deepEqual(batches, [[7]]);
  const q = new WriteQueue<number>(() => assert.fail('not written by the queue'), { delayMs: 1000, maxQueued: 100, onError: unexpected });
  q.push(1, 2);
  assert.deepEqual(q.peek(), [1, 2]);
  q.clear();
  q.cancel();
  assert.equal(q.pending, 0);
});
