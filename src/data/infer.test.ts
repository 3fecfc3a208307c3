import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, DataError } from '../core/errors.js';
import { projectRoot } from '../core/paths.js';
import { readCsv } from './csv.js';
import { inferSchema } from './infer.js';
import { parseSchema } from './schema-io.js';
import type { RawTable } from './table.js';
import { toTable } from './to-table.js';

function table(header: string[], rows: string[][]): RawTable {
  return { source: 't.csv', header, rows };
}

describe('inferSchema', () => {
  it('types numeric, categorical, free-text, empty and label columns', () => {
    const rows = Array.from({ length: 60 }, (_, i) => [
      String(i * 1.5),
      i % 3 === 0 ? 'b' : 'a',
      `comment number ${i}`,
      '',
      i % 2 === 0 ? 'Pass' : 'Fail',
    ]);
    rows[0] = ['', 'c', 'first', '', 'Pass'];
    const s = inferSchema(table(['score', 'group', 'comment', 'blank', 'result'], rows), { label: 'result' });
    assert.deepEqual(s, {
      version: 1,
      columns: [
        { name: 'score', type: 'numeric' },
        { name: 'group', type: 'categorical', categories: ['a', 'b', 'c'] },
        { name: 'comment', type: 'ignore' },
        { name: 'blank', type: 'ignore' },
        { name: 'result', type: 'label', classes: ['Fail', 'Pass'] },
      ],
    });
  });

  it('makes an integer column named like an id with many values an id, and one with few a categorical', () => {
    const rows = Array.from({ length: 100 }, (_, i) => [String(1000 + i), String(i % 4), `u${i}`, String(i)]);
    const s = inferSchema(table(['id_student', 'school_id', 'user_id', 'count'], rows));
    assert.deepEqual(s.columns, [
      { name: 'id_student', type: 'id' },
      { name: 'school_id', type: 'categorical', categories: ['0', '1', '2', '3'] },
      { name: 'user_id', type: 'id' },
      { name: 'count', type: 'numeric' },
    ]);
  });

  it('sorts numeric-looking categories and classes numerically', () => {
    const rows = [['10', 'x'], ['9', 'y'], ['1', 'x']];
    const s = inferSchema(table(['grade', 'k'], rows), { label: 'grade' });
    assert.deepEqual(s.columns[0], { name: 'grade', type: 'label', classes: ['1', '9', '10'] });
  });

  it('honours maxCategories', () => {
    const rows = [['a'], ['b'], ['c']];
    assert.equal(inferSchema(table(['g'], rows), { maxCategories: 2 }).columns[0]?.type, 'ignore');
    assert.equal(inferSchema(table(['g'], rows), { maxCategories: 3 }).columns[0]?.type, 'categorical');
    assert.throws(() => inferSchema(table(['g'], rows), { maxCategories: 0 }), ConfigError);
  });

  it('names the file and lists the header when the label column is absent', () => {
    assert.throws(
      () => inferSchema(table(['a', 'b'], [['1', '2']]), { label: 'y' }),
      (err: unknown) => err instanceof DataError && err.message === 't.csv, column "y": label column not found; the header has "a", "b"',
    );
  });

  it('rejects a label with a single value', () => {
    assert.throws(
      () => inferSchema(table(['y'], [['1'], ['1']]), { label: 'y' }),
      (err: unknown) => err instanceof DataError && /column "y": the label column has 1 distinct value/.test(err.message),
    );
  });

  const info = join(projectRoot(), 'data', 'oulad', 'studentInfo.csv.gz');
  it('infers a valid schema for OULAD studentInfo that loads the whole table', { skip: !existsSync(info) && 'embedded OULAD data not found' }, () => {
    const raw = readCsv(info);
    const s = inferSchema(raw, { label: 'final_result' });
    const byName = new Map(s.columns.map((c) => [c.name, c]));
    assert.equal(byName.get('id_student')?.type, 'id');
    assert.equal(byName.get('studied_credits')?.type, 'numeric');
    assert.deepEqual(byName.get('final_result'), { name: 'final_result', type: 'label', classes: ['Distinction', 'Fail', 'Pass', 'Withdrawn'] });
    assert.equal(byName.get('imd_band')?.type, 'categorical');
    const t = toTable(raw, parseSchema(s, 'inferred'));
    assert.equal(t.length, 32_593);
  });
});
