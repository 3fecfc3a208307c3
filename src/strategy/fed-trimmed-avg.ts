/**
 * FedTrimmedAvg: FedAvg's selection with the coordinate-wise trimmed mean as aggregation rule (Yin,
 * Chen, Ramchandran, Bartlett, "Byzantine-Robust Distributed Learning: Towards Optimal Statistical
 * Rates", ICML 2018).
 */
import { FedAvg, type FedAvgOptions } from './fedavg.js';
import { checkNumber } from './option-checks.js';
import { trimmedMean } from './robust.js';
import type { ClientUpdate } from './strategy.js';

/** FedTrimmedAvg hyper-parameters: FedAvg's plus the trimmed fraction. */
export interface FedTrimmedAvgOptions extends FedAvgOptions {
  /** [β] Fraction cut from each end per coordinate, in [0, 0.5); default 0.2 (as in Flower). */
  readonly beta?: number;
}

/**
 * FedTrimmedAvg: per coordinate, drop the ⌊β·n⌋ largest and smallest values of the n updates and
 * average the rest (unweighted). Tolerates up to ⌊β·n⌋ Byzantine updates.
 */
export class FedTrimmedAvg extends FedAvg {
  override readonly name: string = 'FedTrimmedAvg';
  readonly beta: number;

  /** @throws ConfigError naming the first invalid option. */
  constructor(options: FedTrimmedAvgOptions = {}) {
    super(options);
    this.beta = checkNumber('beta', options.beta ?? 0.2, { min: 0, max: 0.5, maxExclusive: true });
  }

  protected override combine(_round: number, _global: Float32Array, updates: readonly ClientUpdate[]): Float32Array {
    return trimmedMean(updates.map((u) => u.params), this.beta);
  }
}
