/**
 * The honest-accuracy report of a vertical job: the vertical model against (1) the centralized
 * model trained on the joined table (the same aligned rows, the same per-party preprocessing and
 * imputation, the same model, optimiser, hyper-parameters and batch order) and (2) the label
 * holder training alone on its own features, all scored on the same test positions through
 * `summarize` / `metricsFromSummary` (`core/metrics.ts`). δ = |V_vertical − V_centralized|.
 *
 * For `plain-lr` and `secure-lr` the centralized model is `LogisticRegression` trained by
 * `trainLocal` with the job's seed, so δ measures how lossless the protocol is. For `split-nn`
 * it is an `Mlp` of comparable size (hidden layers: one embedding per party, then the top's), a
 * reference rather than an identical model.
 */
import { metricsFromSummary, summarize, type EvalSummary, type Metrics } from '../../core/metrics.js';
import { seededRng } from '../../core/rng.js';
import type { Dataset } from '../../data/dataset.js';
import { createModel } from '../../models/create-model.js';
import type { Model, ModelSpec } from '../../models/model.js';
import { trainLocal } from '../../models/train.js';
import { presenceOf, type VerticalAlignment } from './align.js';
import { alignedFeatures, appendColumns, type PartyFeatures } from './party-features.js';
import type { VerticalTrainConfig } from './protocol.js';

/** The metrics compared. */
export const VERTICAL_METRICS = ['accuracy', 'auc', 'f1', 'logLoss'] as const;
/** One of {@link VERTICAL_METRICS}. */
export type VerticalMetric = (typeof VERTICAL_METRICS)[number];

/** Vertical vs centralized vs the label holder alone. */
export interface VerticalComparison {
  readonly vertical: Metrics;
  readonly centralized: Metrics;
  readonly labelHolderAlone: Metrics;
  /** |vertical − centralized| per metric. */
  readonly delta: Readonly<Record<VerticalMetric, number>>;
  /** vertical − label holder alone per metric (positive is better for all but logLoss, where negative is). */
  readonly gainOverLabelHolder: Readonly<Record<VerticalMetric, number>>;
  /** The centralized model's parameters, in the joined layout of {@link joinedDatasets}. */
  readonly centralizedParams: Float32Array;
  readonly centralizedModel: ModelSpec;
  readonly centralizedMs: number;
}

/** The joined train and test tables, and the label holder's own. */
export interface JoinedData {
  readonly joinedTrain: Dataset;
  readonly joinedTest: Dataset;
  readonly labelHolderTrain: Dataset;
  readonly labelHolderTest: Dataset;
  /** Column ranges of the joined table: the label holder's own features, its presence columns, then each feature holder's. */
  readonly blocks: readonly { readonly party: string; readonly offset: number; readonly length: number }[];
}

function dataset(x: Float32Array, y: Float32Array, n: number, d: number): Dataset {
  return { x, y, n, d, numClasses: 2 };
}

function slice(x: Float32Array, d: number, start: number, end: number): Float32Array {
  return x.slice(start * d, end * d);
}

/**
 * The joined table a centralized model would train on, built from the same per-party encodings
 * and imputation as the vertical job: [label holder's features | presence of each feature holder |
 * each feature holder's features], at the aligned positions.
 */
export function joinedDatasets(labelHolder: PartyFeatures, featureHolders: readonly PartyFeatures[], alignment: VerticalAlignment): JoinedData {
  const n = alignment.n;
  const rowsOf = (party: string): Int32Array => alignment.rows.get(party) ?? new Int32Array(n).fill(-1);
  const own = alignedFeatures(labelHolder, rowsOf(labelHolder.party));
  const presence = featureHolders.map((f) => presenceOf(rowsOf(f.party)));
  const withPresence = appendColumns(own, n, labelHolder.d, presence);
  const parts = [{ x: withPresence, d: labelHolder.d + presence.length }, ...featureHolders.map((f) => ({ x: alignedFeatures(f, rowsOf(f.party)), d: f.d }))];
  const width = parts.reduce((s, p) => s + p.d, 0);
  const joined = new Float32Array(n * width);
  let offset = 0;
  for (const p of parts) {
    for (let i = 0; i < n; i++) joined.set(p.x.subarray(i * p.d, (i + 1) * p.d), i * width + offset);
    offset += p.d;
  }
  const y = Float32Array.from(rowsOf(labelHolder.party), (r) => labelHolder.labels[r] ?? 0);
  const nTrain = alignment.nTrain;
  const blocks = [
    { party: labelHolder.party, offset: 0, length: labelHolder.d + presence.length },
    ...featureHolders.map((f, k) => ({ party: f.party, offset: labelHolder.d + presence.length + featureHolders.slice(0, k).reduce((s, g) => s + g.d, 0), length: f.d })),
  ];
  return {
    joinedTrain: dataset(slice(joined, width, 0, nTrain), y.slice(0, nTrain), nTrain, width),
    joinedTest: dataset(slice(joined, width, nTrain, n), y.slice(nTrain), n - nTrain, width),
    labelHolderTrain: dataset(slice(own, labelHolder.d, 0, nTrain), y.slice(0, nTrain), nTrain, labelHolder.d),
    labelHolderTest: dataset(slice(own, labelHolder.d, nTrain, n), y.slice(nTrain), n - nTrain, labelHolder.d),
    blocks,
  };
}

/** The centralized counterpart of a job's model (see the module comment). */
export function centralizedSpec(config: VerticalTrainConfig, parties: number): ModelSpec {
  if (config.mode !== 'split-nn' || config.splitNn === undefined) return { kind: 'logistic', l2: config.l2 };
  return { kind: 'mlp', hidden: [config.splitNn.embedding * parties, ...config.splitNn.topHidden], l2: config.l2 };
}

function fit(model: Model, train: Dataset, config: VerticalTrainConfig): Float32Array {
  const init = model.init(seededRng(config.seed));
  return trainLocal(model, init, train, { epochs: config.epochs, batchSize: config.batchSize, learningRate: config.learningRate }, seededRng(config.seed)).params;
}

function score(model: Model, params: Float32Array, test: Dataset): Metrics {
  return metricsFromSummary(summarize(model.predict(params, test.x, test.n), test.y, test.n, 2));
}

function perMetric(f: (m: VerticalMetric) => number): Record<VerticalMetric, number> {
  return { accuracy: f('accuracy'), auc: f('auc'), f1: f('f1'), logLoss: f('logLoss') };
}

/**
 * Trains the centralized and label-holder-alone baselines with the job's plan and compares them
 * with the vertical model's test summary.
 * @throws {EduFedError} code MODEL if a baseline diverges (lower the learning rate).
 */
export function compareVertical(data: JoinedData, config: VerticalTrainConfig, vertical: EvalSummary): VerticalComparison {
  const spec = centralizedSpec(config, data.blocks.length);
  const t0 = performance.now();
  const joinedModel = createModel(spec, data.joinedTrain.d, 2);
  const centralizedParams = fit(joinedModel, data.joinedTrain, config);
  const centralizedMs = performance.now() - t0;
  const aloneModel = createModel(spec, data.labelHolderTrain.d, 2);
  const aloneParams = fit(aloneModel, data.labelHolderTrain, config);
  const v = metricsFromSummary(vertical);
  const centralized = score(joinedModel, centralizedParams, data.joinedTest);
  const labelHolderAlone = score(aloneModel, aloneParams, data.labelHolderTest);
  return {
    vertical: v,
    centralized,
    labelHolderAlone,
    delta: perMetric((m) => Math.abs(v[m] - centralized[m])),
    gainOverLabelHolder: perMetric((m) => v[m] - labelHolderAlone[m]),
    centralizedParams,
    centralizedModel: spec,
    centralizedMs,
  };
}
