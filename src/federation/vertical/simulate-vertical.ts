/**
 * A whole vertical job in one process: the arbiter and every party's role object, joined by an
 * in-memory transport that delivers each message asynchronously (as a network would, never by a
 * nested call). The same role objects run in deployment; only the `send` functions differ.
 *
 * Alignment here is {@link alignByIds} over the parties' ID columns, the in-process stand-in for
 * PSI. After training it scores the given queries (joint inference and cold start), compares
 * with the centralized and label-holder-alone baselines, and finishes the job.
 */
import { ConfigError } from '../../core/errors.js';
import type { Rng } from '../../core/rng.js';
import type { Schema } from '../../data/schema.js';
import type { RawTable } from '../../data/table.js';
import { alignByIds, alignmentCounts, rowsForIds, type AlignmentCounts, type VerticalAlignment } from './align.js';
import { Arbiter, type VerticalEvent, type VerticalTrainResult } from './arbiter.js';
import type { RandomBytes } from './dealer.js';
import { FeatureHolder } from './feature-holder.js';
import { LabelHolder } from './label-holder.js';
import type { VerticalMessage, VerticalTrainConfig } from './protocol.js';
import { compareVertical, joinedDatasets, type VerticalComparison } from './vertical-report.js';

/** One platform's table. */
export interface VerticalPartyData {
  readonly id: string;
  readonly raw: RawTable;
  readonly schema: Schema;
}

/** Options of {@link simulateVertical}. */
export interface SimulateVerticalOptions {
  /** The id column every party's schema declares (the learner key alignment matches on). */
  readonly idColumn: string;
  readonly config: VerticalTrainConfig;
  /** Fraction of the label holder's learners held out for testing; default 0.2. */
  readonly testFraction?: number;
  /** Learner ids to score after training, one query per list (joint inference and cold start). */
  readonly queries?: readonly (readonly string[])[];
  /** Compute the centralized and label-holder-alone baselines (default true). */
  readonly compare?: boolean;
  /** Dealer randomness (default: the OS CSPRNG). */
  readonly randomBytes?: RandomBytes;
  /** Noise source of split-NN embeddings (default: the OS CSPRNG). */
  readonly noiseRng?: Rng;
  readonly onEvent?: (event: VerticalEvent) => void;
  /** Every party-to-party message the arbiter relays. */
  readonly onRelay?: (message: VerticalMessage) => void;
  /** Every message any end sends, before delivery (tests record what each end sees). */
  readonly onMessage?: (message: VerticalMessage) => void;
  /** Replaces each message before delivery, e.g. by its round trip through the wire codec. */
  readonly transform?: (message: VerticalMessage) => VerticalMessage;
}

/** The logistic-regression weights each party ends with (its block of the joint model). */
export interface VerticalWeights {
  readonly labelHolder: { readonly weights: Float32Array; readonly bias: number };
  readonly featureHolders: Readonly<Record<string, Float32Array>>;
}

/** A finished in-process vertical job. */
export interface VerticalSimulation {
  readonly train: VerticalTrainResult;
  readonly alignment: VerticalAlignment;
  /** Present and imputed aligned positions per party: no learner is dropped, missing ones are imputed. */
  readonly counts: readonly AlignmentCounts[];
  /** P(y = 1) per learner of each query. */
  readonly scores: readonly Float64Array[];
  readonly comparison: VerticalComparison | undefined;
  /** Logistic-regression modes only. */
  readonly weights: VerticalWeights | undefined;
  readonly labelHolder: string;
  readonly totalMs: number;
}

/**
 * Runs a vertical job over platforms that hold different columns of partly the same learners.
 * The label holder is the one platform whose schema has a label column.
 *
 * @throws {ConfigError} unless exactly one schema has a label column and there is at least one other platform.
 * @throws {DataError} on tables that do not fit their schemas or repeat a learner id.
 * @throws {EduFedError} code PARTICIPANT when a party fails during the job.
 */
export async function simulateVertical(parties: readonly VerticalPartyData[], options: SimulateVerticalOptions): Promise<VerticalSimulation> {
  const t0 = performance.now();
  const { config, idColumn } = options;
  const labelled = parties.filter((p) => p.schema.columns.some((c) => c.type === 'label'));
  const holderData = labelled[0];
  if (holderData === undefined || labelled.length !== 1) {
    throw new ConfigError('parties', `exactly one platform must hold the label column, found ${labelled.length} (${labelled.map((p) => p.id).join(', ')})`);
  }
  if (parties.length < 2) throw new ConfigError('parties', 'a vertical job needs the label holder and at least one feature holder');

  const inboxes = new Map<string, (m: VerticalMessage) => void>();
  const deliver = (to: string, message: VerticalMessage): void => {
    options.onMessage?.(message);
    const delivered = options.transform !== undefined ? options.transform(message) : message;
    queueMicrotask(() => inboxes.get(to)?.(delivered));
  };
  const partySend = (message: VerticalMessage): void => deliver('arbiter', message);
  const labelHolder = new LabelHolder(holderData.id, holderData.raw, holderData.schema, idColumn, partySend);
  const featureHolders = parties
    .filter((p) => p !== holderData)
    .map((p) => new FeatureHolder(p.id, p.raw, p.schema, idColumn, partySend, options.noiseRng !== undefined ? { noiseRng: options.noiseRng } : {}));
  const arbiter = new Arbiter(config, [labelHolder, ...featureHolders].map((p) => ({ id: p.id, role: p.endpoint.role })), {
    send: (message) => deliver(message.to.id, message),
    ...(options.randomBytes !== undefined ? { randomBytes: options.randomBytes } : {}),
    ...(options.onEvent !== undefined ? { onEvent: options.onEvent } : {}),
    ...(options.onRelay !== undefined ? { onRelay: options.onRelay } : {}),
  });
  inboxes.set('arbiter', (m) => arbiter.receive(m));
  for (const p of [labelHolder, ...featureHolders]) inboxes.set(p.id, (m) => p.receive(m));

  const ids = [labelHolder, ...featureHolders].map((p) => ({ id: p.id, ids: p.features.ids }));
  const alignment = alignByIds(ids, labelHolder.id, labelHolder.features.labels, { testFraction: options.testFraction ?? 0.2, seed: config.seed });
  let train: VerticalTrainResult;
  const scores: Float64Array[] = [];
  try {
    train = await arbiter.train(alignment);
    for (const query of options.queries ?? []) scores.push(await arbiter.score(rowsForIds(ids, query)));
  } finally {
    await arbiter.finish();
  }
  const weights: VerticalWeights | undefined =
    config.mode === 'split-nn'
      ? undefined
      : { labelHolder: labelHolder.weights(), featureHolders: Object.fromEntries(featureHolders.map((f) => [f.id, f.weights()])) };
  const comparison =
    options.compare === false
      ? undefined
      : compareVertical(joinedDatasets(labelHolder.features, featureHolders.map((f) => f.features), alignment), config, train.summary);
  return { train, alignment, counts: alignmentCounts(alignment), scores, comparison, weights, labelHolder: labelHolder.id, totalMs: performance.now() - t0 };
}

/**
 * The parties' weights in the joined layout of `joinedDatasets` (label holder's features and
 * presence columns, each feature holder's, then the bias), to compare with the centralized model.
 */
export function joinedWeights(weights: VerticalWeights, featureHolderOrder: readonly string[]): Float32Array {
  const blocks = [weights.labelHolder.weights, ...featureHolderOrder.map((id) => weights.featureHolders[id] ?? new Float32Array(0))];
  const total = blocks.reduce((s, b) => s + b.length, 0);
  const out = new Float32Array(total + 1);
  let at = 0;
  for (const b of blocks) {
    out.set(b, at);
    at += b.length;
  }
  out[total] = weights.labelHolder.bias;
  return out;
}
