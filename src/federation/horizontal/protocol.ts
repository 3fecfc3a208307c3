/**
 * Horizontal federated learning: every message between the coordinator and a participant, declared
 * once. The coordinator sends requests; each participant answers with the matching result or an
 * error value (a participant's failure is data, not an exception that kills the round).
 *
 * Flow of one job: `stats` (aggregates for federated preprocessing) → `setup` (the agreed encoder,
 * model and split) → rounds of `train` and `evaluate` → `finish`.
 */
import type { ErrorInfo } from '../../core/errors.js';
import type { EvalSummary } from '../../core/metrics.js';
import type { EncoderSpec, LocalStats } from '../../data/encoder.js';
import type { Schema } from '../../data/schema.js';
import type { ModelSpec } from '../../models/model.js';
import type { TrainInstructions } from '../../strategy/strategy.js';

/** What the coordinator tells participants about the data task of a job. */
export interface DataTask {
  /** Fraction of each participant's rows held out for testing (stratified, seeded). */
  readonly testFraction: number;
  /** Seed of the split; the same for every participant, so the split is reproducible anywhere. */
  readonly splitSeed: number;
  /** The schema participants must apply (the federation agrees on it before the job). */
  readonly schema: Schema;
  /**
   * If set, an `id` column whose value "test" marks held-out rows (any other value: training rows),
   * for platforms that bring their own split; `testFraction` is then unused.
   */
  readonly splitColumn?: string;
}

export interface StatsRequest {
  readonly step: 'stats';
  readonly from: 'coordinator';
  readonly to: 'participant';
  readonly payload: { readonly task: DataTask };
}
export interface StatsResult {
  readonly step: 'stats-result';
  readonly from: 'participant';
  readonly to: 'coordinator';
  /** Aggregates of the participant's training rows only: counts, sums, sums of squares, category counts. */
  readonly payload: { readonly stats: LocalStats };
}

export interface SetupRequest {
  readonly step: 'setup';
  readonly from: 'coordinator';
  readonly to: 'participant';
  readonly payload: { readonly task: DataTask; readonly encoder: EncoderSpec; readonly model: ModelSpec };
}
export interface SetupResult {
  readonly step: 'setup-result';
  readonly from: 'participant';
  readonly to: 'coordinator';
  readonly payload: {
    readonly numTrain: number;
    readonly numTest: number;
    readonly dim: number;
    /** The platform's privacy budget (its policy's maximum ε), for the coordinator's budget checks. */
    readonly maxEpsilon?: number;
  };
}

export interface TrainRequest {
  readonly step: 'train';
  readonly from: 'coordinator';
  readonly to: 'participant';
  readonly payload: {
    readonly round: number;
    readonly params: Float32Array;
    readonly instructions: TrainInstructions;
    /** Evaluate `params` (the previous round's global model) on the local test split before training. */
    readonly evaluate?: boolean;
  };
}
export interface TrainResult {
  readonly step: 'train-result';
  readonly from: 'participant';
  readonly to: 'coordinator';
  readonly payload: {
    readonly round: number;
    readonly params: Float32Array;
    readonly numExamples: number;
    readonly loss: number;
    /** Local training time, for the coordination-overhead measurement. */
    readonly trainMs: number;
    /** With `evaluate`: the received model's evaluation on the local test split, before training. */
    readonly summary?: EvalSummary;
  };
}

export interface EvaluateRequest {
  readonly step: 'evaluate';
  readonly from: 'coordinator';
  readonly to: 'participant';
  readonly payload: { readonly round: number; readonly params: Float32Array };
}
export interface EvaluateResult {
  readonly step: 'evaluate-result';
  readonly from: 'participant';
  readonly to: 'coordinator';
  readonly payload: { readonly round: number; readonly summary: EvalSummary };
}

export interface FinishRequest {
  readonly step: 'finish';
  readonly from: 'coordinator';
  readonly to: 'participant';
  readonly payload: { readonly rounds: number; readonly reason: string };
}
export interface FinishResult {
  readonly step: 'finish-result';
  readonly from: 'participant';
  readonly to: 'coordinator';
  readonly payload: Readonly<Record<string, never>>;
}

export interface ErrorReply {
  readonly step: 'error';
  readonly from: 'participant';
  readonly to: 'coordinator';
  readonly payload: ErrorInfo;
}

/** Every request the coordinator sends in a horizontal job. */
export type HorizontalRequest = StatsRequest | SetupRequest | TrainRequest | EvaluateRequest | FinishRequest;
/** Every reply a participant sends in a horizontal job. */
export type HorizontalReply = StatsResult | SetupResult | TrainResult | EvaluateResult | FinishResult | ErrorReply;

/** The reply step that answers each request step. */
export const REPLY_STEP = {
  stats: 'stats-result',
  setup: 'setup-result',
  train: 'train-result',
  evaluate: 'evaluate-result',
  finish: 'finish-result',
} as const satisfies Record<HorizontalRequest['step'], HorizontalReply['step']>;

/** The reply type that answers request type R. */
export type ReplyTo<R extends HorizontalRequest> = Extract<HorizontalReply, { step: (typeof REPLY_STEP)[R['step']] }>;
