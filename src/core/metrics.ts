/**
 * Classification metrics, in two forms:
 * - exact, from the pooled predictions (`metricsExact`, `aucExact`, ...), for a single party;
 * - mergeable, from an {@link EvalSummary} that each participant computes on its own rows and the
 *   coordinator adds up (`summarize` → `mergeSummaries` → `metricsFromSummary`), so that no
 *   participant reveals its per-row scores. Accuracy, F1 and log-loss are exact after merging;
 *   AUC comes from score histograms and is exact up to pairs of scores falling in the same bin.
 *
 * Conventions shared by every function here. `probs` holds, for n rows, P(y = 1) when k = 2 and
 * n × k class probabilities (row-major) when k > 2; `y` holds the class index of each row. The
 * predicted class is `p ≥ 0.5` for k = 2 and the first arg-max for k > 2.
 */
import { ConfigError, DataError, ValidationError } from './errors.js';

/** Summary metrics of a classifier on a set of rows. */
export interface Metrics {
  /** Number of rows. */
  readonly n: number;
  /** Fraction of rows whose predicted class is the true class. */
  readonly accuracy: number;
  /** ROC AUC: of the positive class for k = 2, the unweighted mean of one-vs-rest AUCs for k > 2; NaN when undefined. */
  readonly auc: number;
  /** F1 of the positive class for k = 2; macro F1 (over classes seen in labels or predictions) for k > 2. */
  readonly f1: number;
  /** Mean cross-entropy, with probabilities clipped to [1e-15, 1 − 1e-15]. */
  readonly logLoss: number;
}

/** Number of equal-width score bins over [0, 1] in an {@link EvalSummary}. */
export const SUMMARY_BINS = 4096;

/** Lower clip of a probability inside a log-loss, as in common ML toolkits. */
export const LOG_LOSS_EPS = 1e-15;

/**
 * Mergeable evaluation counts: additive over disjoint sets of rows, plain JSON.
 * Per-class score histograms replace the per-row scores that exact AUC would need.
 */
export interface EvalSummary {
  readonly n: number;
  readonly numClasses: number;
  /** Σ of the per-row clipped cross-entropy. */
  readonly lossSum: number;
  /** Rows whose predicted class is the true class. */
  readonly correct: number;
  /** k × k counts, row-major: `confusion[t * k + p]` rows of true class t predicted as p. */
  readonly confusion: readonly number[];
  /** Number of bins of every histogram ({@link SUMMARY_BINS}). */
  readonly bins: number;
  /**
   * Histograms of the score of each scored class over the rows of that class: one histogram (the
   * positive class's P(y = 1)) when k = 2, k histograms (P(class c)) when k > 2. Bin b counts
   * scores in [b/B, (b+1)/B), the last bin also holds 1.
   */
  readonly positives: readonly (readonly number[])[];
  /** Same as `positives`, over the rows not of that class. */
  readonly negatives: readonly (readonly number[])[];
}

// ---------------------------------------------------------------------------------------------
// Exact metrics
// ---------------------------------------------------------------------------------------------

/**
 * Fraction of correctly classified rows.
 * @throws {ConfigError} on inconsistent sizes. @throws {DataError} on a label outside [0, k).
 */
export function accuracy(probs: Float32Array, y: Float32Array, n: number, numClasses: number): number {
  checkShapes(probs, y, n, numClasses);
  let correct = 0;
  for (let i = 0; i < n; i++) if (predictedClass(probs, i, numClasses) === label(y, i, numClasses)) correct++;
  return correct / n;
}

/**
 * ROC AUC of `scores` for the binary `labels` (1 = positive, anything else negative), as the
 * Mann–Whitney U statistic over ranks, with tied scores given their average rank.
 * Returns NaN when there are no positives or no negatives.
 */
export function aucExact(scores: ArrayLike<number>, labels: ArrayLike<number>, n: number = scores.length): number {
  if (!Number.isInteger(n) || n < 0 || n > scores.length || n > labels.length) {
    throw new ConfigError('n', `${n} rows requested but scores has ${scores.length} and labels ${labels.length}`);
  }
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => scores[a]! - scores[b]!);
  let rankSumPos = 0;
  let nPos = 0;
  let i = 0;
  while (i < n) {
    let j = i + 1;
    const s = scores[order[i]!]!;
    while (j < n && scores[order[j]!]! === s) j++;
    // Ranks i+1 .. j share the average rank (i + 1 + j) / 2.
    const avgRank = (i + 1 + j) / 2;
    for (let t = i; t < j; t++) {
      if (labels[order[t]!] === 1) {
        rankSumPos += avgRank;
        nPos++;
      }
    }
    i = j;
  }
  const nNeg = n - nPos;
  if (nPos === 0 || nNeg === 0) return NaN;
  return (rankSumPos - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

/**
 * F1 score: of the positive class when k = 2, else the macro mean over classes that occur in the
 * labels or the predictions. A binary task with no positive label and no positive prediction scores 0.
 * @throws {ConfigError} on inconsistent sizes. @throws {DataError} on a label outside [0, k).
 */
export function f1(probs: Float32Array, y: Float32Array, n: number, numClasses: number): number {
  checkShapes(probs, y, n, numClasses);
  return f1FromConfusion(confusionOf(probs, y, n, numClasses), numClasses);
}

/**
 * Mean cross-entropy of the true class, with each probability clipped to [1e-15, 1 − 1e-15].
 * @throws {ConfigError} on inconsistent sizes. @throws {DataError} on a label outside [0, k).
 */
export function logLoss(probs: Float32Array, y: Float32Array, n: number, numClasses: number): number {
  checkShapes(probs, y, n, numClasses);
  let s = 0;
  for (let i = 0; i < n; i++) s += rowLoss(probs, i, label(y, i, numClasses), numClasses);
  return s / n;
}

/**
 * All of {@link Metrics}, exactly, from pooled predictions. k > 2 AUC is the macro one-vs-rest
 * AUC over classes having both positive and negative rows. Every metric is NaN when n = 0.
 * @throws {ConfigError} on inconsistent sizes. @throws {DataError} on a label outside [0, k).
 */
export function metricsExact(probs: Float32Array, y: Float32Array, n: number, numClasses: number): Metrics {
  checkShapes(probs, y, n, numClasses);
  const confusion = confusionOf(probs, y, n, numClasses);
  let correct = 0;
  for (let c = 0; c < numClasses; c++) correct += confusion[c * numClasses + c]!;
  let auc: number;
  if (numClasses === 2) {
    auc = aucExact(probs, y, n);
  } else {
    const scores = new Float64Array(n);
    const isClass = new Uint8Array(n);
    let sum = 0;
    let used = 0;
    for (let c = 0; c < numClasses; c++) {
      for (let i = 0; i < n; i++) {
        scores[i] = probs[i * numClasses + c]!;
        isClass[i] = y[i] === c ? 1 : 0;
      }
      const a = aucExact(scores, isClass, n);
      if (!Number.isNaN(a)) {
        sum += a;
        used++;
      }
    }
    auc = used > 0 ? sum / used : NaN;
  }
  return {
    n,
    accuracy: n > 0 ? correct / n : NaN,
    auc,
    f1: n > 0 ? f1FromConfusion(confusion, numClasses) : NaN,
    logLoss: n > 0 ? logLoss(probs, y, n, numClasses) : NaN,
  };
}

// ---------------------------------------------------------------------------------------------
// Mergeable summaries
// ---------------------------------------------------------------------------------------------

/**
 * The {@link EvalSummary} of n rows of predictions.
 * @throws {ConfigError} on inconsistent sizes. @throws {DataError} on a label outside [0, k).
 */
export function summarize(probs: Float32Array, y: Float32Array, n: number, numClasses: number): EvalSummary {
  checkShapes(probs, y, n, numClasses);
  const k = numClasses;
  const scored = k === 2 ? 1 : k;
  const positives: number[][] = [];
  const negatives: number[][] = [];
  for (let c = 0; c < scored; c++) {
    positives.push(new Array<number>(SUMMARY_BINS).fill(0));
    negatives.push(new Array<number>(SUMMARY_BINS).fill(0));
  }
  const confusion = new Array<number>(k * k).fill(0);
  let lossSum = 0;
  let correct = 0;
  for (let i = 0; i < n; i++) {
    const t = label(y, i, k);
    const p = predictedClass(probs, i, k);
    confusion[t * k + p]!++;
    if (p === t) correct++;
    lossSum += rowLoss(probs, i, t, k);
    if (k === 2) {
      const hist = t === 1 ? positives[0]! : negatives[0]!;
      hist[binOf(probs[i]!)]!++;
    } else {
      for (let c = 0; c < k; c++) {
        const hist = c === t ? positives[c]! : negatives[c]!;
        hist[binOf(probs[i * k + c]!)]!++;
      }
    }
  }
  return { n, numClasses: k, lossSum, correct, confusion, bins: SUMMARY_BINS, positives, negatives };
}

/**
 * Adds summaries of disjoint row sets into the summary of their union.
 * @throws {ConfigError} for an empty list. @throws {ValidationError} when class counts or bin counts differ.
 */
export function mergeSummaries(list: readonly EvalSummary[]): EvalSummary {
  const first = list[0];
  if (first === undefined) throw new ConfigError('list', 'mergeSummaries needs at least one summary');
  const k = first.numClasses;
  const confusion = first.confusion.slice();
  const positives = first.positives.map((h) => h.slice());
  const negatives = first.negatives.map((h) => h.slice());
  let n = first.n;
  let lossSum = first.lossSum;
  let correct = first.correct;
  for (let s = 1; s < list.length; s++) {
    const e = list[s]!;
    if (e.numClasses !== k || e.bins !== first.bins || e.positives.length !== positives.length) {
      throw new ValidationError(
        undefined,
        `summary ${s} has ${e.numClasses} classes and ${e.bins} bins, summary 0 has ${k} and ${first.bins}`,
      );
    }
    n += e.n;
    lossSum += e.lossSum;
    correct += e.correct;
    addInto(confusion, e.confusion);
    for (let c = 0; c < positives.length; c++) {
      addInto(positives[c]!, e.positives[c]!);
      addInto(negatives[c]!, e.negatives[c]!);
    }
  }
  return { n, numClasses: k, lossSum, correct, confusion, bins: first.bins, positives, negatives };
}

/**
 * {@link Metrics} from a (merged) summary. AUC counts a positive–negative pair in the same bin as
 * half a correctly ordered pair, which is what exact AUC does for tied scores; k > 2 AUC is the macro
 * one-vs-rest mean over classes with both positive and negative rows. Every metric is NaN when n = 0.
 */
export function metricsFromSummary(s: EvalSummary): Metrics {
  const k = s.numClasses;
  let sum = 0;
  let used = 0;
  for (let c = 0; c < s.positives.length; c++) {
    const a = aucFromHistograms(s.positives[c]!, s.negatives[c]!);
    if (!Number.isNaN(a)) {
      sum += a;
      used++;
    }
  }
  return {
    n: s.n,
    accuracy: s.n > 0 ? s.correct / s.n : NaN,
    auc: used > 0 ? sum / used : NaN,
    f1: s.n > 0 ? f1FromConfusion(s.confusion, k) : NaN,
    logLoss: s.n > 0 ? s.lossSum / s.n : NaN,
  };
}

/**
 * Checks that a value received from elsewhere (JSON) is a well-formed {@link EvalSummary}.
 * @throws {ValidationError} naming `participant` and the first malformed field.
 */
export function parseEvalSummary(value: unknown, participant?: string): EvalSummary {
  const fail = (what: string): never => {
    throw new ValidationError(participant, `evaluation summary: ${what}`);
  };
  if (typeof value !== 'object' || value === null) return fail('not an object');
  const v = value as Record<string, unknown>;
  const count = (name: string): number => {
    const x = v[name];
    if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < 0) return fail(`${name} is not a non-negative integer`);
    return x;
  };
  const n = count('n');
  const k = count('numClasses');
  const bins = count('bins');
  const correct = count('correct');
  if (k < 2) fail('numClasses must be at least 2');
  if (bins !== SUMMARY_BINS) fail(`bins must be ${SUMMARY_BINS}`);
  if (correct > n) fail('correct exceeds n');
  const lossSum = v['lossSum'];
  if (typeof lossSum !== 'number' || !(lossSum >= 0)) fail('lossSum is not a non-negative number');
  const countArray = (name: string, x: unknown, len: number): number[] => {
    if (!Array.isArray(x) || x.length !== len) return fail(`${name} is not an array of length ${len}`);
    const out: number[] = [];
    for (const e of x as unknown[]) {
      if (typeof e !== 'number' || !Number.isSafeInteger(e) || e < 0) return fail(`${name} holds a non-count`);
      out.push(e);
    }
    return out;
  };
  const confusion = countArray('confusion', v['confusion'], k * k);
  if (confusion.reduce((a, b) => a + b, 0) !== n) fail('confusion does not sum to n');
  const scored = k === 2 ? 1 : k;
  const hists = (name: string): number[][] => {
    const x = v[name];
    if (!Array.isArray(x) || x.length !== scored) return fail(`${name} must hold ${scored} histograms`);
    return (x as unknown[]).map((h, c) => countArray(`${name}[${c}]`, h, bins));
  };
  const positives = hists('positives');
  const negatives = hists('negatives');
  return { n, numClasses: k, lossSum: lossSum as number, correct, confusion, bins, positives, negatives };
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

function checkShapes(probs: Float32Array, y: Float32Array, n: number, k: number): void {
  if (!Number.isInteger(k) || k < 2) throw new ConfigError('numClasses', `must be an integer ≥ 2, got ${k}`);
  if (!Number.isInteger(n) || n < 0) throw new ConfigError('n', `must be a non-negative integer, got ${n}`);
  const width = k === 2 ? 1 : k;
  if (probs.length < n * width) {
    throw new ConfigError('probs', `length ${probs.length} is less than n × ${width} = ${n * width}`);
  }
  if (y.length < n) throw new ConfigError('y', `length ${y.length} is less than n = ${n}`);
}

function label(y: Float32Array, i: number, k: number): number {
  const t = y[i]!;
  if (!Number.isInteger(t) || t < 0 || t >= k) {
    throw new DataError({ row: i + 1, column: 'label' }, `label ${t} is not a class index in [0, ${k})`);
  }
  return t;
}

function predictedClass(probs: Float32Array, i: number, k: number): number {
  if (k === 2) return probs[i]! >= 0.5 ? 1 : 0;
  const off = i * k;
  let best = 0;
  let bestP = probs[off]!;
  for (let c = 1; c < k; c++) {
    const p = probs[off + c]!;
    if (p > bestP) {
      bestP = p;
      best = c;
    }
  }
  return best;
}

function rowLoss(probs: Float32Array, i: number, t: number, k: number): number {
  let p: number;
  if (k === 2) {
    const p1 = probs[i]!;
    p = t === 1 ? p1 : 1 - p1;
  } else {
    p = probs[i * k + t]!;
  }
  const clipped = Math.min(Math.max(p, LOG_LOSS_EPS), 1 - LOG_LOSS_EPS);
  return -Math.log(clipped);
}

function binOf(p: number): number {
  // p * 4096 is exact in float64, so binning is identical on every party.
  if (!(p > 0)) return 0;
  if (p >= 1) return SUMMARY_BINS - 1;
  return Math.floor(p * SUMMARY_BINS);
}

function confusionOf(probs: Float32Array, y: Float32Array, n: number, k: number): number[] {
  const m = new Array<number>(k * k).fill(0);
  for (let i = 0; i < n; i++) m[label(y, i, k) * k + predictedClass(probs, i, k)]!++;
  return m;
}

function f1FromConfusion(m: readonly number[], k: number): number {
  const classF1 = (c: number): { f1: number; seen: boolean } => {
    let predicted = 0;
    let actual = 0;
    for (let j = 0; j < k; j++) {
      predicted += m[j * k + c]!;
      actual += m[c * k + j]!;
    }
    const tp = m[c * k + c]!;
    const denom = predicted + actual;
    // 2·TP / (2·TP + FP + FN) = 2·TP / (predicted + actual).
    return { f1: denom > 0 ? (2 * tp) / denom : 0, seen: denom > 0 };
  };
  if (k === 2) return classF1(1).f1;
  let sum = 0;
  let seen = 0;
  for (let c = 0; c < k; c++) {
    const r = classF1(c);
    if (r.seen) {
      sum += r.f1;
      seen++;
    }
  }
  return seen > 0 ? sum / seen : 0;
}

function aucFromHistograms(pos: readonly number[], neg: readonly number[]): number {
  let negBelow = 0;
  let wins = 0;
  let nPos = 0;
  for (let b = 0; b < pos.length; b++) {
    const p = pos[b]!;
    const q = neg[b]!;
    wins += p * (negBelow + 0.5 * q);
    negBelow += q;
    nPos += p;
  }
  if (nPos === 0 || negBelow === 0) return NaN;
  return wins / (nPos * negBelow);
}

function addInto(acc: number[], add: readonly number[]): void {
  if (add.length !== acc.length) {
    throw new ValidationError(undefined, `summary arrays differ in length (${add.length} vs ${acc.length})`);
  }
  for (let i = 0; i < acc.length; i++) acc[i] = acc[i]! + add[i]!;
}
