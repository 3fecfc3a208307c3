/**
 * Krum and Multi-Krum as a strategy: FedAvg's selection, Krum's choice of updates. Blanchard,
 * El Mhamdi, Guerraoui, Stainer, "Machine Learning with Adversaries: Byzantine Tolerant Gradient
 * Descent", NeurIPS 2017.
 */
import { ConfigError, EduFedError } from '../core/errors.js';
import { weightedAverage } from './aggregate.js';
import { FedAvg, type FedAvgOptions } from './fedavg.js';
import { checkInteger } from './option-checks.js';
import { krumSelect } from './robust.js';
import type { ClientUpdate } from './strategy.js';

/** Krum hyper-parameters (names as in Flower's `num_malicious_nodes`, `num_nodes_to_keep`). */
export interface KrumOptions extends FedAvgOptions {
  /** [f] Number of Byzantine participants tolerated; integer ≥ 0, default 0. */
  readonly numMalicious?: number;
  /** [m] Updates kept: 1 is Krum, more is Multi-Krum; integer ≥ 1, default 1. */
  readonly numToKeep?: number;
  /** Defaults to 2f + 3, the fewest updates for which Krum is defined; must not be lower. */
  readonly minFit?: number;
}

/**
 * Krum: score each update by the summed squared distance to its n − f − 2 nearest neighbours and
 * keep the min(m, n − f) best; the new global model is their n_k-weighted mean (as Flower does;
 * with m = 1 it is the chosen update itself). Needs n > 2f + 2 updates in every round.
 */
export class Krum extends FedAvg {
  override readonly name: string = 'Krum';
  readonly numMalicious: number;
  readonly numToKeep: number;

  /** @throws ConfigError naming the first invalid option, including a `minFit` below 2f + 3. */
  constructor(options: KrumOptions = {}) {
    const f = checkInteger('numMalicious', options.numMalicious ?? 0, 0);
    super({ ...options, minFit: options.minFit ?? 2 * f + 3 });
    if (this.minFit < 2 * f + 3) {
      throw new ConfigError('minFit', `must be ≥ 2·numMalicious + 3 = ${2 * f + 3} for Krum, got ${this.minFit}`);
    }
    this.numMalicious = f;
    this.numToKeep = checkInteger('numToKeep', options.numToKeep ?? 1, 1);
  }

  /** @throws EduFedError (code STRATEGY) when fewer than 2f + 3 updates arrived. */
  protected override combine(round: number, _global: Float32Array, updates: readonly ClientUpdate[]): Float32Array {
    const n = updates.length;
    const f = this.numMalicious;
    if (n < 2 * f + 3) {
      throw new EduFedError('STRATEGY', `Krum with numMalicious = ${f} needs at least ${2 * f + 3} updates, round ${round} has ${n}`);
    }
    const keep = Math.min(this.numToKeep, n - f);
    const chosen = krumSelect(updates.map((u) => u.params), f, keep);
    return weightedAverage(chosen.map((k) => {
      const u = updates[k] as ClientUpdate;
      return { params: u.params, weight: u.numExamples };
    }));
  }
}
