import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, DataError } from '../../core/errors.js';
import { alignByIds, alignmentCounts, presenceOf, rowsForIds } from './align.js';

const C = { id: 'C', ids: ['u1', 'u2', 'u3', 'u4', 'u5', 'u6'] };
const A = { id: 'A', ids: ['u6', 'u9', 'u2', 'u1'] };
const labels = Int32Array.of(0, 1, 0, 1, 0, 1);

test('alignment keeps every labelled learner, training positions first, and gives −1 where a party lacks the learner', () => {
  // Execute
  const al = alignByIds([C, A], 'C', labels, { testFraction: 1 / 3, seed: 4 });
  // Assert
  assert.equal(al.n, 6);
  assert.equal(al.nTrain, 4);
  const c = al.rows.get('C') ?? new Int32Array(0);
  const a = al.rows.get('A') ?? new Int32Array(0);
  assert.deepEqual([...c].sort(), [0, 1, 2, 3, 4, 5]);
  c.forEach((row, pos) => {
    const key = C.ids[row];
    assert.equal(a[pos], A.ids.indexOf(key ?? ''));
  });
  assert.deepEqual(alignmentCounts(al), [
    { party: 'C', present: 6, imputed: 0 },
    { party: 'A', present: 3, imputed: 3 },
  ]);
  assert.deepEqual([...presenceOf(Int32Array.of(2, -1, 0))], [1, 0, 1]);
});

test('query rows find each id in every party, −1 where unknown (a learner new to the label holder included)', () => {
  const rows = rowsForIds([C, A], ['u9', 'u2', 'nobody']);
  assert.deepEqual([...(rows.get('C') ?? [])], [-1, 1, -1]);
  assert.deepEqual([...(rows.get('A') ?? [])], [1, 2, -1]);
});

test('a repeated or empty learner id names party and row; an unknown label holder is a configuration error', () => {
  assert.throws(() => alignByIds([C, { id: 'B', ids: ['u1', 'u1'] }], 'C', labels, { testFraction: 0.2, seed: 1 }), (e: unknown) => e instanceof DataError && /party B, row 2/.test(e.message));
  assert.throws(() => rowsForIds([{ id: 'B', ids: ['u1', ''] }], ['u1']), /empty learner id/);
  assert.throws(() => alignByIds([C, A], 'Z', labels, { testFraction: 0.2, seed: 1 }), ConfigError);
});
