import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffDelay } from './backoff.js';

describe('backoffDelay', () => {
  it('doubles the cap per attempt up to maxMs and stays within [cap/2, cap]', () => {
    const opts = { initialMs: 100, maxMs: 1_000 };
    const caps = [100, 200, 400, 800, 1_000, 1_000];
    caps.forEach((cap, attempt) => {
      assert.equal(backoffDelay(attempt, opts, () => 0), cap / 2);
      assert.equal(backoffDelay(attempt, opts, () => 0.999999), cap);
    });
  });

  it('spreads simultaneous reconnections apart with its jitter', () => {
    const draws = [0.1, 0.5, 0.9].map((u) => backoffDelay(3, { initialMs: 100, maxMs: 10_000 }, () => u));
    assert.deepEqual(draws, [440, 600, 760]);
  });

  it('refuses non-positive or inverted bounds', () => {
    assert.throws(() => backoffDelay(0, { initialMs: 0 }, () => 0), /reconnect/);
    assert.throws(() => backoffDelay(0, { initialMs: 500, maxMs: 100 }, () => 0), /initialMs 500 and maxMs 100/);
  });
});
