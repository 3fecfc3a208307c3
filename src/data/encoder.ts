/**
 * Federated preprocessing: each participant computes {@link localStats} on its own table, the
 * coordinator merges them ({@link mergeStats}) and builds one {@link EncoderSpec} that every
 * participant then applies ({@link encode}). Vocabularies, means and standard deviations thus
 * come from aggregates only, never from pooled rows.
 *
 * Sums are kept exact (as floating-point expansions, Shewchuk 1997, "Adaptive Precision
 * Floating-Point Arithmetic and Fast Robust Geometric Predicates"), so merging is exactly
 * associative and commutative: the federation gets bit-for-bit the statistics that pooling the
 * rows would give, whatever the order or grouping of participants.
 */
import { ConfigError, DataError, ValidationError } from '../core/errors.js';
import { type JsonRecord, describe as describeValue, num, numArray, record, str, strArray } from '../core/validate.js';
import type { Schema } from './schema.js';
import type { Dataset } from './dataset.js';
import type { Table } from './table.js';
import { labelMapping } from './to-table.js';

// ---------------------------------------------------------------------------------------------
// Exact sums. An expansion is a list of doubles whose exact (unrounded) total is the value; the
// working form has non-overlapping terms in increasing magnitude, the canonical (stored) form is
// the greedy one: first term = the total rounded to nearest, next = the rest rounded, and so on.

/** Adds x to a working expansion in place, exactly (Shewchuk's Grow-Expansion, as in msum). */
function growExact(partials: number[], x: number): void {
  let i = 0;
  for (let j = 0; j < partials.length; j++) {
    let y = partials[j] ?? 0;
    if (Math.abs(x) < Math.abs(y)) {
      const t = x;
      x = y;
      y = t;
    }
    const hi = x + y;
    const lo = y - (hi - x);
    if (lo !== 0) partials[i++] = lo;
    x = hi;
  }
  partials.length = i;
  partials.push(x);
}

/** The exact total of a working expansion, correctly rounded to the nearest double (ties to even). */
function roundExpansion(partials: readonly number[]): number {
  let n = partials.length;
  if (n === 0) return 0;
  let hi = partials[--n] ?? 0;
  let lo = 0;
  while (n > 0) {
    const x = hi;
    const y = partials[--n] ?? 0;
    hi = x + y;
    lo = y - (hi - x);
    if (lo !== 0) break;
  }
  // Half-way case: the remaining terms decide whether to round away from hi.
  const next = n > 0 ? (partials[n - 1] ?? 0) : 0;
  if (n > 0 && ((lo < 0 && next < 0) || (lo > 0 && next > 0))) {
    const y = lo * 2;
    const x = hi + y;
    if (y === x - hi) hi = x;
  }
  return hi;
}

/** The canonical, order-independent form of an exact total: largest term first. */
function canonical(partials: readonly number[]): number[] {
  const rest = [...partials];
  const out: number[] = [];
  for (;;) {
    const h = roundExpansion(rest);
    if (h === 0) return out;
    out.push(h);
    growExact(rest, -h);
  }
}

const SPLITTER = 134217729; // 2^27 + 1, Dekker/Veltkamp split of a double into two 26-bit halves

/** a·b as hi + lo exactly (Dekker's TwoProduct); exact unless the product over- or underflows. */
function twoProduct(a: number, b: number): [number, number] {
  const p = a * b;
  let t = SPLITTER * a;
  const ah = t - (t - a);
  const al = a - ah;
  t = SPLITTER * b;
  const bh = t - (t - b);
  const bl = b - bh;
  return [p, al * bl - (((p - ah * bh) - al * bh) - ah * bl)];
}

// ---------------------------------------------------------------------------------------------

/** Per numeric or ordinal column: counts and exact sums of the present values and their squares. */
export interface NumericColumnStats {
  readonly column: string;
  /** Rows with a value. */
  readonly count: number;
  /** Rows without one. */
  readonly missing: number;
  /** Exact Σx as a canonical expansion: `sum[0]` is Σx rounded to a double, later terms the remainder. */
  readonly sum: readonly number[];
  /** Exact Σx² in the same form. */
  readonly sumSq: readonly number[];
}

/** Per categorical column: how often each value occurs ('' is counted as missing, not as a value). */
export interface CategoricalColumnStats {
  readonly column: string;
  readonly missing: number;
  /** [value, count] pairs sorted by value (code-unit order); no zero counts. */
  readonly counts: readonly (readonly [string, number])[];
}

/** One participant's (or a merged) summary of a table: plain JSON, safe to send to the coordinator. */
export interface LocalStats {
  readonly n: number;
  /** In schema column order. */
  readonly numeric: readonly NumericColumnStats[];
  /** In schema column order. */
  readonly categorical: readonly CategoricalColumnStats[];
  /** Rows per class index. */
  readonly labelCounts: readonly number[];
}

function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function numericColumn(t: Table, column: string): Float64Array {
  const values = t.numeric.get(column);
  if (values === undefined) throw new DataError({ file: t.source, column }, 'the table has no numeric values for this schema column');
  return values;
}

function stringColumn(t: Table, column: string): readonly string[] {
  const values = t.strings.get(column);
  if (values === undefined) throw new DataError({ file: t.source, column }, 'the table has no values for this categorical schema column');
  return values;
}

/**
 * Summarises a table for federated preprocessing: row count, exact sums per numeric/ordinal
 * column, value counts per categorical column, and class counts.
 *
 * @throws {DataError} if the table lacks a column its schema lists (a table not built by `toTable`).
 */
export function localStats(t: Table): LocalStats {
  const numeric: NumericColumnStats[] = [];
  const categorical: CategoricalColumnStats[] = [];
  for (const spec of t.schema.columns) {
    if (spec.type === 'numeric' || spec.type === 'ordinal') {
      const values = numericColumn(t, spec.name);
      const sum: number[] = [];
      const sumSq: number[] = [];
      let count = 0;
      for (let r = 0; r < t.length; r++) {
        const v = values[r] ?? Number.NaN;
        if (Number.isNaN(v)) continue;
        count++;
        growExact(sum, v);
        const [hi, lo] = twoProduct(v, v);
        growExact(sumSq, hi);
        growExact(sumSq, lo);
      }
      numeric.push({ column: spec.name, count, missing: t.length - count, sum: canonical(sum), sumSq: canonical(sumSq) });
    } else if (spec.type === 'categorical') {
      const values = stringColumn(t, spec.name);
      const counts = new Map<string, number>();
      let missing = 0;
      for (let r = 0; r < t.length; r++) {
        const v = values[r] ?? '';
        if (v === '') missing++;
        else counts.set(v, (counts.get(v) ?? 0) + 1);
      }
      categorical.push({ column: spec.name, missing, counts: [...counts].sort((a, b) => compareCodeUnits(a[0], b[0])) });
    }
  }
  const labelCounts = new Array<number>(t.numClasses).fill(0);
  for (const k of t.labels) if (k >= 0 && k < t.numClasses) labelCounts[k] = (labelCounts[k] ?? 0) + 1;
  return { n: t.length, numeric, categorical, labelCounts };
}

function names(list: readonly { readonly column: string }[]): string {
  return `[${list.map((c) => c.column).join(', ')}]`;
}

/**
 * Merges summaries of disjoint tables into the summary of their union, exactly: the result does
 * not depend on the order or grouping of `parts`.
 *
 * @throws {ValidationError} if `parts` is empty or the parts disagree on columns or class count
 *   (the message names the part index).
 */
export function mergeStats(parts: readonly LocalStats[]): LocalStats {
  const first = parts[0];
  if (first === undefined) throw new ValidationError(undefined, 'mergeStats: no statistics to merge');
  parts.forEach((p, i) => {
    const same =
      p.numeric.length === first.numeric.length &&
      p.numeric.every((c, j) => c.column === first.numeric[j]?.column) &&
      p.categorical.length === first.categorical.length &&
      p.categorical.every((c, j) => c.column === first.categorical[j]?.column);
    if (!same) {
      throw new ValidationError(
        undefined,
        `mergeStats: part ${i} has columns ${names(p.numeric)} ${names(p.categorical)}, part 0 has ${names(first.numeric)} ${names(first.categorical)}`,
      );
    }
    if (p.labelCounts.length !== first.labelCounts.length) {
      throw new ValidationError(undefined, `mergeStats: part ${i} has ${p.labelCounts.length} classes, part 0 has ${first.labelCounts.length}`);
    }
  });

  const numeric = first.numeric.map((c, j): NumericColumnStats => {
    const sum: number[] = [];
    const sumSq: number[] = [];
    let count = 0;
    let missing = 0;
    for (const p of parts) {
      const s = p.numeric[j];
      if (s === undefined) continue;
      count += s.count;
      missing += s.missing;
      for (const term of s.sum) growExact(sum, term);
      for (const term of s.sumSq) growExact(sumSq, term);
    }
    return { column: c.column, count, missing, sum: canonical(sum), sumSq: canonical(sumSq) };
  });
  const categorical = first.categorical.map((c, j): CategoricalColumnStats => {
    const counts = new Map<string, number>();
    let missing = 0;
    for (const p of parts) {
      const s = p.categorical[j];
      if (s === undefined) continue;
      missing += s.missing;
      for (const [value, k] of s.counts) counts.set(value, (counts.get(value) ?? 0) + k);
    }
    return { column: c.column, missing, counts: [...counts].sort((a, b) => compareCodeUnits(a[0], b[0])) };
  });
  const labelCounts = first.labelCounts.map((_, k) => parts.reduce((acc, p) => acc + (p.labelCounts[k] ?? 0), 0));
  return { n: parts.reduce((acc, p) => acc + p.n, 0), numeric, categorical, labelCounts };
}

// ---------------------------------------------------------------------------------------------

/** A numeric or ordinal column: one standardised feature, plus a 0/1 missing indicator if enabled. */
export interface NumericEncoding {
  readonly kind: 'numeric';
  readonly column: string;
  readonly mean: number;
  /** Population standard deviation; 1 when the column is constant or empty. */
  readonly std: number;
  /** Whether a `<column>__missing` feature follows (the column had missing values somewhere in the federation). */
  readonly missingIndicator: boolean;
}

/** A categorical column: one slot per vocabulary value, then `<column>=__other__` for missing, unseen and rare values. */
export interface OneHotEncoding {
  readonly kind: 'one-hot';
  readonly column: string;
  /** Sorted (code-unit order). */
  readonly vocabulary: readonly string[];
}

export type ColumnEncoding = NumericEncoding | OneHotEncoding;

/** The agreed encoding of a schema's columns into features: plain JSON, identical at every participant. */
export interface EncoderSpec {
  readonly version: 1;
  /** In schema column order; id, ignore and label columns produce no features. */
  readonly columns: readonly ColumnEncoding[];
  /** One name per output feature, in order. */
  readonly featureNames: readonly string[];
  readonly dim: number;
  /** 0 without a label column. */
  readonly numClasses: number;
  readonly classNames: readonly string[];
}

/** Options of {@link buildEncoder}. */
export interface EncoderOptions {
  /** Categorical values seen fewer times than this (federation-wide) go to the `__other__` slot; default 1. */
  readonly minCategoryCount?: number;
}

/** Σx / n to within rounding of the exact quotient (one correction step), so a constant column's mean is that constant. */
function meanOf(count: number, sum: readonly number[]): number {
  const q = (sum[0] ?? 0) / count;
  const residual: number[] = [];
  for (const term of sum) growExact(residual, term);
  const [hi, lo] = twoProduct(q, count);
  growExact(residual, -hi);
  growExact(residual, -lo);
  return q + roundExpansion(residual) / count;
}

/** Population variance from exact count, Σx and Σx²: (n·Σx² − (Σx)²) / n², evaluated exactly then rounded once. */
function variance(count: number, sum: readonly number[], sumSq: readonly number[]): number {
  const acc: number[] = [];
  for (const q of sumSq) {
    const [hi, lo] = twoProduct(count, q);
    growExact(acc, hi);
    growExact(acc, lo);
  }
  for (const a of sum) {
    for (const b of sum) {
      const [hi, lo] = twoProduct(a, b);
      growExact(acc, -hi);
      growExact(acc, -lo);
    }
  }
  return Math.max(0, roundExpansion(acc)) / (count * count);
}

/**
 * Builds the federation's encoder from merged statistics: numeric and ordinal columns are
 * standardised with the global mean and standard deviation (missing values become the mean, i.e.
 * 0, flagged by a `<column>__missing` feature when any participant had one); categorical columns
 * are one-hot over the values seen at least `minCategoryCount` times, plus an `__other__` slot.
 *
 * @throws {ConfigError} if `minCategoryCount` is not a positive integer.
 * @throws {ValidationError} if the statistics lack a column the schema needs.
 */
export function buildEncoder(schema: Schema, merged: LocalStats, options: EncoderOptions = {}): EncoderSpec {
  const minCount = options.minCategoryCount ?? 1;
  if (!Number.isInteger(minCount) || minCount < 1) {
    throw new ConfigError('minCategoryCount', `must be a positive integer, got ${minCount}`);
  }
  const columns: ColumnEncoding[] = [];
  const featureNames: string[] = [];
  let numClasses = 0;
  let classNames: readonly string[] = [];
  for (const spec of schema.columns) {
    if (spec.type === 'numeric' || spec.type === 'ordinal') {
      const s = merged.numeric.find((c) => c.column === spec.name);
      if (s === undefined) throw new ValidationError(undefined, `buildEncoder: the statistics have no numeric column "${spec.name}"`);
      const raw = spec.type === 'numeric' && spec.scale === 'none';
      const mean = !raw && s.count > 0 ? meanOf(s.count, s.sum) : 0;
      const sd = !raw && s.count > 0 ? Math.sqrt(variance(s.count, s.sum, s.sumSq)) : 0;
      const std = sd > 0 && Number.isFinite(sd) ? sd : 1;
      const missingIndicator = s.missing > 0;
      columns.push({ kind: 'numeric', column: spec.name, mean, std, missingIndicator });
      featureNames.push(spec.name);
      if (missingIndicator) featureNames.push(`${spec.name}__missing`);
    } else if (spec.type === 'categorical') {
      const s = merged.categorical.find((c) => c.column === spec.name);
      if (s === undefined) throw new ValidationError(undefined, `buildEncoder: the statistics have no categorical column "${spec.name}"`);
      const vocabulary = s.counts
        .filter(([, k]) => k >= minCount)
        .map(([v]) => v)
        .sort(compareCodeUnits);
      columns.push({ kind: 'one-hot', column: spec.name, vocabulary });
      for (const v of vocabulary) featureNames.push(`${spec.name}=${v}`);
      featureNames.push(`${spec.name}=__other__`);
    } else if (spec.type === 'label') {
      const mapping = labelMapping(spec);
      numClasses = mapping.numClasses;
      classNames = mapping.classNames;
    }
  }
  return { version: 1, columns, featureNames, dim: featureNames.length, numClasses, classNames };
}

/**
 * Encodes a table into a dense, row-major dataset with an agreed {@link EncoderSpec}. `y` holds
 * the class index per row (-1 for a table without a label column).
 *
 * @throws {DataError} if the table lacks a column the spec encodes, or its classes differ from the spec's.
 */
export function encode(t: Table, spec: EncoderSpec): Dataset {
  const n = t.length;
  const d = spec.dim;
  if (t.numClasses !== 0 && (t.numClasses !== spec.numClasses || t.classNames.some((c, i) => c !== spec.classNames[i]))) {
    throw new DataError(
      { file: t.source },
      `the table's classes (${t.classNames.join(', ')}) differ from the encoder's (${spec.classNames.join(', ')})`,
    );
  }
  const x = new Float32Array(n * d);
  let offset = 0;
  for (const col of spec.columns) {
    if (col.kind === 'numeric') {
      const values = numericColumn(t, col.column);
      for (let r = 0; r < n; r++) {
        const v = values[r] ?? Number.NaN;
        const base = r * d + offset;
        if (Number.isNaN(v)) {
          if (col.missingIndicator) x[base + 1] = 1;
        } else {
          x[base] = (v - col.mean) / col.std;
        }
      }
      offset += col.missingIndicator ? 2 : 1;
    } else {
      const values = stringColumn(t, col.column);
      const slot = new Map<string, number>();
      col.vocabulary.forEach((v, i) => slot.set(v, i));
      const other = col.vocabulary.length;
      for (let r = 0; r < n; r++) {
        x[r * d + offset + (slot.get(values[r] ?? '') ?? other)] = 1;
      }
      offset += other + 1;
    }
  }
  if (offset !== d) throw new DataError({ file: t.source }, `the encoder spec is inconsistent: its columns give ${offset} features, its dim is ${d}`);
  const y = new Float32Array(n);
  for (let r = 0; r < n; r++) y[r] = t.labels[r] ?? -1;
  return { x, y, n, d, numClasses: spec.numClasses };
}

// ---------------------------------------------------------------------------------------------
// Validators for statistics and specs arriving as untrusted JSON (from a participant, a file).

/** Longest expansion accepted: an exact sum of doubles never needs more than about 40 terms. */
const MAX_EXPANSION = 64;

function expansion(obj: JsonRecord, key: string, where: string, participant: string | undefined): number[] {
  const terms = numArray(obj, key, where, participant);
  if (terms.length > MAX_EXPANSION) {
    throw new ValidationError(participant, `${where}.${key}: ${terms.length} terms, at most ${MAX_EXPANSION} expected`);
  }
  return canonical(growAll(terms));
}

function growAll(terms: readonly number[]): number[] {
  const partials: number[] = [];
  for (const t of terms) growExact(partials, t);
  return partials;
}

function list(obj: JsonRecord, key: string, where: string, participant: string | undefined): readonly unknown[] {
  const v = obj[key];
  if (!Array.isArray(v)) throw new ValidationError(participant, `${where}.${key}: expected an array, got ${describeValue(v)}`);
  return v;
}

/**
 * Checks untrusted JSON as {@link LocalStats}: every count a non-negative integer consistent with
 * `n`, every sum finite, category values unique strings. Sums are re-canonicalised.
 *
 * @param participant who sent it, named in errors.
 * @throws {ValidationError} naming the participant and the offending field.
 */
export function parseLocalStats(json: unknown, participant?: string): LocalStats {
  const where = 'stats';
  const obj = record(json, where, participant);
  const n = num(obj, 'n', where, optionsFor(participant, { integer: true, min: 0 }));
  const numeric = list(obj, 'numeric', where, participant).map((item, i): NumericColumnStats => {
    const at = `${where}.numeric[${i}]`;
    const c = record(item, at, participant);
    const column = str(c, 'column', at, participant);
    const count = num(c, 'count', at, optionsFor(participant, { integer: true, min: 0, max: n }));
    const missing = num(c, 'missing', at, optionsFor(participant, { integer: true, min: 0, max: n }));
    if (count + missing !== n) throw new ValidationError(participant, `${at}: count ${count} + missing ${missing} is not n = ${n}`);
    const sum = expansion(c, 'sum', at, participant);
    const sumSq = expansion(c, 'sumSq', at, participant);
    if ((sumSq[0] ?? 0) < 0) throw new ValidationError(participant, `${at}.sumSq: a sum of squares cannot be negative`);
    return { column, count, missing, sum, sumSq };
  });
  const categorical = list(obj, 'categorical', where, participant).map((item, i): CategoricalColumnStats => {
    const at = `${where}.categorical[${i}]`;
    const c = record(item, at, participant);
    const column = str(c, 'column', at, participant);
    const missing = num(c, 'missing', at, optionsFor(participant, { integer: true, min: 0, max: n }));
    let total = missing;
    const seen = new Set<string>();
    const counts = list(c, 'counts', at, participant).map((pair, j): [string, number] => {
      const tuple: readonly unknown[] = Array.isArray(pair) && pair.length === 2 ? pair : [];
      const value = tuple[0];
      const k = tuple[1];
      if (typeof value !== 'string' || value === '' || typeof k !== 'number' || !Number.isInteger(k) || k < 1) {
        throw new ValidationError(participant, `${at}.counts[${j}]: expected [non-empty value, positive integer count]`);
      }
      if (seen.has(value)) throw new ValidationError(participant, `${at}.counts[${j}]: value ${describeValue(value)} listed twice`);
      seen.add(value);
      total += k;
      return [value, k];
    });
    if (total !== n) throw new ValidationError(participant, `${at}: counts and missing add up to ${total}, not n = ${n}`);
    return { column, missing, counts: counts.sort((a, b) => compareCodeUnits(a[0], b[0])) };
  });
  const labelCounts = list(obj, 'labelCounts', where, participant).map((k, i) => {
    if (typeof k !== 'number' || !Number.isInteger(k) || k < 0) {
      throw new ValidationError(participant, `${where}.labelCounts[${i}]: expected a non-negative integer, got ${describeValue(k)}`);
    }
    return k;
  });
  const labelled = labelCounts.reduce((a, b) => a + b, 0);
  if (labelCounts.length > 0 && labelled !== n) {
    throw new ValidationError(participant, `${where}.labelCounts: add up to ${labelled}, not n = ${n}`);
  }
  return { n, numeric, categorical, labelCounts };
}

function optionsFor(
  participant: string | undefined,
  opts: { integer?: boolean; min?: number; max?: number },
): { integer?: boolean; min?: number; max?: number; participant?: string } {
  return participant === undefined ? opts : { ...opts, participant };
}

function featureNamesOf(columns: readonly ColumnEncoding[]): string[] {
  const out: string[] = [];
  for (const c of columns) {
    if (c.kind === 'numeric') {
      out.push(c.column);
      if (c.missingIndicator) out.push(`${c.column}__missing`);
    } else {
      for (const v of c.vocabulary) out.push(`${c.column}=${v}`);
      out.push(`${c.column}=__other__`);
    }
  }
  return out;
}

/**
 * Checks untrusted JSON as an {@link EncoderSpec}: known column kinds, finite means, positive
 * finite standard deviations, unique vocabularies, and feature names, `dim` and classes that agree
 * with the columns.
 *
 * @param source who sent it (the coordinator, a file), named in errors.
 * @throws {ValidationError} naming the source and the offending field.
 */
export function parseEncoderSpec(json: unknown, source?: string): EncoderSpec {
  const where = 'encoder';
  const obj = record(json, where, source);
  if (obj['version'] !== 1) throw new ValidationError(source, `${where}.version: expected 1, got ${describeValue(obj['version'])}`);
  const columns = list(obj, 'columns', where, source).map((item, i): ColumnEncoding => {
    const at = `${where}.columns[${i}]`;
    const c = record(item, at, source);
    const column = str(c, 'column', at, source);
    const kind = c['kind'];
    if (kind === 'numeric') {
      const mean = num(c, 'mean', at, optionsFor(source, {}));
      const std = num(c, 'std', at, optionsFor(source, {}));
      if (!(std > 0)) throw new ValidationError(source, `${at}.std: must be positive, got ${std}`);
      const missingIndicator = c['missingIndicator'];
      if (typeof missingIndicator !== 'boolean') throw new ValidationError(source, `${at}.missingIndicator: expected true or false`);
      return { kind, column, mean, std, missingIndicator };
    }
    if (kind === 'one-hot') {
      const vocabulary = strArray(c, 'vocabulary', at, source);
      if (new Set(vocabulary).size !== vocabulary.length) throw new ValidationError(source, `${at}.vocabulary: lists a value twice`);
      return { kind, column, vocabulary };
    }
    throw new ValidationError(source, `${at}.kind: expected "numeric" or "one-hot", got ${describeValue(kind)}`);
  });
  const featureNames = strArray(obj, 'featureNames', where, source);
  const expected = featureNamesOf(columns);
  if (featureNames.length !== expected.length || featureNames.some((f, i) => f !== expected[i])) {
    throw new ValidationError(source, `${where}.featureNames: do not match the columns (expected ${expected.length} features)`);
  }
  const dim = num(obj, 'dim', where, optionsFor(source, { integer: true, min: 0 }));
  if (dim !== featureNames.length) throw new ValidationError(source, `${where}.dim: ${dim}, but there are ${featureNames.length} features`);
  const numClasses = num(obj, 'numClasses', where, optionsFor(source, { integer: true, min: 0 }));
  const classNames = strArray(obj, 'classNames', where, source);
  if (classNames.length !== numClasses) {
    throw new ValidationError(source, `${where}.classNames: ${classNames.length} names for ${numClasses} classes`);
  }
  return { version: 1, columns, featureNames, dim, numClasses, classNames };
}
