/**
 * FedProx. Li, Sahu, Zaheer, Sanjabi, Talwalkar, Smith, "Federated Optimization in Heterogeneous
 * Networks", MLSys 2020.
 */
import { FedAvg, type FedAvgOptions } from './fedavg.js';
import { checkNumber } from './option-checks.js';
import type { TrainInstructions } from './strategy.js';

/** FedProx hyper-parameters: FedAvg's plus the proximal coefficient. */
export interface FedProxOptions extends FedAvgOptions {
  /**
   * [μ] Weight of the proximal term (μ/2)‖w − w_global‖² added to each local objective; ≥ 0,
   * required (the paper tunes it over {0.001, 0.01, 0.1, 1}; 0 is plain FedAvg).
   */
  readonly proximalMu: number;
}

/**
 * FedProx: FedAvg whose instructions carry μ; the participant's trainer adds the proximal term.
 * Selection and aggregation are FedAvg's (the paper's tolerance to partial work is the trainer's).
 */
export class FedProx extends FedAvg {
  override readonly name: string = 'FedProx';
  readonly proximalMu: number;

  /** @throws ConfigError naming the first invalid option. */
  constructor(options: FedProxOptions) {
    super(options);
    this.proximalMu = checkNumber('proximalMu', options.proximalMu, { min: 0 });
  }

  protected override trainInstructions(round: number): TrainInstructions {
    return { ...super.trainInstructions(round), proximalMu: this.proximalMu };
  }
}
