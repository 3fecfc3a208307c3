import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, SchemaError } from '../../core/errors.js';
import { toTable } from '../../data/to-table.js';
import { splitByColumns } from './split-columns.js';
import { syntheticSource, syntheticVertical } from './synthetic-scenario.js';

test('every platform table fits its own schema, holds only its columns plus both ids, and its own learners in its own order', () => {
  // Prepare
  const { raw } = syntheticSource({ n: 300, seed: 5 });
  // Execute
  const split = syntheticVertical({ n: 300, seed: 5 });
  // Assert
  const byId = new Map(raw.rows.map((r) => [r[0] ?? '', r]));
  for (const p of split.platforms) {
    const table = toTable(p.raw, p.schema);
    assert.equal(table.length, split.stats.perPlatform.find((s) => s.id === p.id)?.learners);
    assert.deepEqual(p.raw.header.slice(0, 2), ['learner_id', 'local_id']);
    assert.equal(p.schema.columns.filter((c) => c.type === 'label').length, p.id === 'C' ? 1 : 0);
    for (const row of p.raw.rows) {
      const source = byId.get(row[0] ?? '');
      assert.ok(source !== undefined);
      p.raw.header.slice(2).forEach((column, k) => assert.equal(row[k + 2], source[raw.header.indexOf(column)]));
    }
    assert.ok(p.raw.rows[0]?.[1]?.startsWith(`${p.id}-`));
    const ids = p.raw.rows.map((r) => r[0]);
    assert.notDeepEqual(ids, [...ids].sort(), `platform ${p.id} keeps the source order`);
  }
});

test('the overlap statistics match the tables, and the same seed gives the same split', () => {
  const a = syntheticVertical({ n: 400, seed: 9 });
  const b = syntheticVertical({ n: 400, seed: 9 });
  assert.deepEqual(a, b);
  const sets = new Map(a.platforms.map((p) => [p.id, new Set(p.raw.rows.map((r) => r[0]))]));
  for (const pair of a.stats.pairs) {
    const sa = sets.get(pair.a) ?? new Set();
    const sb = sets.get(pair.b) ?? new Set();
    const both = [...sa].filter((k) => sb.has(k)).length;
    assert.equal(pair.both, both);
    assert.equal(pair.shareOfA, both / sa.size);
  }
  const anywhere = new Set([...sets.values()].flatMap((s) => [...s]));
  assert.equal(a.stats.onNone, 400 - anywhere.size);
  assert.ok(a.stats.perPlatform.every((p) => p.onlyHere > 0), 'some learners are on one platform only');
  assert.notDeepEqual(syntheticVertical({ n: 400, seed: 10 }).stats, a.stats);
});

test('presence probabilities set the expected overlap: with 0.9 and 0.8, about 80% of the first platform is on the second', () => {
  const { raw, schema } = syntheticSource({ n: 4000, seed: 2 });
  const split = splitByColumns(raw, schema, {
    idColumn: 'learner_id',
    seed: 3,
    groups: [
      { id: 'X', columns: ['a_age', 'a_credits', 'a_region', 'b_clicks', 'b_forum'], presence: 0.9 },
      { id: 'Y', columns: ['c_score', 'passed'], presence: 0.8 },
    ],
  });
  const [pair] = split.stats.pairs;
  assert.ok(pair !== undefined && Math.abs(pair.shareOfA - 0.8) < 0.03 && Math.abs(pair.shareOfB - 0.9) < 0.03, JSON.stringify(pair));
});

test('a column held twice, a column held by nobody, a bad presence or a non-id key column is refused', () => {
  const { raw, schema } = syntheticSource({ n: 20 });
  const all = ['a_age', 'a_credits', 'a_region', 'b_clicks', 'b_forum', 'c_score', 'passed'];
  const split = (groups: { id: string; columns: string[]; presence: number }[], idColumn = 'learner_id'): unknown => splitByColumns(raw, schema, { idColumn, seed: 1, groups });
  assert.throws(() => split([{ id: 'A', columns: all, presence: 1 }, { id: 'B', columns: ['a_age'], presence: 1 }]), /already held by platform A/);
  assert.throws(() => split([{ id: 'A', columns: all.slice(1), presence: 1 }, { id: 'B', columns: [], presence: 1 }]), /"a_age" \(numeric\) is held by no platform/);
  assert.throws(() => split([{ id: 'A', columns: all, presence: 1.5 }, { id: 'B', columns: [], presence: 1 }]), ConfigError);
  assert.throws(() => split([{ id: 'A', columns: all, presence: 1 }]), /at least two platforms/);
  assert.throws(() => split([{ id: 'A', columns: all.slice(1), presence: 1 }, { id: 'B', columns: ['learner_id'], presence: 1 }], 'a_age'), SchemaError);
});
