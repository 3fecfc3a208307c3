import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ConfigError } from '../../core/errors.js';
import { seededRng } from '../../core/rng.js';
import { neighbourGraph } from './neighbours.js';

const idsOf = (n: number): string[] => Array.from({ length: n }, (_, i) => `p${String(i).padStart(3, '0')}`);

test('the graph is regular and symmetric, with degree min(k, n − 1) (plus one when k and n are both odd)', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 0, max: 64 }), fc.nat(), (n, k, seed) => {
      // Prepare / Execute
      const ids = idsOf(n);
      const g = neighbourGraph(ids, k, seededRng(seed));
      // Assert
      let expected = Math.min(k, n - 1);
      if (expected % 2 === 1 && n % 2 === 1) expected += 1;
      assert.equal(g.degree, expected);
      assert.deepEqual([...g.neighbours.keys()], ids);
      for (const [id, list] of g.neighbours) {
        assert.equal(list.length, expected, `degree of ${id}`);
        assert.equal(new Set(list).size, list.length);
        assert.ok(!list.includes(id), 'no self-loop');
        for (const other of list) assert.ok(g.neighbours.get(other)?.includes(id), `${id}–${other} is symmetric`);
      }
    }),
    { numRuns: 200 },
  );
});

test('k ≥ n − 1 gives the complete graph', () => {
  for (const n of [1, 2, 5, 8]) {
    const ids = idsOf(n);
    const g = neighbourGraph(ids, n + 3, seededRng(1));
    for (const id of ids) assert.deepEqual(g.neighbours.get(id), ids.filter((x) => x !== id));
  }
});

test('the same seed and id set give the same graph whatever the input order; another seed gives another graph', () => {
  const ids = idsOf(30);
  const a = neighbourGraph(ids, 6, seededRng(42));
  const b = neighbourGraph([...ids].reverse(), 6, seededRng(42));
  const c = neighbourGraph(ids, 6, seededRng(43));
  assert.deepEqual([...a.neighbours], [...b.neighbours]);
  assert.notDeepEqual([...a.neighbours], [...c.neighbours]);
});

test('duplicate or empty ids and a negative or fractional k are refused with a ConfigError', () => {
  assert.throws(() => neighbourGraph(['a', 'b', 'a'], 2, seededRng(1)), (e: unknown) => e instanceof ConfigError && /"a" appears twice/.test(e.message));
  assert.throws(() => neighbourGraph(['a', ''], 2, seededRng(1)), (e: unknown) => e instanceof ConfigError && e.field === 'ids');
  assert.throws(() => neighbourGraph(['a', 'b'], -1, seededRng(1)), (e: unknown) => e instanceof ConfigError && e.field === 'k');
  assert.throws(() => neighbourGraph(['a', 'b'], 1.5, seededRng(1)), (e: unknown) => e instanceof ConfigError && e.field === 'k');
});
