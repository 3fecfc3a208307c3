/**
 * Federated Averaging. McMahan, Moore, Ramage, Hampson, Agüera y Arcas, "Communication-Efficient
 * Learning of Deep Networks from Decentralized Data", AISTATS 2017, Algorithm 1.
 */
import { ConfigError, EduFedError, ValidationError } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import { weightedAverage } from './aggregate.js';
import { checkInteger, checkNumber } from './option-checks.js';
import { sampleSize, sampleWithoutReplacement } from './sample-participants.js';
import type { ClientUpdate, Strategy, TrainInstructions, TrainPlan } from './strategy.js';

/** FedAvg hyper-parameters (paper symbols in brackets); every strategy here accepts these. */
export interface FedAvgOptions {
  /** [C] Fraction of available participants selected per round, in [0, 1]; default 1. 0 selects one. */
  readonly fractionFit?: number;
  /** Floor on the number selected (capped at the number available); integer ≥ 1, default 1. */
  readonly minFit?: number;
  /** [E] Local epochs per round; integer ≥ 1, default 1. */
  readonly epochs?: number;
  /** [B] Local mini-batch size; integer ≥ 0, default 32; 0 means the full local dataset (B = ∞). */
  readonly batchSize?: number;
  /** [η] Local learning rate; > 0, default 0.1. */
  readonly learningRate?: number;
}

/** Defaults of {@link FedAvgOptions}. */
export const FEDAVG_DEFAULTS = {
  fractionFit: 1,
  minFit: 1,
  epochs: 1,
  batchSize: 32,
  learningRate: 0.1,
} as const satisfies Required<FedAvgOptions>;

/** Throws ConfigError unless `round` is an integer ≥ 1. */
function checkRound(round: number): void {
  if (!Number.isInteger(round) || round < 1) throw new ConfigError('round', `must be an integer ≥ 1, got ${round}`);
}

/**
 * FedAvg: select m = max(⌈C·K⌉, minFit, 1) (at most K) participants uniformly at random, have each
 * run E epochs of mini-batch SGD (batch B, rate η), and replace the global model by
 * w ← Σ_k (n_k / n) w_k, with n the total examples over the updates actually received.
 *
 * Subclasses change the instructions ({@link FedAvg.trainInstructions}) or the combination of
 * updates ({@link FedAvg.combine}); selection and update validation stay here.
 */
export class FedAvg implements Strategy {
  readonly name: string = 'FedAvg';
  readonly fractionFit: number;
  readonly minFit: number;
  readonly epochs: number;
  readonly batchSize: number;
  readonly learningRate: number;

  /** @throws ConfigError naming the first invalid option. */
  constructor(options: FedAvgOptions = {}) {
    const o = { ...FEDAVG_DEFAULTS, ...options };
    this.fractionFit = checkNumber('fractionFit', o.fractionFit, { min: 0, max: 1 });
    this.minFit = checkInteger('minFit', o.minFit, 1);
    this.epochs = checkInteger('epochs', o.epochs, 1);
    this.batchSize = checkInteger('batchSize', o.batchSize, 0);
    this.learningRate = checkNumber('learningRate', o.learningRate, { min: 0, minExclusive: true });
  }

  /**
   * Samples this round's participants with `rng` and attaches the local hyper-parameters.
   * @throws ConfigError for a bad round number; ValidationError naming a participant listed twice;
   *   EduFedError (code STRATEGY) when nobody is available.
   */
  configureTrain(round: number, available: readonly string[], rng: Rng): TrainPlan {
    checkRound(round);
    if (available.length === 0) throw new EduFedError('STRATEGY', `${this.name} round ${round}: no participants available`);
    const seen = new Set<string>();
    for (const id of available) {
      if (seen.has(id)) throw new ValidationError(id, `listed twice among the available participants of round ${round}`);
      seen.add(id);
    }
    const m = sampleSize(available.length, this.fractionFit, this.minFit);
    return { selected: sampleWithoutReplacement(available, m, rng), instructions: this.trainInstructions(round) };
  }

  /**
   * Validates the updates against `global` and combines them (FedAvg: the n_k-weighted mean).
   * @throws ValidationError for an empty list, a participant that sent twice, a wrong parameter
   *   count or a bad example count (naming the participant), or a total of 0 examples.
   */
  aggregateTrain(round: number, global: Float32Array, updates: readonly ClientUpdate[]): Float32Array {
    checkRound(round);
    this.checkUpdates(round, global, updates);
    return this.combine(round, global, updates);
  }

  /** FedAvg keeps no server state. */
  state(): Record<string, Float32Array> {
    return {};
  }

  /** Accepts only the empty state. @throws ConfigError if `state` has entries (another strategy's). */
  restore(state: Readonly<Record<string, Float32Array>>): void {
    const keys = Object.keys(state);
    if (keys.length > 0) throw new ConfigError('state', `${this.name} keeps no server state, got: ${keys.join(', ')}`);
  }

  /** The local hyper-parameters sent with every selection. */
  protected trainInstructions(_round: number): TrainInstructions {
    return { epochs: this.epochs, batchSize: this.batchSize, learningRate: this.learningRate };
  }

  /** Combines validated updates; FedAvg returns Σ_k (n_k / n) w_k in a new array. */
  protected combine(_round: number, _global: Float32Array, updates: readonly ClientUpdate[]): Float32Array {
    return weightedAverage(updates.map((u) => ({ params: u.params, weight: u.numExamples })));
  }

  /** Checks what every combination rule relies on. */
  protected checkUpdates(round: number, global: Float32Array, updates: readonly ClientUpdate[]): void {
    if (updates.length === 0) throw new ValidationError(undefined, `${this.name} round ${round}: no updates to aggregate`);
    const seen = new Set<string>();
    let total = 0;
    for (const u of updates) {
      if (seen.has(u.participantId)) throw new ValidationError(u.participantId, `sent more than one update in round ${round}`);
      seen.add(u.participantId);
      if (u.params.length !== global.length) {
        throw new ValidationError(u.participantId, `update has ${u.params.length} parameters, the global model ${global.length} (round ${round})`);
      }
      if (!Number.isFinite(u.numExamples) || u.numExamples < 0) {
        throw new ValidationError(u.participantId, `numExamples must be finite and ≥ 0, got ${u.numExamples} (round ${round})`);
      }
      total += u.numExamples;
    }
    if (total <= 0) throw new ValidationError(undefined, `${this.name} round ${round}: the updates report 0 training examples in total`);
  }
}
