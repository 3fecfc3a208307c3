/**
 * Splitting one table among simulated participants: by a natural grouping column (a school, a
 * course), IID, or label-skewed with a Dirichlet prior (Hsu, Qi and Brown 2019, "Measuring the
 * Effects of Non-Identical Data Distribution for Federated Visual Classification").
 */
import { ConfigError, DataError } from '../core/errors.js';
import { type Rng, permutation, seededRng, shuffleInPlace } from '../core/rng.js';
import type { Table } from './table.js';

/**
 * Groups row indices by the value of a column, one participant per distinct value (keys sorted in
 * code-unit order; each index list ascending). Missing values ('') form their own group under ''.
 * Numeric and ordinal columns are grouped by their value as a string ('' for missing).
 *
 * @throws {DataError} naming the table and listing its columns if `column` is not one of them.
 */
export function partitionByColumn(t: Table, column: string): Map<string, Uint32Array> {
  let key: (row: number) => string;
  const strings = t.strings.get(column);
  const numbers = t.numeric.get(column);
  if (strings !== undefined) {
    key = (r) => strings[r] ?? '';
  } else if (numbers !== undefined) {
    key = (r) => {
      const v = numbers[r] ?? Number.NaN;
      return Number.isNaN(v) ? '' : String(v);
    };
  } else {
    const available = [...t.strings.keys(), ...t.numeric.keys()].map((c) => JSON.stringify(c)).join(', ');
    throw new DataError({ file: t.source, column }, `cannot partition by an unknown column; the table has ${available}`);
  }
  const groups = new Map<string, number[]>();
  for (let r = 0; r < t.length; r++) {
    const k = key(r);
    let g = groups.get(k);
    if (g === undefined) {
      g = [];
      groups.set(k, g);
    }
    g.push(r);
  }
  const out = new Map<string, Uint32Array>();
  for (const k of [...groups.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
    out.set(k, Uint32Array.from(groups.get(k) ?? []));
  }
  return out;
}

function checkParticipants(k: number, n: number): void {
  if (!Number.isInteger(k) || k < 1) throw new ConfigError('k', `the number of participants must be a positive integer, got ${k}`);
  if (k > n) throw new ConfigError('k', `${k} participants but only ${n} rows; every participant needs at least one row`);
}

/**
 * Splits rows 0..n-1 uniformly at random into k parts whose sizes differ by at most one; each part sorted.
 *
 * @throws {ConfigError} if n is not a non-negative integer, k is not a positive integer, or k > n.
 */
export function iidPartition(n: number, k: number, seed: number): Uint32Array[] {
  if (!Number.isInteger(n) || n < 0) throw new ConfigError('n', `must be a non-negative integer, got ${n}`);
  checkParticipants(k, n);
  const order = permutation(n, seededRng(seed));
  const parts: Uint32Array[] = [];
  for (let p = 0; p < k; p++) {
    const from = Math.floor((p * n) / k);
    const to = Math.floor(((p + 1) * n) / k);
    parts.push(order.slice(from, to).sort());
  }
  return parts;
}

/**
 * A Gamma(shape, 1) variate (Marsaglia and Tsang 2000, "A Simple Method for Generating Gamma
 * Variables"); for shape < 1, Gamma(shape + 1) · U^(1/shape).
 */
function sampleGamma(shape: number, rng: Rng): number {
  if (shape < 1) return sampleGamma(shape + 1, rng) * Math.pow(rng.next(), 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    const x = rng.normal();
    const t = 1 + c * x;
    if (t <= 0) continue;
    const v = t * t * t;
    const u = rng.next();
    if (u < 1 - 0.0331 * x * x * x * x) return d * v;
    if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

/**
 * Label-skewed partition: for each class, proportions over the k participants are drawn from a
 * symmetric Dirichlet(α) (normalised Gamma(α) draws), and the class's shuffled rows are cut at the
 * rounded cumulative proportions. Small α gives each participant few classes; large α approaches IID.
 *
 * Afterwards every participant that got no rows takes one from the participant with the most
 * rows (lowest index on ties), so with n ≥ k no participant is empty; this nudges the skew only
 * when α is tiny. Each part is sorted ascending. Deterministic per seed.
 *
 * @throws {ConfigError} naming the argument if numClasses or k is not a positive integer, k > n,
 *   α is not a positive finite number, or a label is outside [0, numClasses).
 */
export function dirichletPartition(labels: Int32Array, numClasses: number, k: number, alpha: number, seed: number): Uint32Array[] {
  if (!Number.isInteger(numClasses) || numClasses < 1) {
    throw new ConfigError('numClasses', `must be a positive integer, got ${numClasses}`);
  }
  checkParticipants(k, labels.length);
  if (!(alpha > 0 && Number.isFinite(alpha))) throw new ConfigError('alpha', `must be a positive finite number, got ${alpha}`);
  const byClass: number[][] = Array.from({ length: numClasses }, () => []);
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i] ?? -1;
    const rows = byClass[c];
    if (rows === undefined) {
      throw new ConfigError('labels', `labels[${i}] = ${c} is not a class index in [0, ${numClasses})`);
    }
    rows.push(i);
  }

  const rng = seededRng(seed);
  const parts: number[][] = Array.from({ length: k }, () => []);
  byClass.forEach((rows, c) => {
    const classRng = rng.fork(`class ${c}`);
    shuffleInPlace(rows, classRng);
    const weights = Array.from({ length: k }, () => sampleGamma(alpha, classRng));
    let total = weights.reduce((a, b) => a + b, 0);
    if (!(total > 0)) {
      // Every draw underflowed (α very small): give the whole class to one participant.
      weights.fill(0);
      weights[classRng.int(k)] = 1;
      total = 1;
    }
    let cumulative = 0;
    let from = 0;
    for (let p = 0; p < k; p++) {
      cumulative += weights[p] ?? 0;
      const to = p === k - 1 ? rows.length : Math.min(rows.length, Math.round((cumulative / total) * rows.length));
      for (let i = from; i < to; i++) parts[p]?.push(rows[i] ?? 0);
      from = Math.max(from, to);
    }
  });

  for (const part of parts) {
    if (part.length > 0) continue;
    let donor = parts[0] ?? [];
    for (const candidate of parts) if (candidate.length > donor.length) donor = candidate;
    const row = donor.pop();
    if (row !== undefined) part.push(row);
  }
  return parts.map((p) => Uint32Array.from(p).sort());
}
