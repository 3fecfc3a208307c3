import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ConfigError, DataError } from '../core/errors.js';
import { dirichletPartition, iidPartition, partitionByColumn } from './partition.js';
import type { Schema } from './schema.js';
import { toTable } from './to-table.js';

function assertCoversOnce(parts: readonly Uint32Array[], n: number): void {
  const all = parts.flatMap((p) => [...p]).sort((a, b) => a - b);
  assert.deepEqual(all, Array.from({ length: n }, (_, i) => i));
  for (const p of parts) assert.deepEqual([...p], [...p].sort((a, b) => a - b));
}

describe('partitionByColumn', () => {
  const schema: Schema = {
    version: 1,
    columns: [
      { name: 'school', type: 'categorical' },
      { name: 'year', type: 'numeric' },
    ],
  };
  const t = toTable(
    { source: 'lms.csv', header: ['school', 'year'], rows: [['b', '2020'], ['a', '2021'], ['b', ''], ['', '2020']] },
    schema,
  );

  it('groups rows by a categorical column with sorted keys, missing values under ""', () => {
    const parts = partitionByColumn(t, 'school');
    assert.deepEqual([...parts.keys()], ['', 'a', 'b']);
    assert.deepEqual([...(parts.get('b') ?? [])], [0, 2]);
  });

  it('groups rows by a numeric column by its value', () => {
    const parts = partitionByColumn(t, 'year');
    assert.deepEqual([...parts.entries()].map(([k, v]) => [k, [...v]]), [['', [2]], ['2020', [0, 3]], ['2021', [1]]]);
  });

  it('names the table and lists its columns for an unknown column', () => {
    assert.throws(
      () => partitionByColumn(t, 'region'),
      (err: unknown) => err instanceof DataError && err.message === 'lms.csv, column "region": cannot partition by an unknown column; the table has "school", "year"',
    );
  });
});

describe('iidPartition', () => {
  it('covers every row once with part sizes differing by at most one (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: 20 }), fc.integer(), (n, kRaw, seed) => {
        const k = Math.min(kRaw, n);
        const parts = iidPartition(n, k, seed);
        assert.equal(parts.length, k);
        assertCoversOnce(parts, n);
        const sizes = parts.map((p) => p.length);
        assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1);
      }),
      { numRuns: 200 },
    );
  });

  it('is deterministic per seed', () => {
    assert.deepEqual(iidPartition(50, 3, 9), iidPartition(50, 3, 9));
    assert.notDeepEqual(iidPartition(50, 3, 9), iidPartition(50, 3, 10));
  });

  it('rejects more participants than rows', () => {
    assert.throws(() => iidPartition(3, 4, 1), (err: unknown) => err instanceof ConfigError && err.field === 'k' && /4 participants but only 3 rows/.test(err.message));
  });
});

describe('dirichletPartition', () => {
  const labelsArb = fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 300 }).map((xs) => Int32Array.from(xs));

  it('covers every row once and leaves no participant empty (property)', () => {
    fc.assert(
      fc.property(labelsArb, fc.integer({ min: 1, max: 10 }), fc.constantFrom(0.01, 0.1, 0.5, 1, 10, 1000), fc.integer(), (labels, kRaw, alpha, seed) => {
        const k = Math.min(kRaw, labels.length);
        const parts = dirichletPartition(labels, 4, k, alpha, seed);
        assert.equal(parts.length, k);
        assertCoversOnce(parts, labels.length);
        for (const p of parts) assert.ok(p.length >= 1);
      }),
      { numRuns: 200 },
    );
  });

  it('skews labels strongly for small alpha and hardly for large alpha', () => {
    const labels = Int32Array.from({ length: 4000 }, (_, i) => i % 4);
    // Mean over participants of the largest class share: 1 = one class each, 0.25 = balanced.
    const dominance = (alpha: number): number => {
      const parts = dirichletPartition(labels, 4, 10, alpha, 3);
      const shares = parts.map((p) => {
        const counts = [0, 0, 0, 0];
        for (const r of p) counts[labels[r] ?? 0] = (counts[labels[r] ?? 0] ?? 0) + 1;
        return Math.max(...counts) / p.length;
      });
      return shares.reduce((a, b) => a + b, 0) / shares.length;
    };
    assert.ok(dominance(0.05) > 0.85, `alpha 0.05: ${dominance(0.05)}`);
    assert.ok(dominance(1000) < 0.35, `alpha 1000: ${dominance(1000)}`);
  });

  it('draws Gamma variates with the right mean, so Dirichlet shares are unbiased', () => {
    // With alpha 1 each participant's expected share of each class is 1/k.
    const labels = new Int32Array(1000);
    let total = 0;
    const runs = 200;
    for (let s = 0; s < runs; s++) total += dirichletPartition(labels, 1, 4, 1, s)[0]?.length ?? 0;
    const meanShare = total / runs / 1000;
    assert.ok(Math.abs(meanShare - 0.25) < 0.04, `mean share ${meanShare}`);
  });

  it('is deterministic per seed', () => {
    const labels = Int32Array.from({ length: 200 }, (_, i) => i % 3);
    assert.deepEqual(dirichletPartition(labels, 3, 5, 0.5, 42), dirichletPartition(labels, 3, 5, 0.5, 42));
    assert.notDeepEqual(dirichletPartition(labels, 3, 5, 0.5, 42), dirichletPartition(labels, 3, 5, 0.5, 43));
  });

  it('rejects bad arguments, naming them', () => {
    const labels = Int32Array.from([0, 1, 2]);
    const field = (fn: () => unknown): string => {
      try {
        fn();
      } catch (err) {
        if (err instanceof ConfigError) return err.field;
        throw err;
      }
      return 'no error';
    };
    assert.equal(field(() => dirichletPartition(labels, 3, 2, 0, 1)), 'alpha');
    assert.equal(field(() => dirichletPartition(labels, 3, 0, 1, 1)), 'k');
    assert.equal(field(() => dirichletPartition(labels, 0, 2, 1, 1)), 'numClasses');
    assert.throws(() => dirichletPartition(labels, 2, 2, 1, 1), /labels\[2\] = 2 is not a class index in \[0, 2\)/);
  });
});
