import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, DataError } from '../../core/errors.js';
import type { Schema } from '../../data/schema.js';
import { alignedFeatures, appendColumns, encodePartyTable } from './party-features.js';

const schema: Schema = {
  version: 1,
  columns: [
    { name: 'id', type: 'id' },
    { name: 'clicks', type: 'numeric' },
    { name: 'forum', type: 'categorical' },
  ],
};
const raw = { source: 'b.csv', header: ['id', 'clicks', 'forum'], rows: [['u1', '1', 'yes'], ['u2', '3', 'no'], ['u3', '', 'yes'], ['u4', '8', 'no']] };

test('a learner the party lacks gets an all-zero row: its standardised means, no category, no missing flag (mean imputation)', () => {
  // Prepare
  const f = encodePartyTable('B', raw, schema, 'id');
  // Execute: positions 0 and 2 are learners B has; position 1 it lacks.
  const x = alignedFeatures(f, Int32Array.of(3, -1, 0));
  // Assert
  assert.deepEqual(f.encoder.featureNames, ['clicks', 'clicks__missing', 'forum=no', 'forum=yes', 'forum=__other__']);
  assert.deepEqual([...x.subarray(5, 10)], [0, 0, 0, 0, 0]);
  assert.deepEqual([...x.subarray(0, 5)], [...f.x.subarray(15, 20)]);
  // The encoder's standardisation is the party's own: the present clicks average to 0.
  const present = [0, 1, 3].map((r) => f.x[r * 5] ?? Number.NaN);
  assert.ok(Math.abs(present.reduce((s, v) => s + v, 0)) < 1e-6);
  assert.equal(f.x[2 * 5 + 1], 1, 'a missing cell inside the table is flagged, unlike an absent learner');
});

test('presence columns are appended to every row', () => {
  const x = appendColumns(Float32Array.of(1, 2, 3, 4), 2, 2, [Uint8Array.of(1, 0), Uint8Array.of(0, 1)]);
  assert.deepEqual([...x], [1, 2, 1, 0, 3, 4, 0, 1]);
});

test('a table without the id column, or with a multi-class label, is refused', () => {
  assert.throws(() => encodePartyTable('B', raw, schema, 'learner'), DataError);
  const multi: Schema = { version: 1, columns: [{ name: 'id', type: 'id' }, { name: 'y', type: 'label', classes: ['a', 'b', 'c'] }] };
  assert.throws(() => encodePartyTable('C', { source: 'c.csv', header: ['id', 'y'], rows: [['u1', 'a']] }, multi, 'id'), ConfigError);
  assert.throws(() => alignedFeatures(encodePartyTable('B', raw, schema, 'id'), Int32Array.of(9)), /points past/);
});
