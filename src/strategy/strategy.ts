/**
 * The strategy contract (after Flower's Strategy: configure, then aggregate). Strategies are pure:
 * no I/O, no timers; randomness comes from the injected generator. Server-optimiser state is
 * exposed through `state`/`restore` so the coordinator can checkpoint it.
 */
import type { Rng } from '../core/rng.js';

/** What a participant is asked to do locally in one round. */
export interface TrainInstructions {
  /** E: local epochs. */
  readonly epochs: number;
  /** B: local mini-batch size; 0 means the full local dataset (the paper's B = ∞). */
  readonly batchSize: number;
  /** η: local learning rate. */
  readonly learningRate: number;
  /** FedProx proximal term μ (0 or absent: plain FedAvg local objective). */
  readonly proximalMu?: number;
  /** FedPer: names of layout blocks that stay on the participant and are never sent. */
  readonly personalBlocks?: readonly string[];
  /** Differential privacy the participant applies this round (set by the job's privacy settings, not by strategies). */
  readonly privacy?: LocalPrivacyInstructions;
}

/** Differential privacy applied on the participant before anything leaves it. */
export interface LocalPrivacyInstructions {
  /** Learner-level DP-SGD (Abadi et al. 2016): per-example clip C and noise multiplier σ; Poisson sampling with q = batchSize / n. */
  readonly dpSgd?: { readonly clipNorm: number; readonly noiseMultiplier: number };
  /** L2 clip of the update (trained minus received parameters) before it is sent. */
  readonly clipUpdate?: number;
  /** Std of Gaussian noise added to the clipped update: σ·C for local DP, σ·C/√n for distributed DP. */
  readonly updateNoiseStd?: number;
  /** δ of the job's (ε, δ) guarantee, for the platform's own budget check. */
  readonly delta?: number;
}

/** A participant's trained parameters for one round. */
export interface ClientUpdate {
  readonly participantId: string;
  readonly params: Float32Array;
  /** n_k: local training examples used. */
  readonly numExamples: number;
  readonly metrics?: Readonly<Record<string, number>>;
}

/** Who trains this round, and how. */
export interface TrainPlan {
  readonly selected: readonly string[];
  readonly instructions: TrainInstructions;
}

/** Server-side federated optimisation algorithm. */
export interface Strategy {
  readonly name: string;
  /** Chooses participants for `round` (1-based) among `available` and sets local hyper-parameters. */
  configureTrain(round: number, available: readonly string[], rng: Rng): TrainPlan;
  /** Combines the updates into the next global parameters. `global` is not modified. */
  aggregateTrain(round: number, global: Float32Array, updates: readonly ClientUpdate[]): Float32Array;
  /** Server state to checkpoint (optimiser moments); empty for stateless strategies. */
  state(): Record<string, Float32Array>;
  /** Restores state produced by `state()`. */
  restore(state: Readonly<Record<string, Float32Array>>): void;
}
