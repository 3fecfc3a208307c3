/**
 * The honest-accuracy report: the federated model against a centralized model trained on the pooled
 * training rows (same preprocessing, same model, same optimiser and number of passes) and against
 * each participant training alone, all scored on the same test rows. δ = |V_federated − V_centralized|
 * per metric.
 */
import { metricsExact, type Metrics } from '../core/metrics.js';
import { hashString, seededRng } from '../core/rng.js';
import type { Dataset } from '../data/dataset.js';
import type { Model } from '../models/model.js';
import { trainLocal } from '../models/train.js';
import { createStrategy, type StrategyConfig } from '../strategy/create-strategy.js';
import type { TrainInstructions } from '../strategy/strategy.js';

/** The metrics compared. */
export const METRIC_NAMES = ['accuracy', 'auc', 'f1', 'logLoss'] as const;
export type MetricName = (typeof METRIC_NAMES)[number];

/** One participant's view: how much it gains by federating instead of training alone. */
export interface ParticipantComparison {
  readonly id: string;
  readonly numTrain: number;
  readonly numTest: number;
  readonly federated: Metrics;
  readonly localOnly: Metrics;
  /** federated − localOnly, for accuracy and AUC (positive = federation helps). */
  readonly gain: { readonly accuracy: number; readonly auc: number };
}

/** Federated vs centralized vs local-only. */
export interface Comparison {
  readonly federated: Metrics;
  readonly centralized: Metrics;
  readonly localOnly: Metrics;
  readonly delta: Readonly<Record<MetricName, number>>;
  readonly perParticipant: readonly ParticipantComparison[];
  readonly baselineEpochs: number;
  readonly timings: { readonly centralizedMs: number; readonly localOnlyMs: number };
}

/** What the comparison needs from each participant. */
export interface ParticipantEvalData {
  readonly id: string;
  readonly train: Dataset;
  readonly test: Dataset;
  /** The parameters this participant predicts with at the end of the federated job. */
  readonly federatedParams: Float32Array;
}

function concat(parts: readonly Dataset[]): Dataset {
  const first = parts[0];
  if (first === undefined) throw new Error('concat: no datasets');
  const n = parts.reduce((s, p) => s + p.n, 0);
  const x = new Float32Array(n * first.d);
  const y = new Float32Array(n);
  let row = 0;
  for (const p of parts) {
    x.set(p.x, row * first.d);
    y.set(p.y, row);
    row += p.n;
  }
  return { x, y, n, d: first.d, numClasses: first.numClasses };
}

function probsWidth(model: Model): number {
  return model.numClasses === 2 ? 1 : model.numClasses;
}

/** Scores each participant's test rows with its own parameters and computes exact pooled metrics. */
function pooledMetrics(model: Model, rows: readonly { test: Dataset; params: Float32Array }[]): Metrics {
  const w = probsWidth(model);
  const n = rows.reduce((s, r) => s + r.test.n, 0);
  const probs = new Float32Array(n * w);
  const y = new Float32Array(n);
  let at = 0;
  for (const r of rows) {
    if (r.test.n === 0) continue;
    probs.set(model.predict(r.params, r.test.x, r.test.n), at * w);
    y.set(r.test.y, at);
    at += r.test.n;
  }
  return metricsExact(probs, y, n, model.numClasses);
}

function single(model: Model, test: Dataset, params: Float32Array): Metrics {
  return pooledMetrics(model, [{ test, params }]);
}

/**
 * Trains the centralized and local-only baselines and compares them with the federated result.
 * Baselines get the same number of passes over their data as a participant in the federation
 * (rounds × local epochs), with the same batch size and learning rate as the strategy gives it.
 */
export function compareModels(
  model: Model,
  parts: readonly ParticipantEvalData[],
  strategy: StrategyConfig,
  rounds: number,
  seed: number,
  onProgress?: (what: string) => void,
): Comparison {
  // The strategy's own local hyper-parameters (its defaults included), as a participant receives them.
  const instructions = createStrategy(strategy, model.layout).configureTrain(1, ['baseline'], seededRng(seed)).instructions;
  const baseline: TrainInstructions = {
    epochs: rounds * instructions.epochs,
    batchSize: instructions.batchSize,
    learningRate: instructions.learningRate,
  };
  const init = model.init(seededRng(hashString(`${seed}|baseline-init`)));
  onProgress?.('centralized baseline');
  const t0 = performance.now();
  const pooled = concat(parts.map((p) => p.train));
  const central = trainLocal(model, init, pooled, baseline, seededRng(hashString(`${seed}|centralized`))).params;
  const centralizedMs = performance.now() - t0;

  onProgress?.('local-only baselines');
  const t1 = performance.now();
  const local = parts.map((p) =>
    p.train.n > 0 ? trainLocal(model, init, p.train, baseline, seededRng(hashString(`${seed}|local|${p.id}`))).params : init,
  );
  const localOnlyMs = performance.now() - t1;

  const withTest = parts.map((p, i) => ({ p, local: local[i] as Float32Array })).filter(({ p }) => p.test.n > 0);
  const federated = pooledMetrics(model, withTest.map(({ p }) => ({ test: p.test, params: p.federatedParams })));
  const centralized = pooledMetrics(model, withTest.map(({ p }) => ({ test: p.test, params: central })));
  const localOnly = pooledMetrics(model, withTest.map(({ p, local: l }) => ({ test: p.test, params: l })));
  const delta = Object.fromEntries(METRIC_NAMES.map((m) => [m, Math.abs(federated[m] - centralized[m])])) as Record<MetricName, number>;
  const perParticipant = withTest.map(({ p, local: l }): ParticipantComparison => {
    const f = single(model, p.test, p.federatedParams);
    const lo = single(model, p.test, l);
    return {
      id: p.id,
      numTrain: p.train.n,
      numTest: p.test.n,
      federated: f,
      localOnly: lo,
      gain: { accuracy: f.accuracy - lo.accuracy, auc: f.auc - lo.auc },
    };
  });
  return { federated, centralized, localOnly, delta, perParticipant, baselineEpochs: baseline.epochs, timings: { centralizedMs, localOnlyMs } };
}
