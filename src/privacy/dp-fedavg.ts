/**
 * Platform-level (participant-level) DP-FedAvg: McMahan, Ramage, Talwar, Zhang, "Learning
 * Differentially Private Recurrent Language Models", ICLR 2018, Algorithm 1 with uniform weights.
 * Each participant's delta Δ_k = w_k − w is clipped to L2 norm C, the clipped deltas are averaged
 * with equal weights, and Gaussian noise makes the mean an SGM release whose noise multiplier z the
 * RDP accountant tracks (one step per round, q = expected participants / population).
 *
 * Three trust models, one noise calibration each (the functions below let the coordinator and the
 * participants compute the same numbers):
 * - central (trusted server): the server adds N(0, (zC)²) to the clipped sum, i.e. std zC/m on the mean;
 * - distributed (secure aggregation): each of the m expected participants adds N(0, (zC)²/m) to its
 *   clipped delta, so the sum carries N(0, (zC)²) without anyone seeing an individual update;
 * - local: each participant adds N(0, (zC)²) to its own clipped delta, so each update alone is a
 *   Gaussian mechanism with multiplier z (no trust in anyone, much more noise in the mean).
 *
 * Uniform weights matter: weighting by n_k would let one participant's weight exceed 1/m and break
 * the sensitivity bound C/m.
 */
import { ConfigError, ValidationError } from '../core/errors.js';
import { nonNegative, positive } from './check.js';
import type { Rng } from '../core/rng.js';
import type { ClientUpdate, Strategy, TrainPlan } from '../strategy/strategy.js';
import { AdaptiveClip, adjustedNoiseMultiplier } from './adaptive-clip.js';
import { clipDelta } from './clip.js';


/**
 * Central mode: std of the noise on the mean of clipped deltas, z·C/`denominator`.
 * @throws {ConfigError} naming the argument: z < 0, C ≤ 0 or denominator ≤ 0.
 */
export function centralNoiseStd(noiseMultiplier: number, clipNorm: number, denominator: number): number {
  return (nonNegative('noiseMultiplier', noiseMultiplier) * positive('clipNorm', clipNorm)) / positive('denominator', denominator);
}

/**
 * Distributed mode: std each participant adds to its clipped delta before secure aggregation,
 * z·C/√m with m the expected number of participants, so that the sum carries N(0, (zC)²).
 * If fewer than m updates arrive, the sum carries less noise: account with {@link effectiveNoiseMultiplier}.
 * @throws {ConfigError} naming the argument: z < 0, C ≤ 0 or m ≤ 0.
 */
export function distributedNoiseStd(noiseMultiplier: number, clipNorm: number, expectedParticipants: number): number {
  return (
    (nonNegative('noiseMultiplier', noiseMultiplier) * positive('clipNorm', clipNorm)) /
    Math.sqrt(positive('expectedParticipants', expectedParticipants))
  );
}

/**
 * Local mode: std each participant adds to its own clipped delta, z·C (each update alone is then
 * a Gaussian mechanism with multiplier z).
 * @throws {ConfigError} naming the argument: z < 0 or C ≤ 0.
 */
export function localNoiseStd(noiseMultiplier: number, clipNorm: number): number {
  return nonNegative('noiseMultiplier', noiseMultiplier) * positive('clipNorm', clipNorm);
}

/**
 * The noise multiplier a distributed-mode sum actually carries when `actualParticipants` of the
 * `expectedParticipants` added their share: z·√(actual/expected). Feed this, not z, to the accountant.
 * @throws {ConfigError} naming the argument for a negative or non-finite input, or expected = 0.
 */
export function effectiveNoiseMultiplier(noiseMultiplier: number, expectedParticipants: number, actualParticipants: number): number {
  nonNegative('noiseMultiplier', noiseMultiplier);
  positive('expectedParticipants', expectedParticipants);
  nonNegative('actualParticipants', actualParticipants);
  return noiseMultiplier * Math.sqrt(actualParticipants / expectedParticipants);
}

/** Arguments of {@link privatizeUpdate}. */
export interface PrivatizeOptions {
  /** C: L2 bound on the delta. */
  readonly clipNorm: number;
  /** Std of the Gaussian noise added to the clipped delta ({@link distributedNoiseStd} or {@link localNoiseStd}); 0 clips only. */
  readonly noiseStd: number;
}

/** A participant's privatized update. */
export interface PrivatizedUpdate {
  /** w + clip(Δ) + noise, ready to send. */
  readonly params: Float32Array;
  /** ‖Δ‖₂ before clipping (stays on the participant; it is not private). */
  readonly norm: number;
  readonly clipped: boolean;
}

/**
 * Participant side of the distributed and local modes: clips `params − global` to C, adds
 * N(0, noiseStd²) from `rng` (`cryptoRng()` in production) and returns global + the noisy delta.
 * @throws {ConfigError} for C ≤ 0 or a negative noise std.
 * @throws {ValidationError} naming `participant` if lengths differ or the update is not finite.
 */
export function privatizeUpdate(
  global: Float32Array,
  params: Float32Array,
  options: PrivatizeOptions,
  rng: Rng,
  participant?: string,
): PrivatizedUpdate {
  const std = nonNegative('noiseStd', options.noiseStd);
  const { delta, norm, factor } = clipDelta(params, global, options.clipNorm, participant);
  const out = new Float32Array(global.length);
  for (let i = 0; i < out.length; i++) out[i] = global[i]! + delta[i]! + (std > 0 ? std * rng.normal() : 0);
  return { params: out, norm, clipped: factor < 1 };
}

/** Options of {@link dpFedAvg}. */
export interface DpFedAvgOptions {
  /**
   * z: the noise multiplier the accountant is told about. With an {@link AdaptiveClip}, the update sum
   * gets the smaller σ_Δ of {@link adjustedNoiseMultiplier} so that the round as a whole has multiplier z.
   */
  readonly noiseMultiplier: number;
  /** A fixed clipping norm C, or an adaptive estimator (read before, updated after aggregation). */
  readonly clip: number | AdaptiveClip;
  /**
   * Divisor of the clipped sum. Default: the number of updates received, which is public when the
   * strategy selects a fixed number of participants. With Poisson participant sampling pass the
   * expected number qW (McMahan et al. 2018's fixed-denominator estimator), for which the
   * sensitivity bound C/denominator holds.
   */
  readonly denominator?: number;
}

/**
 * Clipping and noise of one round. Only `noisyUnclippedFraction` is differentially private: the
 * others describe individual updates and are for the trusted server's own logs.
 */
export interface DpFedAvgStats {
  /** C used this round. */
  readonly clipNorm: number;
  /** C for the next round (equal to `clipNorm` for a fixed clip). */
  readonly nextClipNorm: number;
  readonly numUpdates: number;
  readonly numClipped: number;
  readonly denominator: number;
  /** z accounted for the round. */
  readonly noiseMultiplier: number;
  /** Multiplier actually applied to the update sum (σ_Δ with adaptive clipping, else z). */
  readonly updateNoiseMultiplier: number;
  /** Std of the noise on each coordinate of the mean delta. */
  readonly noiseStd: number;
  /** b̃ with adaptive clipping, absent with a fixed clip. */
  readonly noisyUnclippedFraction?: number;
}

/** What {@link dpFedAvg} returns. */
export interface DpFedAvgResult {
  /** w + noisy mean of the clipped deltas (a new array). */
  readonly params: Float32Array;
  /** The noisy mean delta, for server optimisers that treat it as a pseudo-gradient. */
  readonly meanDelta: Float64Array;
  readonly stats: DpFedAvgStats;
}

/** The part of a {@link ClientUpdate} DP-FedAvg reads. */
export type DpFedAvgUpdate = Pick<ClientUpdate, 'participantId' | 'params'>;

/**
 * Central (trusted-server) DP-FedAvg round: clip each Δ_k to C, average with uniform weights over the
 * denominator, add N(0, (σC/denominator)²) per coordinate from `rng` (`cryptoRng()` in production),
 * and with an adaptive clip update it from the noisy unclipped count. `global` is not modified.
 * @throws {ConfigError} naming the option: z ≤ 0, C ≤ 0, denominator ≤ 0, or adaptive σ_b ≤ z/2.
 * @throws {ValidationError} for no updates, and naming the participant for a duplicate, a wrong
 *   parameter count or a non-finite update.
 */
export function dpFedAvg(global: Float32Array, updates: readonly DpFedAvgUpdate[], options: DpFedAvgOptions, rng: Rng): DpFedAvgResult {
  const z = positive('noiseMultiplier', options.noiseMultiplier);
  if (updates.length === 0) throw new ValidationError(undefined, 'DP-FedAvg: no updates to aggregate');
  const adaptive = options.clip instanceof AdaptiveClip ? options.clip : undefined;
  const clipNorm = options.clip instanceof AdaptiveClip ? options.clip.clip : positive('clip', options.clip);
  const updateZ = adaptive !== undefined ? adjustedNoiseMultiplier(z, adaptive.countNoiseStd) : z;
  const denominator = positive('denominator', options.denominator ?? updates.length);

  const seen = new Set<string>();
  const sum = new Float64Array(global.length);
  const norms: number[] = [];
  let numClipped = 0;
  for (const u of updates) {
    if (seen.has(u.participantId)) throw new ValidationError(u.participantId, 'sent more than one update this round');
    seen.add(u.participantId);
    const { delta, norm, factor } = clipDelta(u.params, global, clipNorm, u.participantId);
    norms.push(norm);
    if (factor < 1) numClipped++;
    for (let i = 0; i < sum.length; i++) sum[i] = sum[i]! + delta[i]!;
  }
  const noiseStd = centralNoiseStd(updateZ, clipNorm, denominator);
  const meanDelta = new Float64Array(global.length);
  const params = new Float32Array(global.length);
  for (let i = 0; i < meanDelta.length; i++) {
    meanDelta[i] = sum[i]! / denominator + noiseStd * rng.normal();
    params[i] = global[i]! + meanDelta[i]!;
  }
  const base = {
    clipNorm,
    numUpdates: updates.length,
    numClipped,
    denominator,
    noiseMultiplier: z,
    updateNoiseMultiplier: updateZ,
    noiseStd,
  };
  if (adaptive === undefined) return { params, meanDelta, stats: { ...base, nextClipNorm: clipNorm } };
  const next = adaptive.observe(norms, rng);
  return { params, meanDelta, stats: { ...base, nextClipNorm: next.clip, noisyUnclippedFraction: next.noisyUnclippedFraction } };
}

const STATE_CLIP = 'dpFedAvg.clip';
const STATE_ROUNDS = 'dpFedAvg.rounds';

/**
 * Server-side DP that wraps another strategy (as Flower's server-side DP wraps a strategy): selection
 * and instructions come from `inner`; aggregation first forms the DP-FedAvg noisy mean and then hands
 * `inner` that single update (weight 1), so FedAvg adopts it and FedOpt uses it as its pseudo-gradient
 * (post-processing, no extra privacy cost). Robust rules (median, Krum) are pointless under it.
 */
export class DpFedAvgStrategy implements Strategy {
  readonly name: string;
  private readonly inner: Strategy;
  private readonly options: DpFedAvgOptions;
  private readonly rng: Rng;
  private last: DpFedAvgStats | undefined;

  /** `rng` draws the noise: `cryptoRng()` in production. @throws {ConfigError} for z ≤ 0 or a fixed C ≤ 0. */
  constructor(inner: Strategy, options: DpFedAvgOptions, rng: Rng) {
    positive('noiseMultiplier', options.noiseMultiplier);
    if (!(options.clip instanceof AdaptiveClip)) positive('clip', options.clip);
    if (options.denominator !== undefined) positive('denominator', options.denominator);
    this.inner = inner;
    this.options = options;
    this.rng = rng;
    this.name = `DP-${inner.name}`;
  }

  /** Statistics of the last aggregated round (undefined before the first). */
  get lastStats(): DpFedAvgStats | undefined {
    return this.last;
  }

  /** Delegates to the wrapped strategy. */
  configureTrain(round: number, available: readonly string[], rng: Rng): TrainPlan {
    return this.inner.configureTrain(round, available, rng);
  }

  /** DP-FedAvg noisy mean, then the wrapped strategy's aggregation of it. @throws as {@link dpFedAvg} and the wrapped strategy. */
  aggregateTrain(round: number, global: Float32Array, updates: readonly ClientUpdate[]): Float32Array {
    const result = dpFedAvg(global, updates, this.options, this.rng);
    this.last = result.stats;
    return this.inner.aggregateTrain(round, global, [{ participantId: 'dp-fedavg-mean', params: result.params, numExamples: 1 }]);
  }

  /** The wrapped strategy's state plus the adaptive clip (float32, as every strategy state). */
  state(): Record<string, Float32Array> {
    const s = { ...this.inner.state() };
    if (this.options.clip instanceof AdaptiveClip) {
      const a = this.options.clip.state();
      s[STATE_CLIP] = Float32Array.of(a.clip);
      s[STATE_ROUNDS] = Float32Array.of(a.rounds);
    }
    return s;
  }

  /** Restores what {@link DpFedAvgStrategy.state} returned. @throws {ConfigError} for a malformed clip entry, or as the wrapped strategy. */
  restore(state: Readonly<Record<string, Float32Array>>): void {
    const { [STATE_CLIP]: clip, [STATE_ROUNDS]: rounds, ...rest } = state;
    if (this.options.clip instanceof AdaptiveClip && clip !== undefined) {
      const c = clip[0];
      const r = rounds?.[0] ?? 0;
      if (clip.length !== 1 || c === undefined) throw new ConfigError(`state.${STATE_CLIP}`, `must hold one value, got ${clip.length}`);
      this.options.clip.restore({ clip: c, rounds: r });
    }
    this.inner.restore(rest);
  }
}
