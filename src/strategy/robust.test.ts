import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ConfigError, ValidationError } from '../core/errors.js';
import { weightedAverage } from './aggregate.js';
import { coordinateMedian, krum, krumScores, krumSelect, trimmedMean } from './robust.js';

const vecs = (...rows: number[][]): Float32Array[] => rows.map((r) => Float32Array.from(r));

test('coordinateMedian, hand-computed: odd count takes the middle, even count the mean of the two middles', () => {
  const three = vecs([1, 5, 3], [2, 0, 9], [7, 4, -1]);
  assert.deepEqual([...coordinateMedian(three)], [2, 4, 3]);
  const four = [...three, Float32Array.of(0, 0, 0)];
  assert.deepEqual([...coordinateMedian(four)], [1.5, 2, 1.5]);
});

test('coordinateMedian sorts beyond the insertion-sort size too (40 vectors)', () => {
  const many = Array.from({ length: 40 }, (_, k) => Float32Array.of((k * 17) % 40));
  assert.deepEqual([...coordinateMedian(many)], [19.5]);
});

test('trimmedMean, hand-computed: β = 0.25 of 4 drops one value per end; β = 0 is the mean', () => {
  const four = vecs([1, -10], [2, 0], [3, 1], [100, 2]);
  assert.deepEqual([...trimmedMean(four, 0.25)], [2.5, 0.5]);
  assert.deepEqual([...trimmedMean(four, 0)], [26.5, -1.75]);
});

test('trimmedMean trims ⌊β·n⌋ despite binary rounding (β = 0.3, n = 10 trims 3 per end)', () => {
  const ten = Array.from({ length: 10 }, (_, k) => Float32Array.of(k === 0 || k === 9 ? 1000 * (k - 4.5) : k));
  // Values −4500, 1..8, 4500: trimming 3 per end leaves 3, 4, 5, 6.
  assert.deepEqual([...trimmedMean(ten, 0.3)], [4.5]);
});

test('krumScores and krumSelect, hand-computed on the line {0, 1, 2, 100} with f = 0', () => {
  // Squared distances: 0–1: 1, 0–2: 4, 1–2: 1, 100 to the others ≥ 9604; each score sums n − f − 2 = 2 nearest.
  const points = vecs([0], [1], [2], [100]);
  assert.deepEqual([...krumScores(points, 0)], [5, 2, 5, 9604 + 9801]);
  assert.deepEqual(krumSelect(points, 0), [1]);
  assert.deepEqual(krumSelect(points, 0, 3), [1, 0, 2]);
  assert.deepEqual([...krum(points, 0)], [1]);
  assert.deepEqual([...krum(points, 0, 2)], [0.5]);
});

test('robust rules reject bad arguments with typed errors naming them', () => {
  const field = (f: string) => (e: unknown): boolean => e instanceof ConfigError && e.field === f;
  const two = vecs([1], [2]);
  assert.throws(() => coordinateMedian([]), ValidationError);
  assert.throws(() => coordinateMedian(vecs([1], [1, 2])), /params\[1\] has length 2/);
  assert.throws(() => trimmedMean(two, 0.5), field('beta'));
  assert.throws(() => trimmedMean(two, -0.1), field('beta'));
  assert.throws(() => krumScores(vecs([1], [2], [3], [4]), 1), field('f')); // needs n > 4
  assert.throws(() => krumScores(vecs([1], [2], [3]), 0.5), field('f'));
  assert.throws(() => krumSelect(vecs([1], [2], [3]), 0, 4), field('m'));
});

/** Honest vectors in [−1, 1]^d and f Byzantine ones far away (huge, −huge or NaN per coordinate). */
const scenario = (maxByzantine: (honest: number) => number) =>
  fc.integer({ min: 1, max: 9 }).chain((honest) =>
    fc.record({
      honest: fc.array(fc.array(fc.float({ min: -1, max: 1, noNaN: true }), { minLength: 3, maxLength: 3 }), { minLength: honest, maxLength: honest }),
      byzantine: fc.array(fc.array(fc.constantFrom(1e30, -1e30, 1e6, Number.NaN), { minLength: 3, maxLength: 3 }), {
        minLength: 0,
        maxLength: maxByzantine(honest),
      }),
    }),
  );

function withinHonestRange(result: Float32Array, honest: readonly number[][]): boolean {
  return [...result].every((x, i) => {
    const column = honest.map((h) => h[i] as number);
    return x >= Math.min(...column) && x <= Math.max(...column);
  });
}

test('property: with f < n/2 Byzantine vectors the coordinate median stays within the honest range', () => {
  fc.assert(
    fc.property(scenario((h) => h - 1), ({ honest, byzantine }) => {
      const all = vecs(...honest, ...byzantine);
      assert.ok(withinHonestRange(coordinateMedian(all), honest));
    }),
  );
});

test('property: with f ≤ ⌊β·n⌋ Byzantine vectors the trimmed mean stays within the honest range', () => {
  fc.assert(
    fc.property(scenario((h) => Math.floor((0.4 * h) / 0.6)), ({ honest, byzantine }) => {
      const all = vecs(...honest, ...byzantine);
      fc.pre(byzantine.length <= Math.floor(0.4 * all.length + 1e-9));
      assert.ok(withinHonestRange(trimmedMean(all, 0.4), honest));
    }),
  );
});

test('property: with n > 2f + 2, Krum and Multi-Krum (m ≤ n − f) pick only honest vectors', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 3 }).chain((f) =>
        fc.record({
          f: fc.constant(f),
          honest: fc.array(fc.array(fc.float({ min: -1, max: 1, noNaN: true }), { minLength: 3, maxLength: 3 }), { minLength: f + 3, maxLength: f + 8 }),
          // Colluding attackers send the same far-away vector: zero distance among themselves.
          attack: fc.array(fc.constantFrom(1e6, -1e6, 1e3, Number.NaN), { minLength: 3, maxLength: 3 }),
          m: fc.integer({ min: 1, max: 3 }),
        }),
      ),
      ({ f, honest, attack, m }) => {
        const all = vecs(...honest, ...Array.from({ length: f }, () => attack));
        const chosen = krumSelect(all, f, m);
        assert.ok(chosen.every((k) => k < honest.length), `chose ${chosen.join(',')}`);
        assert.ok(withinHonestRange(krum(all, f, m), honest));
      },
    ),
  );
});

test('contrast: one Byzantine vector drags the plain (weighted) average outside the honest range', () => {
  const honest = [[0.1, 0.2, 0.3], [0.2, 0.1, -0.3], [-0.1, 0, 0]];
  const all = vecs(...honest, [1e6, 1e6, 1e6]);
  const avg = weightedAverage(all.map((params) => ({ params, weight: 1 })));
  assert.equal(withinHonestRange(avg, honest), false);
  assert.equal(withinHonestRange(coordinateMedian(all), honest), true);
});
