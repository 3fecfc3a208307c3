import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, SchemaError } from '../../../core/errors.js';
import type { RawTable } from '../../../data/table.js';
import { toTable } from '../../../data/to-table.js';
import { idColumnIndex, idSourceFromColumns, idSourceFromRawTable, idSourceFromTable } from './id-source.js';

test('in-memory columns are read by row and column index', () => {
  const s = idSourceFromColumns({ email: ['a@x', null], number: ['1', '2'] });
  assert.equal(s.rows, 2);
  assert.deepEqual(s.columns, ['email', 'number']);
  assert.equal(s.value(0, 0), 'a@x');
  assert.equal(s.value(1, 0), null);
  assert.equal(s.value(1, 1), '2');
  assert.equal(idColumnIndex(s, 'number'), 1);
  assert.throws(() => idColumnIndex(s, 'phone'), ConfigError);
});

test('in-memory columns of different lengths, or none, are refused', () => {
  assert.throws(() => idSourceFromColumns({ a: ['1'], b: [] }), (e: unknown) => e instanceof ConfigError && e.field === 'columns.b');
  assert.throws(() => idSourceFromColumns({}), ConfigError);
});

test('a raw table maps logical names to its own columns and reports missing ones', () => {
  const raw: RawTable = { source: 'lib.csv', header: ['uid', 'mail', 'clicks'], rows: [['u1', 'a@x', '3'], ['u2', '', '0']] };
  const s = idSourceFromRawTable(raw, { email: 'mail', learner: 'uid' });
  assert.deepEqual(s.columns, ['email', 'learner']);
  assert.equal(s.value(0, 0), 'a@x');
  assert.equal(s.value(1, 1), 'u2');
  assert.throws(() => idSourceFromRawTable(raw, ['phone']), (e: unknown) => e instanceof SchemaError && /lib\.csv/.test(e.message) && /phone/.test(e.message));
});

test('a schema-validated table serves its id columns and refuses a numeric one', () => {
  const raw: RawTable = { source: 'grades.csv', header: ['student', 'score'], rows: [['s1', '1'], ['s2', '2']] };
  const table = toTable(raw, { version: 1, columns: [{ name: 'student', type: 'id' }, { name: 'score', type: 'numeric' }] });
  const s = idSourceFromTable(table, ['student']);
  assert.equal(s.value(1, 0), 's2');
  assert.throws(() => idSourceFromTable(table, ['score']), (e: unknown) => e instanceof SchemaError && /grades\.csv/.test(e.message));
});
