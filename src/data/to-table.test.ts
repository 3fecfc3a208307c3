import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ValidationError } from '../core/errors.js';
import type { Schema } from './schema.js';
import type { RawTable } from './table.js';
import { labelMapping, parseNumber, subsetTable, toTable } from './to-table.js';
import { expectDataError as dataError } from './expect-data-error.js';

const SCHEMA: Schema = {
  version: 1,
  columns: [
    { name: 'id', type: 'id' },
    { name: 'age', type: 'numeric' },
    { name: 'region', type: 'categorical', categories: ['North', 'South'] },
    { name: 'gender', type: 'categorical' },
    { name: 'band', type: 'ordinal', levels: ['low', 'mid', 'high'] },
    { name: 'gone', type: 'ignore' },
    { name: 'result', type: 'label', classes: ['Pass', 'Fail', 'Withdrawn'], positive: ['Fail', 'Withdrawn'] },
  ],
};

function raw(rows: string[][], header = ['id', 'age', 'region', 'gender', 'band', 'extra', 'result']): RawTable {
  return { source: 'students.csv', header, rows };
}

const ROWS = [
  ['s1', '19', 'North', 'F', 'low', 'x', 'Pass'],
  ['s2', '', 'South', '', 'high', 'y', 'Fail'],
  ['s3', ' 2.5e1 ', '', 'M', '', 'z', 'Withdrawn'],
];

describe('parseNumber', () => {
  it('accepts decimal and exponent notation with spaces and rejects everything else', () => {
    assert.deepEqual(['1', '-2.5', '+.5', '3.', ' 1e3 ', '7E-2'].map(parseNumber), [1, -2.5, 0.5, 3, 1000, 0.07]);
    for (const bad of ['', ' ', 'abc', '0x10', 'Infinity', 'NaN', '1,5', '1e999', '1.2.3', '--1']) {
      assert.equal(parseNumber(bad), undefined, bad);
    }
  });
});

describe('toTable', () => {
  it('converts every column type, with missing values as NaN or ""', () => {
    const t = toTable(raw(ROWS), SCHEMA);
    assert.equal(t.length, 3);
    assert.equal(t.source, 'students.csv');
    assert.deepEqual(t.strings.get('id'), ['s1', 's2', 's3']);
    assert.deepEqual([...(t.numeric.get('age') ?? [])], [19, Number.NaN, 25]);
    assert.deepEqual(t.strings.get('region'), ['North', 'South', '']);
    assert.deepEqual(t.strings.get('gender'), ['F', '', 'M']);
    assert.deepEqual([...(t.numeric.get('band') ?? [])], [0, 2, Number.NaN]);
    assert.equal(t.strings.has('extra') || t.numeric.has('extra') || t.strings.has('gone'), false);
    assert.deepEqual([...t.labels], [0, 1, 1]);
    assert.equal(t.numClasses, 2);
    assert.deepEqual(t.classNames, ['Pass', 'Fail|Withdrawn']);
    assert.deepEqual([...t.rowNumbers], [1, 2, 3]);
  });

  it('maps a label without positive classes to class indices and fills -1 without a label column', () => {
    const multi: Schema = { version: 1, columns: [{ name: 'y', type: 'label', classes: ['a', 'b', 'c'] }] };
    const t = toTable({ source: 'm.csv', header: ['y'], rows: [['c'], ['a']] }, multi);
    assert.deepEqual([...t.labels], [2, 0]);
    assert.equal(t.numClasses, 3);
    const none = toTable({ source: 'n.csv', header: ['x'], rows: [['1']] }, { version: 1, columns: [{ name: 'x', type: 'numeric' }] });
    assert.deepEqual([...none.labels], [-1]);
    assert.equal(none.numClasses, 0);
  });

  it('names the missing column and lists the header', () => {
    const err = dataError(() => toTable(raw(ROWS, ['id', 'age', 'region', 'gender', 'band', 'result']), { ...SCHEMA, columns: [...SCHEMA.columns, { name: 'score', type: 'numeric' }] }));
    assert.match(err.message, /^students\.csv, column "score": is missing; the header has "id", "age", "region", "gender", "band", "result"$/);
  });

  it('names file, row, column and value of a non-numeric cell', () => {
    const err = dataError(() => toTable(raw([ROWS[0] ?? [], ['s2', 'twenty', 'South', 'F', 'low', '', 'Pass']]), SCHEMA));
    assert.equal(err.message, 'students.csv, row 2, column "age": "twenty" is not a number, but the column is numeric');
    assert.deepEqual(err.location, { file: 'students.csv', row: 2, column: 'age' });
  });

  it('hints at a decimal comma', () => {
    const err = dataError(() => toTable(raw([['s1', '1,5', 'North', 'F', 'low', '', 'Pass']]), SCHEMA));
    assert.match(err.message, /row 1, column "age": "1,5" is not a number.*decimal comma/);
  });

  it('rejects an empty numeric cell when the column says missing: "error"', () => {
    const strict: Schema = { version: 1, columns: [{ name: 'age', type: 'numeric', missing: 'error' }] };
    const err = dataError(() => toTable({ source: 'a.csv', header: ['age'], rows: [['1'], ['1'], ['']] }, strict));
    assert.match(err.message, /^a\.csv, row 3, column "age": empty value/);
  });

  it('rejects a category outside the closed list, listing the allowed values', () => {
    const err = dataError(() => toTable(raw([['s1', '19', 'East', 'F', 'low', '', 'Pass']]), SCHEMA));
    assert.equal(err.message, 'students.csv, row 1, column "region": "East" is not an allowed category; allowed: "North", "South"');
  });

  it('rejects an unknown ordinal level', () => {
    const err = dataError(() => toTable(raw([['s1', '19', 'North', 'F', 'medium', '', 'Pass']]), SCHEMA));
    assert.match(err.message, /row 1, column "band": "medium" is not one of the ordinal levels "low", "mid", "high"/);
  });

  it('rejects an empty label and a label outside the classes', () => {
    const empty = dataError(() => toTable(raw([['s1', '19', 'North', 'F', 'low', '', '']]), SCHEMA));
    assert.match(empty.message, /^students\.csv, row 1, column "result": empty label/);
    const unknown = dataError(() => toTable(raw([ROWS[0] ?? [], ['s2', '19', 'North', 'F', 'low', '', 'Distinction']]), SCHEMA));
    assert.match(unknown.message, /row 2, column "result": label "Distinction" is not one of the classes "Pass", "Fail", "Withdrawn"/);
  });

  it('cuts long lists of allowed values in messages', () => {
    const levels = Array.from({ length: 30 }, (_, i) => `L${i}`);
    const err = dataError(() => toTable({ source: 'o.csv', header: ['o'], rows: [['zz']] }, { version: 1, columns: [{ name: 'o', type: 'ordinal', levels }] }));
    assert.match(err.message, /"L19", \.\.\. \(30 in all\)$/);
  });
});

describe('subsetTable', () => {
  it('keeps the selected rows, in order, with their original row numbers', () => {
    const t = toTable(raw(ROWS), SCHEMA);
    const s = subsetTable(t, [2, 0]);
    assert.equal(s.length, 2);
    assert.deepEqual(s.strings.get('id'), ['s3', 's1']);
    assert.deepEqual([...(s.numeric.get('age') ?? [])], [25, 19]);
    assert.deepEqual([...s.labels], [1, 0]);
    assert.deepEqual([...s.rowNumbers], [3, 1]);
    assert.equal(s.numClasses, 2);
  });

  it('rejects an index out of range, naming the table and the position', () => {
    const t = toTable(raw(ROWS), SCHEMA);
    assert.throws(
      () => subsetTable(t, [0, 3]),
      (err: unknown) => err instanceof ValidationError && /students\.csv.*rows\[1\] = 3 is not a row index in \[0, 3\)/.test(err.message),
    );
  });
});

describe('labelMapping', () => {
  it('puts the positive classes at 1 and the rest at 0', () => {
    const m = labelMapping({ name: 'y', type: 'label', classes: ['a', 'b', 'c'], positive: ['b'] });
    assert.deepEqual([...m.index], [['a', 0], ['b', 1], ['c', 0]]);
    assert.deepEqual(m.classNames, ['a|c', 'b']);
  });
});
