/**
 * Train/test splits that keep each class's share the same on both sides.
 */
import { ConfigError } from '../core/errors.js';
import { seededRng, shuffleInPlace } from '../core/rng.js';

/** Row indices of the two sides of a split, each sorted ascending. */
export interface SplitIndices {
  readonly train: Uint32Array;
  readonly test: Uint32Array;
}

/**
 * A seeded, stratified train/test split: within each label value (unlabelled rows, -1, form their
 * own group) the rows are shuffled and `round(testFraction · count)` of them go to the test side.
 * The same labels, fraction and seed always give the same split.
 *
 * @throws {ConfigError} if `testFraction` is not in [0, 1] or `seed` is not an integer.
 */
export function stratifiedSplit(labels: Int32Array, testFraction: number, seed: number): SplitIndices {
  if (!(testFraction >= 0 && testFraction <= 1)) {
    throw new ConfigError('testFraction', `must be a number in [0, 1], got ${testFraction}`);
  }
  if (!Number.isInteger(seed)) throw new ConfigError('seed', `must be an integer, got ${seed}`);
  const groups = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i++) {
    const k = labels[i] ?? -1;
    let g = groups.get(k);
    if (g === undefined) {
      g = [];
      groups.set(k, g);
    }
    g.push(i);
  }
  const rng = seededRng(seed);
  const train: number[] = [];
  const test: number[] = [];
  // Classes in ascending order, each with its own forked stream, so one class's size does not
  // change how another class is shuffled.
  for (const k of [...groups.keys()].sort((a, b) => a - b)) {
    const rows = shuffleInPlace(groups.get(k) ?? [], rng.fork(`class ${k}`));
    const nTest = Math.round(testFraction * rows.length);
    for (let i = 0; i < rows.length; i++) (i < nTest ? test : train).push(rows[i] ?? 0);
  }
  const sorted = (xs: number[]): Uint32Array => Uint32Array.from(xs).sort();
  return { train: sorted(train), test: sorted(test) };
}
