/**
 * Adaptive federated optimisation: FedAdagrad, FedAdam and FedYogi. Reddi, Charles, Zaheer,
 * Garrett, Rush, Konečný, Kumar, McMahan, "Adaptive Federated Optimization", ICLR 2021
 * (arXiv:2003.00295), Algorithm 2.
 *
 * Defaults follow Flower's `flwr.serverapp.strategy` (FedAdam: η = 0.1, η_l = 0.1, β1 = 0.9,
 * β2 = 0.99, τ = 1e-3; FedYogi: η = 0.01, η_l = 0.0316; FedAdagrad: η = 0.1, η_l = 0.1, β1 = 0);
 * Flower's older `flwr.server.strategy` used τ = 1e-9 for FedAdam and FedAdagrad.
 */
import { ConfigError } from '../core/errors.js';
import { FedAvg, type FedAvgOptions } from './fedavg.js';
import { checkNumber } from './option-checks.js';
import type { ClientUpdate } from './strategy.js';

/** Hyper-parameters shared by the FedOpt family (FedAvg's `learningRate` is the local η_l). */
export interface FedOptOptions extends FedAvgOptions {
  /** [η] Server learning rate; > 0. */
  readonly eta?: number;
  /** [β1] First-moment decay, in [0, 1). */
  readonly beta1?: number;
  /** [τ] Degree of adaptivity: added to √v, and v starts at τ²; > 0. */
  readonly tau?: number;
}

/** FedAdam and FedYogi also take the second-moment decay. */
export interface FedAdamOptions extends FedOptOptions {
  /** [β2] Second-moment decay, in [0, 1). */
  readonly beta2?: number;
}

/** FedYogi takes the same options as FedAdam. */
export type FedYogiOptions = FedAdamOptions;
/** FedAdagrad has no β2. */
export type FedAdagradOptions = FedOptOptions;

interface FedOptDefaults {
  readonly eta: number;
  readonly beta1: number;
  readonly tau: number;
  readonly learningRate: number;
}

/**
 * The shared server step of Algorithm 2. With x the global model and x̄ the n_k-weighted mean of
 * the updates (Flower's weighting; the paper averages the client deltas unweighted):
 * Δ = x̄ − x; m ← β1·m + (1 − β1)·Δ; v ← (variant); x ← x + η·m / (√v + τ).
 * m starts at 0 and v at τ² (the paper's v₋₁ ≥ τ²); there is no bias correction, as in the paper
 * (Flower's FedAdam adds one). m, v and Δ are stored as float32, the arithmetic is float64, so a
 * restored instance continues bit-identically.
 */
export abstract class FedOpt extends FedAvg {
  readonly eta: number;
  readonly beta1: number;
  readonly tau: number;
  private m: Float32Array | undefined;
  private v: Float32Array | undefined;

  /** @throws ConfigError naming the first invalid option. */
  protected constructor(options: FedOptOptions, defaults: FedOptDefaults) {
    super({ ...options, learningRate: options.learningRate ?? defaults.learningRate });
    this.eta = checkNumber('eta', options.eta ?? defaults.eta, { min: 0, minExclusive: true });
    this.beta1 = checkNumber('beta1', options.beta1 ?? defaults.beta1, { min: 0, max: 1, maxExclusive: true });
    this.tau = checkNumber('tau', options.tau ?? defaults.tau, { min: 0, minExclusive: true });
  }

  /**
   * FedAvg's validated weighted mean, then one adaptive server step.
   * @throws ValidationError as FedAvg; ConfigError if restored moments do not match the model size.
   */
  override aggregateTrain(round: number, global: Float32Array, updates: readonly ClientUpdate[]): Float32Array {
    const out = super.aggregateTrain(round, global, updates);
    const n = global.length;
    if (this.m === undefined || this.v === undefined) {
      this.m = new Float32Array(n);
      this.v = new Float32Array(n).fill(this.tau * this.tau);
    } else if (this.m.length !== n) {
      throw new ConfigError('state', `${this.name} moments have ${this.m.length} entries, the global model ${n}`);
    }
    const { m, v, beta1, eta, tau } = this;
    // `out` holds x̄; turn it into Δ, then into the new global.
    for (let i = 0; i < n; i++) {
      const d = (out[i] as number) - (global[i] as number);
      out[i] = d;
      m[i] = beta1 * (m[i] as number) + (1 - beta1) * (out[i] as number);
    }
    this.updateSecondMoment(v, out);
    for (let i = 0; i < n; i++) {
      out[i] = (global[i] as number) + (eta * (m[i] as number)) / (Math.sqrt(v[i] as number) + tau);
    }
    return out;
  }

  /** The moments m and v (copies), or nothing before the first aggregation. */
  override state(): Record<string, Float32Array> {
    if (this.m === undefined || this.v === undefined) return {};
    return { m: this.m.slice(), v: this.v.slice() };
  }

  /**
   * Restores moments from {@link FedOpt.state} (copied); `{}` resets to the initial state.
   * @throws ConfigError if keys other than m and v are present, only one is, or lengths differ.
   */
  override restore(state: Readonly<Record<string, Float32Array>>): void {
    const extra = Object.keys(state).filter((k) => k !== 'm' && k !== 'v');
    if (extra.length > 0) throw new ConfigError('state', `unexpected entries for ${this.name}: ${extra.join(', ')}`);
    const { m, v } = state;
    if (m === undefined && v === undefined) {
      this.m = undefined;
      this.v = undefined;
      return;
    }
    if (m === undefined || v === undefined) throw new ConfigError('state', `${this.name} needs both m and v`);
    if (m.length !== v.length) throw new ConfigError('state', `m has ${m.length} entries but v has ${v.length}`);
    this.m = m.slice();
    this.v = v.slice();
  }

  /** v ← f(v, Δ), elementwise, in place. */
  protected abstract updateSecondMoment(v: Float32Array, delta: Float32Array): void;
}

/** FedAdam: v ← β2·v + (1 − β2)·Δ². Defaults η = 0.1, η_l = 0.1, β1 = 0.9, β2 = 0.99, τ = 1e-3. */
export class FedAdam extends FedOpt {
  override readonly name: string = 'FedAdam';
  readonly beta2: number;

  /** @throws ConfigError naming the first invalid option. */
  constructor(options: FedAdamOptions = {}) {
    super(options, { eta: 0.1, beta1: 0.9, tau: 1e-3, learningRate: 0.1 });
    this.beta2 = checkNumber('beta2', options.beta2 ?? 0.99, { min: 0, max: 1, maxExclusive: true });
  }

  protected override updateSecondMoment(v: Float32Array, delta: Float32Array): void {
    const b2 = this.beta2;
    for (let i = 0; i < v.length; i++) {
      const d = delta[i] as number;
      v[i] = b2 * (v[i] as number) + (1 - b2) * d * d;
    }
  }
}

/**
 * FedYogi: v ← v − (1 − β2)·Δ²·sign(v − Δ²) (Zaheer et al. 2018's Yogi on the server).
 * Defaults η = 0.01, η_l = 0.0316, β1 = 0.9, β2 = 0.99, τ = 1e-3.
 */
export class FedYogi extends FedOpt {
  override readonly name: string = 'FedYogi';
  readonly beta2: number;

  /** @throws ConfigError naming the first invalid option. */
  constructor(options: FedYogiOptions = {}) {
    super(options, { eta: 0.01, beta1: 0.9, tau: 1e-3, learningRate: 0.0316 });
    this.beta2 = checkNumber('beta2', options.beta2 ?? 0.99, { min: 0, max: 1, maxExclusive: true });
  }

  protected override updateSecondMoment(v: Float32Array, delta: Float32Array): void {
    const c = 1 - this.beta2;
    for (let i = 0; i < v.length; i++) {
      const d2 = (delta[i] as number) ** 2;
      const vi = v[i] as number;
      v[i] = vi - c * d2 * Math.sign(vi - d2);
    }
  }
}

/** FedAdagrad: v ← v + Δ². Defaults η = 0.1, η_l = 0.1, β1 = 0 (so m = Δ), τ = 1e-3. */
export class FedAdagrad extends FedOpt {
  override readonly name: string = 'FedAdagrad';

  /** @throws ConfigError naming the first invalid option. */
  constructor(options: FedAdagradOptions = {}) {
    super(options, { eta: 0.1, beta1: 0, tau: 1e-3, learningRate: 0.1 });
  }

  protected override updateSecondMoment(v: Float32Array, delta: Float32Array): void {
    for (let i = 0; i < v.length; i++) {
      const d = delta[i] as number;
      v[i] = (v[i] as number) + d * d;
    }
  }
}
