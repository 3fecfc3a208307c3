/**
 * Adaptive clipping: Andrew, Thakkar, McMahan, Ramaswamy, "Differentially Private Learning with
 * Adaptive Clipping", NeurIPS 2021 (arXiv:1905.03871), Algorithm 1 with the geometric update.
 *
 * Each round every contributor reports the bit b_i = 1[‖Δ_i‖ ≤ C]. The server privately estimates the
 * unclipped fraction b̃ = (Σ(b_i − ½) + N(0, σ_b²))/m + ½, clamped to [0, 1] (centring at ½ makes the
 * count's sensitivity ½, as in the paper and TensorFlow Privacy's quantile estimator), then moves the
 * clip towards the γ-quantile of the norms: C ← C·exp(−η_C·(b̃ − γ)).
 *
 * Releasing b̃ costs privacy; the paper's Theorem 1 splits a total noise multiplier z between the two
 * queries: the update sum gets σ_Δ = (z⁻² − (2σ_b)⁻²)^(−½) ({@link adjustedNoiseMultiplier}) and the
 * round as a whole is then accounted as one Gaussian mechanism with multiplier z.
 */
import { ConfigError, ValidationError } from '../core/errors.js';
import { nonNegative, positive } from './check.js';
import type { Rng } from '../core/rng.js';

/** Hyper-parameters (paper symbols in brackets; the paper's defaults are γ = 0.5, η_C = 0.2, σ_b = m/20). */
export interface AdaptiveClipOptions {
  /** [C₀] First clipping norm; > 0. */
  readonly initialClip: number;
  /** [γ] Target fraction of updates left unclipped, in [0, 1]. */
  readonly targetQuantile: number;
  /** [η_C] Step size of the geometric update; ≥ 0 (0 keeps the clip fixed). */
  readonly learningRate: number;
  /** [σ_b] Standard deviation of the noise on the (centred) unclipped count; ≥ 0. */
  readonly countNoiseStd: number;
  /** [m] Expected number of contributions per round (the count's public denominator); > 0. */
  readonly expectedCount: number;
}

/** Checkpointable state. */
export interface AdaptiveClipState {
  readonly clip: number;
  readonly rounds: number;
}

/** The outcome of one clip update. */
export interface AdaptiveClipUpdate {
  /** The clip used this round (the one the bits were measured against). */
  readonly previousClip: number;
  /** The clip for the next round. */
  readonly clip: number;
  /** b̃, the private estimate of the fraction of unclipped updates. */
  readonly noisyUnclippedFraction: number;
}


/**
 * σ_Δ = (z⁻² − (2σ_b)⁻²)^(−½): the noise multiplier for the clipped-update sum such that the round,
 * count query included, is a Gaussian mechanism with multiplier `noiseMultiplier` = z
 * (Andrew et al. 2021, Theorem 1).
 * @throws {ConfigError} unless z > 0 and σ_b > z/2 (otherwise the count alone would spend the whole budget).
 */
export function adjustedNoiseMultiplier(noiseMultiplier: number, countNoiseStd: number): number {
  positive('noiseMultiplier', noiseMultiplier);
  nonNegative('countNoiseStd', countNoiseStd);
  const rest = noiseMultiplier ** -2 - (2 * countNoiseStd) ** -2;
  if (!(rest > 0)) {
    throw new ConfigError(
      'countNoiseStd',
      `must exceed noiseMultiplier / 2 = ${noiseMultiplier / 2} for the clipped-count query to fit in the budget, got ${countNoiseStd}`,
    );
  }
  return rest ** -0.5;
}

/** A contributor's centred bit b_i − ½ for clip `clip` (what each participant sends in distributed mode). */
export function centredUnclippedBit(norm: number, clip: number): number {
  return norm <= clip ? 0.5 : -0.5;
}

/** The adaptive clipping-norm estimator; pure apart from its own state and the injected generator. */
export class AdaptiveClip {
  readonly targetQuantile: number;
  readonly learningRate: number;
  readonly countNoiseStd: number;
  readonly expectedCount: number;
  private current: number;
  private rounds = 0;

  /** @throws {ConfigError} naming the first invalid option. */
  constructor(options: AdaptiveClipOptions) {
    this.current = positive('initialClip', options.initialClip);
    const gamma = options.targetQuantile;
    if (!(Number.isFinite(gamma) && gamma >= 0 && gamma <= 1)) {
      throw new ConfigError('targetQuantile', `must be in [0, 1], got ${String(gamma)}`);
    }
    this.targetQuantile = gamma;
    this.learningRate = nonNegative('learningRate', options.learningRate);
    this.countNoiseStd = nonNegative('countNoiseStd', options.countNoiseStd);
    this.expectedCount = positive('expectedCount', options.expectedCount);
  }

  /** The clipping norm to use this round. */
  get clip(): number {
    return this.current;
  }

  /**
   * Trusted-server mode: counts the pre-clip `norms` at or below the current clip, adds N(0, σ_b²) from
   * `rng` (`cryptoRng()` in production) and updates the clip.
   * @throws {ValidationError} if a norm is negative or not a number.
   */
  observe(norms: readonly number[], rng: Rng): AdaptiveClipUpdate {
    let sum = 0;
    norms.forEach((n, i) => {
      if (!(n >= 0)) throw new ValidationError(undefined, `adaptive clip: norms[${i}] must be a number ≥ 0, got ${String(n)}`);
      sum += centredUnclippedBit(n, this.current);
    });
    const noise = this.countNoiseStd > 0 ? this.countNoiseStd * rng.normal() : 0;
    return this.applyNoisyCount(sum + noise);
  }

  /**
   * Distributed mode: updates the clip from Σ(b_i − ½) + N(0, σ_b²) already summed (and noised) elsewhere,
   * e.g. by secure aggregation of {@link centredUnclippedBit} values.
   * @throws {ValidationError} if the sum is not finite.
   */
  applyNoisyCount(noisyCentredSum: number): AdaptiveClipUpdate {
    if (!Number.isFinite(noisyCentredSum)) {
      throw new ValidationError(undefined, `adaptive clip: the noisy count must be finite, got ${noisyCentredSum}`);
    }
    const fraction = Math.min(1, Math.max(0, noisyCentredSum / this.expectedCount + 0.5));
    const previousClip = this.current;
    this.current = previousClip * Math.exp(-this.learningRate * (fraction - this.targetQuantile));
    this.rounds++;
    return { previousClip, clip: this.current, noisyUnclippedFraction: fraction };
  }

  /** State to checkpoint. */
  state(): AdaptiveClipState {
    return { clip: this.current, rounds: this.rounds };
  }

  /** Restores what {@link AdaptiveClip.state} returned. @throws {ConfigError} for a non-positive clip or a bad round count. */
  restore(state: AdaptiveClipState): void {
    positive('state.clip', state.clip);
    if (!(Number.isSafeInteger(state.rounds) && state.rounds >= 0)) {
      throw new ConfigError('state.rounds', `must be an integer ≥ 0, got ${String(state.rounds)}`);
    }
    this.current = state.clip;
    this.rounds = state.rounds;
  }
}
