import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ConfigError, DataError, ValidationError } from './errors.js';
import {
  accuracy,
  aucExact,
  f1,
  logLoss,
  mergeSummaries,
  metricsExact,
  metricsFromSummary,
  parseEvalSummary,
  summarize,
  SUMMARY_BINS,
  type Metrics,
} from './metrics.js';
import { seededRng, type Rng } from './rng.js';

const f32 = (v: number[]): Float32Array => new Float32Array(v);

/** Class-probability rows whose arg-max is `pred[i]`. */
function probsFor(pred: number[], k: number): Float32Array {
  const out = new Float32Array(pred.length * k);
  pred.forEach((p, i) => {
    for (let c = 0; c < k; c++) out[i * k + c] = c === p ? 0.6 : 0.4 / (k - 1);
  });
  return out;
}

describe('aucExact', () => {
  it('matches the hand-computed 0.75 on a four-row example', () => {
    // Pairs (pos, neg): 0.35>0.1 yes, 0.35>0.4 no, 0.8 beats both → 3 of 4.
    assert.equal(aucExact(f32([0.1, 0.4, 0.35, 0.8]), f32([0, 0, 1, 1])), 0.75);
  });

  it('counts a tied positive–negative pair as one half', () => {
    // Pairs: 0.5 vs 0.2 win, 0.5 vs 0.5 tie, 0.9 wins twice → 3.5 / 4.
    assert.equal(aucExact(f32([0.2, 0.5, 0.5, 0.9]), f32([0, 0, 1, 1])), 0.875);
    assert.equal(aucExact(f32([0.5, 0.5, 0.5, 0.5]), f32([0, 1, 0, 1])), 0.5);
  });

  it('is 0 for a perfectly inverted ranking and NaN with a single class', () => {
    assert.equal(aucExact(f32([0.9, 0.8, 0.2, 0.1]), f32([0, 0, 1, 1])), 0);
    assert.ok(Number.isNaN(aucExact(f32([0.1, 0.2]), f32([1, 1]))));
  });
});

describe('f1, accuracy, logLoss: known answers', () => {
  it('binary F1 is the positive class F1: TP=2, FP=1, FN=1 gives 2/3', () => {
    const probs = f32([0.9, 0.8, 0.3, 0.6, 0.1]);
    const y = f32([1, 0, 1, 1, 0]);
    assert.equal(f1(probs, y, 5, 2), 2 / 3);
    assert.equal(accuracy(probs, y, 5, 2), 3 / 5);
  });

  it('multiclass F1 is the macro mean: 0.8, 0, 0 gives 0.2667', () => {
    // y = 0 1 2 0 1 2, predictions = 0 2 1 0 0 1.
    const probs = probsFor([0, 2, 1, 0, 0, 1], 3);
    const y = f32([0, 1, 2, 0, 1, 2]);
    assert.ok(Math.abs(f1(probs, y, 6, 3) - 0.8 / 3) < 1e-15);
    assert.equal(accuracy(probs, y, 6, 3), 2 / 6);
  });

  it('binary log-loss is the mean of −ln p(true class)', () => {
    const probs = f32([0.9, 0.2]);
    const expected = -(Math.log(Math.fround(0.9)) + Math.log(1 - Math.fround(0.2))) / 2;
    assert.ok(Math.abs(logLoss(probs, f32([1, 0]), 2, 2) - expected) < 1e-15);
  });

  it('multiclass log-loss uses the probability of the true class', () => {
    const probs = f32([0.7, 0.2, 0.1, 0.1, 0.1, 0.8]);
    const expected = -(Math.log(Math.fround(0.7)) + Math.log(Math.fround(0.8))) / 2;
    assert.ok(Math.abs(logLoss(probs, f32([0, 2]), 2, 3) - expected) < 1e-15);
  });

  it('log-loss clips certain-but-wrong predictions at 1e-15 instead of returning Infinity', () => {
    assert.ok(Math.abs(logLoss(f32([0]), f32([1]), 1, 2) + Math.log(1e-15)) < 1e-12);
    const wrongOne = logLoss(f32([1]), f32([0]), 1, 2);
    assert.ok(Number.isFinite(wrongOne) && wrongOne > 34 && wrongOne < 35);
  });

  it('rejects a label outside [0, k) naming the row, and short arrays naming the argument', () => {
    assert.throws(() => accuracy(f32([0.5, 0.5]), f32([0, 2]), 2, 2), (e: unknown) => e instanceof DataError && /row 2/.test(e.message));
    assert.throws(() => logLoss(f32([0.5]), f32([0, 1]), 2, 2), (e: unknown) => e instanceof ConfigError && e.field === 'probs');
  });
});

describe('metricsExact', () => {
  it('combines the exact metrics; k > 2 AUC is the macro one-vs-rest mean', () => {
    // Prepare: per class, the one-vs-rest scores are perfectly ranked, so every AUC is 1.
    const probs = f32([0.8, 0.1, 0.1, 0.2, 0.7, 0.1, 0.1, 0.2, 0.7]);
    const y = f32([0, 1, 2]);
    // Execute
    const m = metricsExact(probs, y, 3, 3);
    // Assert
    assert.equal(m.n, 3);
    assert.equal(m.accuracy, 1);
    assert.equal(m.f1, 1);
    assert.equal(m.auc, 1);
  });
});

function randomCase(rng: Rng, n: number, k: number, quantize: boolean): { probs: Float32Array; y: Float32Array } {
  const width = k === 2 ? 1 : k;
  const probs = new Float32Array(n * width);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = rng.int(k);
    if (k === 2) {
      // Scores correlated with the label so AUC is away from 0.5.
      const p = Math.min(1, Math.max(0, 0.5 + (y[i] === 1 ? 0.2 : -0.2) + 0.3 * rng.normal()));
      probs[i] = quantize ? Math.round(p * 20) / 20 : p;
    } else {
      let s = 0;
      for (let c = 0; c < k; c++) {
        const v = rng.next() + (c === y[i] ? 0.5 : 0);
        probs[i * k + c] = v;
        s += v;
      }
      for (let c = 0; c < k; c++) probs[i * k + c] = probs[i * k + c]! / s;
    }
  }
  return { probs, y };
}

function sameMetrics(a: Metrics, b: Metrics, aucTol: number): void {
  assert.equal(a.n, b.n);
  assert.equal(a.accuracy, b.accuracy);
  assert.equal(a.f1, b.f1);
  assert.ok(Math.abs(a.logLoss - b.logLoss) <= 1e-12 * Math.max(1, b.logLoss), `logLoss ${a.logLoss} vs ${b.logLoss}`);
  if (Number.isNaN(b.auc)) assert.ok(Number.isNaN(a.auc));
  else assert.ok(Math.abs(a.auc - b.auc) <= aucTol, `auc ${a.auc} vs ${b.auc}`);
}

/**
 * The histogram AUC's only approximation: a positive and a negative row whose scores share a bin
 * count as half a correct pair. The largest possible AUC error is therefore, per scored class, the
 * number of such pairs over 2·P·N, averaged like the macro AUC.
 */
function sameBinBound(probs: Float32Array, y: Float32Array, n: number, k: number): number {
  const classes = k === 2 ? [1] : Array.from({ length: k }, (_, c) => c);
  const width = k === 2 ? 1 : k;
  let sum = 0;
  let used = 0;
  for (const c of classes) {
    const pos = new Map<number, number>();
    const neg = new Map<number, number>();
    let P = 0;
    let N = 0;
    for (let i = 0; i < n; i++) {
      const p = probs[i * width + (k === 2 ? 0 : c)]!;
      const bin = p >= 1 ? SUMMARY_BINS - 1 : Math.floor(Math.max(0, p) * SUMMARY_BINS);
      const m = y[i] === c ? pos : neg;
      m.set(bin, (m.get(bin) ?? 0) + 1);
      if (y[i] === c) P++;
      else N++;
    }
    if (P === 0 || N === 0) continue;
    let tied = 0;
    for (const [bin, count] of pos) tied += count * (neg.get(bin) ?? 0);
    sum += tied / (2 * P * N);
    used++;
  }
  return used > 0 ? sum / used : 0;
}

describe('mergeable summaries', () => {
  it('metricsFromSummary(merge(parts)) equals metricsExact(pooled), AUC within the same-bin bound (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 31 }),
        fc.integer({ min: 2, max: 300 }),
        fc.constantFrom(2, 3, 5),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 4 }),
        (seed, n, k, cuts) => {
          // Prepare
          const { probs, y } = randomCase(seededRng(seed), n, k, false);
          const width = k === 2 ? 1 : k;
          const bounds = [0, ...cuts.map((c) => Math.floor(c * n)).sort((a, b) => a - b), n];
          // Execute
          const parts = [];
          for (let p = 0; p + 1 < bounds.length; p++) {
            const a = bounds[p]!;
            const b = bounds[p + 1]!;
            parts.push(summarize(probs.subarray(a * width, b * width), y.subarray(a, b), b - a, k));
          }
          const merged = metricsFromSummary(mergeSummaries(parts));
          // Assert
          sameMetrics(merged, metricsExact(probs, y, n, k), sameBinBound(probs, y, n, k) + 1e-12);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('histogram AUC is exact when scores fall on distinct bins, ties included', () => {
    // Prepare: scores on a 0.05 grid tie often, but never share a bin with a different score.
    const { probs, y } = randomCase(seededRng(7), 500, 2, true);
    // Execute
    const fromSummary = metricsFromSummary(summarize(probs, y, 500, 2));
    // Assert
    assert.ok(Math.abs(fromSummary.auc - aucExact(probs, y, 500)) < 1e-12);
  });

  it('a summary survives a JSON round trip through parseEvalSummary', () => {
    const { probs, y } = randomCase(seededRng(3), 50, 3, false);
    const s = summarize(probs, y, 50, 3);
    const back = parseEvalSummary(JSON.parse(JSON.stringify(s)), 'school-a');
    assert.deepEqual(back, s);
  });

  it('parseEvalSummary rejects a tampered summary, naming the participant', () => {
    const { probs, y } = randomCase(seededRng(4), 20, 2, false);
    const bad = { ...summarize(probs, y, 20, 2), n: 21 };
    assert.throws(
      () => parseEvalSummary(JSON.parse(JSON.stringify(bad)), 'school-b'),
      (e: unknown) => e instanceof ValidationError && e.participant === 'school-b' && /confusion/.test(e.message),
    );
    assert.throws(() => parseEvalSummary({ ...bad, n: 20, positives: [] }), ValidationError);
  });

  it('merging refuses summaries of different class counts and an empty list', () => {
    const a = summarize(f32([0.5]), f32([1]), 1, 2);
    const b = summarize(f32([0.2, 0.3, 0.5]), f32([0]), 1, 3);
    assert.throws(() => mergeSummaries([a, b]), ValidationError);
    assert.throws(() => mergeSummaries([]), ConfigError);
  });

  it('merging does not modify its inputs', () => {
    const a = summarize(f32([0.9]), f32([1]), 1, 2);
    const before = JSON.stringify(a);
    mergeSummaries([a, a]);
    assert.equal(JSON.stringify(a), before);
  });
});
