/**
 * FedMedian: FedAvg's selection with the coordinate-wise median as aggregation rule (Yin, Chen,
 * Ramchandran, Bartlett, "Byzantine-Robust Distributed Learning: Towards Optimal Statistical
 * Rates", ICML 2018).
 */
import { FedAvg, type FedAvgOptions } from './fedavg.js';
import { coordinateMedian } from './robust.js';
import type { ClientUpdate } from './strategy.js';

/** FedMedian takes FedAvg's options. */
export type FedMedianOptions = FedAvgOptions;

/**
 * FedMedian: the new global model is the coordinate-wise median of the updates (unweighted, so a
 * participant cannot buy influence by over-reporting n_k). Tolerates fewer than half Byzantine updates.
 */
export class FedMedian extends FedAvg {
  override readonly name: string = 'FedMedian';

  /** @throws ConfigError naming the first invalid option. */
  constructor(options: FedMedianOptions = {}) {
    super(options);
  }

  protected override combine(_round: number, _global: Float32Array, updates: readonly ClientUpdate[]): Float32Array {
    return coordinateMedian(updates.map((u) => u.params));
  }
}
