import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ConfigError, DataError, ValidationError } from '../core/errors.js';
import { buildEncoder, encode, localStats, mergeStats, parseEncoderSpec, parseLocalStats } from './encoder.js';
import type { Schema } from './schema.js';
import { subsetTable, toTable } from './to-table.js';
import type { Table } from './table.js';

const SCHEMA: Schema = {
  version: 1,
  columns: [
    { name: 'id', type: 'id' },
    { name: 'age', type: 'numeric' },
    { name: 'band', type: 'ordinal', levels: ['low', 'mid', 'high'] },
    { name: 'region', type: 'categorical' },
    { name: 'result', type: 'label', classes: ['Pass', 'Fail'], positive: ['Fail'] },
  ],
};

const HEADER = ['id', 'age', 'band', 'region', 'result'];

function students(rows: string[][]): Table {
  return toTable({ source: 'students.csv', header: HEADER, rows }, SCHEMA);
}

const ROWS = [
  ['a', '20', 'low', 'North', 'Pass'],
  ['b', '30', 'mid', 'South', 'Fail'],
  ['c', '', 'high', 'North', 'Pass'],
  ['d', '40', '', '', 'Fail'],
  ['e', '50', 'low', 'East', 'Pass'],
];

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}

describe('localStats', () => {
  it('counts rows, exact sums, category values, missing cells and classes', () => {
    const s = localStats(students(ROWS));
    assert.deepEqual(s, {
      n: 5,
      numeric: [
        { column: 'age', count: 4, missing: 1, sum: [140], sumSq: [5400] },
        { column: 'band', count: 4, missing: 1, sum: [3], sumSq: [5] },
      ],
      categorical: [{ column: 'region', missing: 1, counts: [['East', 1], ['North', 2], ['South', 1]] }],
      labelCounts: [3, 2],
    });
  });

  it('keeps sums exact where naive floating-point addition loses them', () => {
    const schema: Schema = { version: 1, columns: [{ name: 'v', type: 'numeric' }] };
    const t = toTable({ source: 'v.csv', header: ['v'], rows: [['1e16'], ['1'], ['-1e16']] }, schema);
    assert.equal(1e16 + 1 - 1e16, 0);
    assert.deepEqual(localStats(t).numeric[0]?.sum, [1]);
  });

  it('is plain JSON that survives serialisation', () => {
    const s = localStats(students(ROWS));
    assert.deepEqual(JSON.parse(JSON.stringify(s)), s);
  });
});

describe('mergeStats', () => {
  const numericSchema: Schema = {
    version: 1,
    columns: [
      { name: 'v', type: 'numeric' },
      { name: 'g', type: 'categorical' },
    ],
  };
  const cellArb = fc.oneof(
    fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e12, max: 1e12 }).map((v) => String(v)),
    fc.constantFrom('', '0.1', '1e-9', '123456789.123'),
  );
  const rowsArb = fc.array(fc.tuple(cellArb, fc.constantFrom('', 'x', 'y', 'z')), { minLength: 1, maxLength: 40 });

  it('merging the stats of a 3-way split equals the stats of the whole, in any order (property)', () => {
    fc.assert(
      fc.property(rowsArb, fc.nat(), fc.nat(), (rows, c1, c2) => {
        const t = toTable({ source: 'p.csv', header: ['v', 'g'], rows: rows.map((r) => [...r]) }, numericSchema);
        const a = Math.min(c1, c2) % (t.length + 1);
        const b = Math.max(a, Math.max(c1, c2) % (t.length + 1));
        const parts = [range(0, a), range(a, b), range(b, t.length)].map((idx) => localStats(subsetTable(t, idx)));
        const whole = localStats(t);
        assert.deepEqual(mergeStats(parts), whole);
        assert.deepEqual(mergeStats([parts[2], parts[0], parts[1]].filter((p) => p !== undefined)), whole);
      }),
      { numRuns: 200 },
    );
  });

  it('rejects an empty list and parts with different columns, naming the part', () => {
    assert.throws(() => mergeStats([]), ValidationError);
    const s = localStats(students(ROWS));
    assert.throws(
      () => mergeStats([s, s, { ...s, categorical: [] }]),
      (err: unknown) => err instanceof ValidationError && /part 2 has columns \[age, band\] \[\], part 0 has \[age, band\] \[region\]/.test(err.message),
    );
    assert.throws(
      () => mergeStats([s, { ...s, labelCounts: [1, 2, 3] }]),
      (err: unknown) => err instanceof ValidationError && /part 1 has 3 classes, part 0 has 2/.test(err.message),
    );
  });
});

describe('buildEncoder', () => {
  it('lists standardised numeric features, missing indicators and one-hot slots in schema order', () => {
    const spec = buildEncoder(SCHEMA, localStats(students(ROWS)));
    assert.deepEqual(spec.featureNames, [
      'age', 'age__missing', 'band', 'band__missing', 'region=East', 'region=North', 'region=South', 'region=__other__',
    ]);
    assert.equal(spec.dim, 8);
    assert.equal(spec.numClasses, 2);
    assert.deepEqual(spec.classNames, ['Pass', 'Fail']);
    const age = spec.columns[0];
    assert.equal(age?.kind, 'numeric');
    if (age?.kind === 'numeric') {
      assert.equal(age.mean, 35);
      assert.equal(age.std, Math.sqrt(125));
    }
    assert.deepEqual(JSON.parse(JSON.stringify(spec)), spec);
  });

  it('gives a constant column standard deviation 1, so it encodes to exact zeros', () => {
    const schema: Schema = { version: 1, columns: [{ name: 'v', type: 'numeric' }] };
    const t = toTable({ source: 'c.csv', header: ['v'], rows: [['0.1'], ['0.1'], ['0.1']] }, schema);
    const spec = buildEncoder(schema, localStats(t));
    assert.deepEqual(spec.columns, [{ kind: 'numeric', column: 'v', mean: 0.1, std: 1, missingIndicator: false }]);
    assert.deepEqual([...encode(t, spec).x], [0, 0, 0]);
  });

  it('sends values rarer than minCategoryCount to the __other__ slot', () => {
    const spec = buildEncoder(SCHEMA, localStats(students(ROWS)), { minCategoryCount: 2 });
    assert.deepEqual(spec.featureNames.filter((f) => f.startsWith('region')), ['region=North', 'region=__other__']);
    assert.throws(() => buildEncoder(SCHEMA, localStats(students(ROWS)), { minCategoryCount: 0 }), ConfigError);
  });

  it('names a schema column the statistics lack', () => {
    const s = localStats(students(ROWS));
    assert.throws(
      () => buildEncoder(SCHEMA, { ...s, numeric: s.numeric.slice(1) }),
      (err: unknown) => err instanceof ValidationError && /no numeric column "age"/.test(err.message),
    );
  });
});

describe('encode', () => {
  it('standardises, imputes the mean with an indicator, and one-hot encodes with an other slot', () => {
    const t = students(ROWS);
    const ds = encode(t, buildEncoder(SCHEMA, localStats(t)));
    assert.equal(ds.n, 5);
    assert.equal(ds.d, 8);
    assert.equal(ds.numClasses, 2);
    const row = (r: number): number[] => [...ds.x.subarray(r * 8, r * 8 + 8)];
    const expected = [-15 / Math.sqrt(125), 0, -0.75 / Math.sqrt(0.6875), 0, 0, 1, 0, 0].map(Math.fround);
    assert.deepEqual(row(0), expected);
    assert.deepEqual(row(2).slice(0, 2), [0, 1]);
    assert.deepEqual(row(3).slice(2), [0, 1, 0, 0, 0, 1]);
    assert.deepEqual([...ds.y], [0, 1, 0, 1, 0]);
  });

  it('maps a category unseen by the encoder to __other__', () => {
    const spec = buildEncoder(SCHEMA, localStats(students(ROWS)));
    const ds = encode(students([['z', '35', 'mid', 'West', 'Pass']]), spec);
    assert.deepEqual([...ds.x.subarray(4)], [0, 0, 0, 1]);
  });

  it('gives the same dataset from federated statistics as from pooled rows', () => {
    const rows = Array.from({ length: 90 }, (_, i) => [
      `s${i}`,
      i % 7 === 0 ? '' : String((i * 37) % 101 / 3),
      ['low', 'mid', 'high', ''][i % 4] ?? '',
      ['North', 'South', 'East', 'West', ''][(i * 3) % 5] ?? '',
      i % 3 === 0 ? 'Fail' : 'Pass',
    ]);
    const whole = students(rows);
    const parts = [range(0, 17), range(17, 60), range(60, 90)].map((idx) => subsetTable(whole, idx));
    const federated = buildEncoder(SCHEMA, mergeStats(parts.map(localStats)));
    const pooled = buildEncoder(SCHEMA, localStats(whole));
    assert.deepEqual(federated, pooled);
    assert.deepEqual(encode(parts[1] ?? whole, federated), encode(parts[1] ?? whole, pooled));
  });

  it('rejects a table whose classes differ from the encoder, naming the file', () => {
    const spec = buildEncoder(SCHEMA, localStats(students(ROWS)));
    const other: Schema = { version: 1, columns: [...SCHEMA.columns.slice(0, 4), { name: 'result', type: 'label', classes: ['Fail', 'Pass'] }] };
    const t = toTable({ source: 'other.csv', header: HEADER, rows: ROWS }, other);
    assert.throws(
      () => encode(t, spec),
      (err: unknown) => err instanceof DataError && err.message === "other.csv: the table's classes (Fail, Pass) differ from the encoder's (Pass, Fail)",
    );
  });
});

describe('parseLocalStats', () => {
  it('accepts statistics that went through JSON unchanged', () => {
    const s = localStats(students(ROWS));
    assert.deepEqual(parseLocalStats(JSON.parse(JSON.stringify(s)), 'school-a'), s);
  });

  it('rejects inconsistent or malformed statistics, naming the participant and field', () => {
    const s = localStats(students(ROWS));
    const reject = (bad: unknown, pattern: RegExp): void => {
      assert.throws(
        () => parseLocalStats(bad, 'school-a'),
        (err: unknown) => err instanceof ValidationError && err.participant === 'school-a' && pattern.test(err.message),
      );
    };
    const age = s.numeric[0];
    assert.ok(age !== undefined);
    reject({ ...s, n: -1 }, /stats\.n: -1 is below the minimum 0/);
    reject({ ...s, numeric: [{ ...age, count: 9 }, s.numeric[1]] }, /stats\.numeric\[0\]\.count: 9 is above the maximum 5/);
    reject({ ...s, numeric: [{ ...age, missing: 0 }, s.numeric[1]] }, /stats\.numeric\[0\]: count 4 \+ missing 0 is not n = 5/);
    reject({ ...s, numeric: [{ ...age, sum: [Number.NaN] }, s.numeric[1]] }, /stats\.numeric\[0\]\.sum: expected an array of finite numbers/);
    reject({ ...s, numeric: [{ ...age, sumSq: [-4] }, s.numeric[1]] }, /sumSq: a sum of squares cannot be negative/);
    reject({ ...s, categorical: [{ column: 'region', missing: 1, counts: [['North', 2], ['North', 2]] }] }, /counts\[1\]: value "North" listed twice/);
    reject({ ...s, categorical: [{ column: 'region', missing: 1, counts: [['North', 0.5]] }] }, /counts\[0\]: expected \[non-empty value, positive integer count\]/);
    reject({ ...s, categorical: [{ column: 'region', missing: 0, counts: [['North', 2]] }] }, /add up to 2, not n = 5/);
    reject({ ...s, labelCounts: [3, 3] }, /stats\.labelCounts: add up to 6, not n = 5/);
  });
});

describe('parseEncoderSpec', () => {
  it('accepts a spec that went through JSON unchanged', () => {
    const spec = buildEncoder(SCHEMA, localStats(students(ROWS)));
    assert.deepEqual(parseEncoderSpec(JSON.parse(JSON.stringify(spec)), 'coordinator'), spec);
  });

  it('rejects specs whose parts disagree or hold impossible values', () => {
    const spec = buildEncoder(SCHEMA, localStats(students(ROWS)));
    const reject = (bad: unknown, pattern: RegExp): void => {
      assert.throws(() => parseEncoderSpec(bad, 'coordinator'), (err: unknown) => err instanceof ValidationError && pattern.test(err.message));
    };
    reject({ ...spec, dim: 7 }, /encoder\.dim: 7, but there are 8 features/);
    reject({ ...spec, featureNames: spec.featureNames.slice(1) }, /encoder\.featureNames: do not match the columns/);
    reject({ ...spec, columns: [{ ...spec.columns[0], std: 0 }, ...spec.columns.slice(1)] }, /encoder\.columns\[0\]\.std: must be positive/);
    reject({ ...spec, columns: [{ kind: 'bucket', column: 'age' }] }, /encoder\.columns\[0\]\.kind: expected "numeric" or "one-hot"/);
    reject({ ...spec, classNames: ['Pass'] }, /encoder\.classNames: 1 names for 2 classes/);
  });
});
