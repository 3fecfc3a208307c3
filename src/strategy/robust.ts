/**
 * Byzantine-robust aggregation rules, as pure functions of the participants' parameter vectors:
 * coordinate-wise median and trimmed mean (Yin, Chen, Ramchandran, Bartlett, "Byzantine-Robust
 * Distributed Learning: Towards Optimal Statistical Rates", ICML 2018) and Krum / Multi-Krum
 * (Blanchard, El Mhamdi, Guerraoui, Stainer, "Machine Learning with Adversaries: Byzantine Tolerant
 * Gradient Descent", NeurIPS 2017).
 *
 * All three are unweighted, as in the papers: a Byzantine participant could claim any n_k.
 * NaN counts as larger than every number, so a minority of NaN-sending participants is outvoted
 * (median), trimmed (trimmed mean, if few enough) or never chosen (Krum).
 */
import { ConfigError, ValidationError } from '../core/errors.js';
import { weightedAverage } from './aggregate.js';

/** Checks for a non-empty list of equal-length vectors; returns their length. */
function commonLength(fn: string, params: readonly Float32Array[]): number {
  const first = params[0];
  if (first === undefined) throw new ValidationError(undefined, `${fn}: no parameter vectors`);
  for (let k = 1; k < params.length; k++) {
    const p = params[k] as Float32Array;
    if (p.length !== first.length) {
      throw new ValidationError(undefined, `${fn}: params[${k}] has length ${p.length}, expected ${first.length}`);
    }
  }
  return first.length;
}

function outputFor(fn: string, n: number, out: Float32Array | undefined): Float32Array {
  const result = out ?? new Float32Array(n);
  if (result.length !== n) throw new ValidationError(undefined, `${fn}: out has length ${result.length}, expected ${n}`);
  return result;
}

/** Total order with NaN after every number (the order of `Float64Array.prototype.sort`). */
function after(a: number, b: number): boolean {
  return a > b || (a !== a && b === b);
}

/**
 * Sorts s[0..n) ascending with NaN last. Insertion sort for the small n of a federation round;
 * the typed-array sort (same order) beyond that.
 */
function sortColumn(s: Float64Array): void {
  const n = s.length;
  if (n > 32) {
    s.sort();
    return;
  }
  for (let i = 1; i < n; i++) {
    const x = s[i] as number;
    let j = i - 1;
    while (j >= 0 && after(s[j] as number, x)) {
      s[j + 1] = s[j] as number;
      j--;
    }
    s[j + 1] = x;
  }
}

/**
 * Coordinate-wise median (Yin et al. 2018, Definition 1); the mean of the two middle values when
 * the count is even. Robust while fewer than half the vectors are Byzantine.
 * @throws ValidationError if `params` is empty or lengths differ (naming `params[k]`), or `out` has the wrong length.
 */
export function coordinateMedian(params: readonly Float32Array[], out?: Float32Array): Float32Array {
  const n = commonLength('coordinateMedian', params);
  const result = outputFor('coordinateMedian', n, out);
  const count = params.length;
  const col = new Float64Array(count);
  const lo = (count - 1) >> 1;
  const hi = count >> 1;
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < count; k++) col[k] = (params[k] as Float32Array)[i] as number;
    sortColumn(col);
    result[i] = ((col[lo] as number) + (col[hi] as number)) / 2;
  }
  return result;
}

/**
 * Coordinate-wise β-trimmed mean (Yin et al. 2018, Definition 2): per coordinate, drop the
 * ⌊β·n⌋ smallest and ⌊β·n⌋ largest values and average the rest. β = 0 is the plain mean.
 * @throws ConfigError naming `beta` unless 0 ≤ β < 1/2; ValidationError as {@link coordinateMedian}.
 */
export function trimmedMean(params: readonly Float32Array[], beta: number, out?: Float32Array): Float32Array {
  if (!Number.isFinite(beta) || beta < 0 || beta >= 0.5) throw new ConfigError('beta', `must be in [0, 0.5), got ${beta}`);
  const n = commonLength('trimmedMean', params);
  const result = outputFor('trimmedMean', n, out);
  const count = params.length;
  // Tolerance as in sampleSize: β·n = 2.9999999999999996 for β = 0.3, n = 10 must trim 3.
  const cut = Math.min(Math.floor(beta * count + 1e-9), (count - 1) >> 1);
  const col = new Float64Array(count);
  const kept = count - 2 * cut;
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < count; k++) col[k] = (params[k] as Float32Array)[i] as number;
    sortColumn(col);
    let s = 0;
    for (let k = cut; k < count - cut; k++) s += col[k] as number;
    result[i] = s / kept;
  }
  return result;
}

/** Coordinates per block of the pairwise-distance pass: all vectors' blocks stay in cache. */
const DIST_BLOCK = 2048;

/**
 * Krum scores (Blanchard et al. 2017, Section 4): for each vector, the sum of squared Euclidean
 * distances to its n − f − 2 nearest other vectors. O(n²·d) time, in float64.
 * @throws ConfigError naming `f` unless f is an integer with 0 ≤ f and 2f + 2 < n;
 *   ValidationError as {@link coordinateMedian}.
 */
export function krumScores(params: readonly Float32Array[], f: number): Float64Array {
  const d = commonLength('krum', params);
  const n = params.length;
  if (!Number.isInteger(f) || f < 0) throw new ConfigError('f', `must be an integer ≥ 0, got ${f}`);
  if (2 * f + 2 >= n) throw new ConfigError('f', `Krum needs n > 2f + 2 vectors; got n = ${n}, f = ${f}`);
  const dist = new Float64Array(n * n);
  for (let start = 0; start < d; start += DIST_BLOCK) {
    const end = Math.min(d, start + DIST_BLOCK);
    for (let a = 0; a < n; a++) {
      const pa = params[a] as Float32Array;
      for (let b = a + 1; b < n; b++) {
        const pb = params[b] as Float32Array;
        let s = 0;
        for (let i = start; i < end; i++) {
          const t = (pa[i] as number) - (pb[i] as number);
          s += t * t;
        }
        dist[a * n + b] = (dist[a * n + b] as number) + s;
      }
    }
  }
  const neighbours = n - f - 2;
  const scores = new Float64Array(n);
  const row = new Float64Array(n - 1);
  for (let a = 0; a < n; a++) {
    for (let b = 0, j = 0; b < n; b++) {
      if (b === a) continue;
      row[j++] = a < b ? (dist[a * n + b] as number) : (dist[b * n + a] as number);
    }
    row.sort();
    let s = 0;
    for (let j = 0; j < neighbours; j++) s += row[j] as number;
    scores[a] = s;
  }
  return scores;
}

/**
 * Indices of the m vectors with the lowest Krum scores, best first (ties: lower index first).
 * m = 1 is Krum; m > 1 is Multi-Krum.
 * @throws ConfigError naming `m` unless 1 ≤ m ≤ n; otherwise as {@link krumScores}.
 */
export function krumSelect(params: readonly Float32Array[], f: number, m = 1): number[] {
  const scores = krumScores(params, f);
  if (!Number.isInteger(m) || m < 1 || m > params.length) {
    throw new ConfigError('m', `must be an integer in [1, ${params.length}], got ${m}`);
  }
  const order = Array.from(scores.keys());
  order.sort((a, b) => {
    const sa = scores[a] as number;
    const sb = scores[b] as number;
    if (after(sa, sb)) return 1;
    if (after(sb, sa)) return -1;
    return a - b;
  });
  return order.slice(0, m);
}

/**
 * Krum (m = 1: the selected vector itself) or Multi-Krum (the unweighted mean of the m selected).
 * @throws as {@link krumSelect}.
 */
export function krum(params: readonly Float32Array[], f: number, m = 1): Float32Array {
  return weightedAverage(krumSelect(params, f, m).map((k) => ({ params: params[k] as Float32Array, weight: 1 })));
}
