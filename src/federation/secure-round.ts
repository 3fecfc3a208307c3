/**
 * What a secure-aggregation round (SecAgg+ or CKKS) gives the coordinator's horizontal workflow:
 * the weighted sum of the survivors' model deltas and nothing about any one of them. Both protocols
 * implement {@link SecureRoundRunner}; the workflow turns the sum into the next global model.
 */
import type { EvalSummary } from '../core/metrics.js';
import type { TrainInstructions } from '../strategy/strategy.js';

/** What the coordinator asks of one secure round. */
export interface SecureRoundInput {
  readonly jobId: string;
  /** 1-based round number. */
  readonly round: number;
  /** Participants selected to train, sorted. */
  readonly selected: readonly string[];
  /** The global model sent for training (w^t). Must not be mutated. */
  readonly global: Float32Array;
  readonly instructions: TrainInstructions;
  /** Ask participants to evaluate `global` on their test split before training (piggybacked evaluation). */
  readonly evaluate: boolean;
  /** Deadline of each request of the round. */
  readonly timeoutMs: number;
  /** Quorum: the round fails when fewer participants' inputs end up in the aggregate. */
  readonly minParticipants: number;
}

/** A participant left out of a secure round, and why. */
export interface SecureDropped {
  readonly participantId: string;
  readonly reason: string;
  /** True when it sent something invalid, false when it failed or timed out. */
  readonly flagged: boolean;
}

/** Plain metadata a participant reveals in every mode (the plain protocol reveals the same). */
export interface SecureMeta {
  /** Mean local training loss. */
  readonly loss: number;
  readonly trainMs: number;
  /** The evaluation of `global` on the local test split, when `evaluate` was set. */
  readonly summary?: EvalSummary;
}

/** What one secure round yields. */
export interface SecureRoundOutput {
  /** Σ_k w_k · (x_k − global) over the survivors, in float64 (length = global.length). */
  readonly weightedDeltaSum: Float64Array;
  /** Σ_k w_k over the survivors. */
  readonly weightSum: number;
  /** Participants whose input is in the sum, sorted. */
  readonly survivors: readonly string[];
  readonly dropped: readonly SecureDropped[];
  /** Participants whose input is in the sum but who failed a later stage (SecAgg+ unmask); the round survived them. */
  readonly failedAfterInput?: readonly SecureDropped[];
  readonly meta: ReadonlyMap<string, SecureMeta>;
  /** Bytes sent and received by the coordinator in this round (for overhead reports). */
  readonly bytes?: { readonly sent: number; readonly received: number };
}

/**
 * Runs one secure round among the selected participants.
 * @throws RoundError-like EduFedError (code ROUND) when fewer than the quorum or the protocol's
 *   threshold remain; nothing about any individual input is revealed in that case.
 */
export type SecureRoundRunner = (input: SecureRoundInput) => Promise<SecureRoundOutput>;
