/**
 * The privacy settings of a horizontal job and the rules on which combine. Three independent
 * choices: how updates reach the coordinator (`aggregation`), whether and at which unit
 * differential privacy applies (`dp`), and the strategy. Some combinations would silently weaken
 * privacy or cannot work; {@link checkPrivacyCombination} refuses them at submission with a
 * message that says why and what to use instead.
 */
import { ConfigError } from '../../core/errors.js';
import type { StrategyName } from '../../strategy/create-strategy.js';

/** How participants' updates reach the coordinator. */
export type AggregationMode = 'plain' | 'secagg+' | 'ckks';
/** Every aggregation mode, as written in configuration. */
export const AGGREGATION_MODES: readonly AggregationMode[] = ['plain', 'secagg+', 'ckks'];

/** The unit differential privacy protects. */
export type DpUnit = 'learner' | 'platform' | 'local';
/** Every DP unit, as written in configuration. */
export const DP_UNITS: readonly DpUnit[] = ['learner', 'platform', 'local'];

/** Adaptive clipping (Andrew et al., NeurIPS 2021) of platform-level DP. */
export interface AdaptiveClipConfig {
  /** γ: the quantile of update norms the clip tracks; default 0.5. */
  readonly targetQuantile?: number;
  /** η_C: geometric learning rate of the clip; default 0.2. */
  readonly learningRate?: number;
  /** σ_b: noise multiplier of the clipped-fraction count; default expectedParticipants / 20. */
  readonly countNoiseMultiplier?: number;
}

/**
 * Differential privacy of a job.
 * - `learner`: DP-SGD on every platform (Abadi et al. 2016): one learner's records barely change what leaves it.
 * - `platform`: DP-FedAvg (McMahan et al. 2018): one platform's whole update barely changes the model;
 *   noise added by the coordinator (`central`, trusted server) or shared among participants under
 *   secure aggregation (`distributed`).
 * - `local`: each update is made DP by its own platform before it leaves (trusts no one).
 */
export interface DpConfig {
  readonly unit: DpUnit;
  /** Platform unit only: who adds the noise. Default `central` with plain aggregation, `distributed` under secure aggregation. */
  readonly noise?: 'central' | 'distributed';
  /** C: per-example gradient clip (learner) or per-update L2 clip (platform, local). */
  readonly clipNorm: number;
  /** Platform unit, central noise only: adapt C each round. */
  readonly adaptiveClip?: AdaptiveClipConfig;
  /** σ: noise multiplier (std = σ·C). Give this or `targetEpsilon`. */
  readonly noiseMultiplier?: number;
  /** Calibrate σ so that the job's maximum rounds spend exactly this ε. */
  readonly targetEpsilon?: number;
  /** δ of the (ε, δ) guarantee; default 1e-5. */
  readonly delta?: number;
  /** The job's budget: it stops before a round that would spend more. Defaults to `targetEpsilon` when that is set. */
  readonly maxEpsilon?: number;
}

/** Privacy settings of a horizontal job; absent means plain aggregation without DP. */
export interface PrivacyConfig {
  readonly aggregation?: AggregationMode;
  /** SecAgg+ parameters (validated by the secure-aggregation module). */
  readonly secAgg?: Readonly<Record<string, unknown>>;
  /** CKKS parameters (validated by the CKKS module). */
  readonly ckks?: Readonly<Record<string, unknown>>;
  readonly dp?: DpConfig;
}

/** Default δ. */
export const DEFAULT_DELTA = 1e-5;

/** Strategies whose aggregate depends only on the weighted mean of the updates, so they run on a secure sum. */
const MEAN_BASED: readonly StrategyName[] = ['fedavg', 'fedprox', 'fedper', 'fedadam', 'fedyogi', 'fedadagrad'];
/** Strategies that inspect individual updates (robust aggregation). */
const ROBUST: readonly StrategyName[] = ['fedmedian', 'fedtrimmedavg', 'krum'];

/** One row of the documented compatibility table: a strategy family, a privacy mode, and the verdict. */
export interface CompatibilityRow {
  readonly strategies: string;
  readonly mode: string;
  readonly allowed: boolean;
  readonly why: string;
}

/** The compatibility table the README documents and {@link checkPrivacyCombination} enforces. */
export const COMPATIBILITY: readonly CompatibilityRow[] = [
  { strategies: 'mean-based (FedAvg, FedProx, FedPer, FedAdam, FedYogi, FedAdagrad)', mode: 'any', allowed: true, why: 'they need only the weighted mean, which every mode provides' },
  { strategies: 'robust (FedMedian, FedTrimmedAvg, Krum)', mode: 'plain, learner DP, local DP', allowed: true, why: 'the coordinator sees each (possibly noised) update, so it can rank them' },
  { strategies: 'robust', mode: 'SecAgg+ or CKKS', allowed: false, why: 'a median or a ranking needs individual updates; secure aggregation reveals only their sum' },
  { strategies: 'robust', mode: 'platform DP', allowed: false, why: "DP-FedAvg's sensitivity bound assumes a clipped average; a median or Krum selection has another sensitivity" },
  { strategies: 'any', mode: 'platform DP, central noise, under SecAgg+ or CKKS', allowed: false, why: 'central noise needs the coordinator to clip individual updates; use noise "distributed"' },
  { strategies: 'any', mode: 'platform DP, distributed noise, plain aggregation', allowed: false, why: 'each update would carry only a 1/√n share of the noise in the clear; use SecAgg+ or CKKS' },
  { strategies: 'any', mode: 'adaptive clipping with distributed noise', allowed: false, why: 'the clipped-fraction count would need its own secure sum; use a fixed clip' },
];

function positive(v: unknown, field: string): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new ConfigError(field, `must be a positive number, got ${JSON.stringify(v)}`);
}

/**
 * Checks a privacy configuration's values and its combination with the strategy.
 * @throws ConfigError naming the field, with the reason from {@link COMPATIBILITY} for a refused combination.
 */
export function checkPrivacyCombination(strategy: StrategyName, privacy: PrivacyConfig | undefined): void {
  if (privacy === undefined) return;
  const aggregation = privacy.aggregation ?? 'plain';
  if (!AGGREGATION_MODES.includes(aggregation)) {
    throw new ConfigError('privacy.aggregation', `unknown mode ${JSON.stringify(aggregation)}; expected one of: ${AGGREGATION_MODES.join(', ')}`);
  }
  const secure = aggregation !== 'plain';
  if (secure && ROBUST.includes(strategy)) {
    throw new ConfigError('privacy.aggregation', `${strategy} cannot run under ${aggregation}: a median or a ranking needs individual updates, and secure aggregation reveals only their sum. Use a mean-based strategy (${MEAN_BASED.join(', ')}), or plain aggregation with local DP`);
  }
  const dp = privacy.dp;
  if (dp === undefined) return;
  if (!DP_UNITS.includes(dp.unit)) throw new ConfigError('privacy.dp.unit', `unknown unit ${JSON.stringify(dp.unit)}; expected one of: ${DP_UNITS.join(', ')}`);
  positive(dp.clipNorm, 'privacy.dp.clipNorm');
  if (dp.noiseMultiplier === undefined && dp.targetEpsilon === undefined) {
    throw new ConfigError('privacy.dp', 'needs noiseMultiplier or targetEpsilon');
  }
  if (dp.noiseMultiplier !== undefined && dp.targetEpsilon !== undefined) {
    throw new ConfigError('privacy.dp', 'give noiseMultiplier or targetEpsilon, not both');
  }
  if (dp.noiseMultiplier !== undefined && !(Number.isFinite(dp.noiseMultiplier) && dp.noiseMultiplier >= 0)) {
    throw new ConfigError('privacy.dp.noiseMultiplier', `must be a number ≥ 0, got ${JSON.stringify(dp.noiseMultiplier)}`);
  }
  if (dp.targetEpsilon !== undefined) positive(dp.targetEpsilon, 'privacy.dp.targetEpsilon');
  if (dp.maxEpsilon !== undefined) positive(dp.maxEpsilon, 'privacy.dp.maxEpsilon');
  const delta = dp.delta ?? DEFAULT_DELTA;
  if (!(delta > 0 && delta < 1)) throw new ConfigError('privacy.dp.delta', `must be in (0, 1), got ${JSON.stringify(dp.delta)}`);
  if (dp.unit !== 'platform') {
    if (dp.noise !== undefined) throw new ConfigError('privacy.dp.noise', `applies to the platform unit only; ${dp.unit}-level noise is always added on the platform`);
    if (dp.adaptiveClip !== undefined) throw new ConfigError('privacy.dp.adaptiveClip', 'applies to the platform unit only');
    return;
  }
  if (ROBUST.includes(strategy)) {
    throw new ConfigError('privacy.dp.unit', `${strategy} cannot be combined with platform-level DP: DP-FedAvg's sensitivity bound assumes a clipped average, a median or Krum selection has another. Use a mean-based strategy, or local DP`);
  }
  const noise = dp.noise ?? (secure ? 'distributed' : 'central');
  if (noise !== 'central' && noise !== 'distributed') throw new ConfigError('privacy.dp.noise', `must be "central" or "distributed", got ${JSON.stringify(noise)}`);
  if (noise === 'central' && secure) {
    throw new ConfigError('privacy.dp.noise', `central noise needs the coordinator to clip individual updates, which ${aggregation} hides; use noise "distributed"`);
  }
  if (noise === 'distributed' && !secure) {
    throw new ConfigError('privacy.dp.noise', 'distributed noise under plain aggregation would show each update with only a 1/√n share of the noise; use aggregation "secagg+" or "ckks", or noise "central"');
  }
  if (dp.adaptiveClip !== undefined && noise === 'distributed') {
    throw new ConfigError('privacy.dp.adaptiveClip', 'needs central noise: the clipped-fraction count would need its own secure sum; use a fixed clipNorm');
  }
  const a = dp.adaptiveClip;
  if (a !== undefined) {
    if (a.targetQuantile !== undefined && !(a.targetQuantile > 0 && a.targetQuantile < 1)) {
      throw new ConfigError('privacy.dp.adaptiveClip.targetQuantile', `must be in (0, 1), got ${a.targetQuantile}`);
    }
    if (a.learningRate !== undefined) positive(a.learningRate, 'privacy.dp.adaptiveClip.learningRate');
    if (a.countNoiseMultiplier !== undefined) positive(a.countNoiseMultiplier, 'privacy.dp.adaptiveClip.countNoiseMultiplier');
  }
}

/** The platform-level noise placement a valid configuration resolves to. */
export function platformNoise(privacy: PrivacyConfig): 'central' | 'distributed' {
  return privacy.dp?.noise ?? ((privacy.aggregation ?? 'plain') === 'plain' ? 'central' : 'distributed');
}

function isObject(v: unknown): v is Readonly<Record<string, unknown>> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function optionalNumberField(o: Readonly<Record<string, unknown>>, key: string, where: string): number | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ConfigError(`${where}.${key}`, `must be a number, got ${JSON.stringify(v)}`);
  return v;
}

function onlyKeys(o: Readonly<Record<string, unknown>>, allowed: readonly string[], where: string): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) throw new ConfigError(`${where}.${k}`, `is not a setting; expected one of: ${allowed.join(', ')}`);
}

/**
 * Turns untrusted JSON (a job file, the API) into a typed privacy configuration; values and
 * combinations are checked by {@link checkPrivacyCombination}.
 * @throws ConfigError naming the field.
 */
export function parsePrivacyConfig(value: unknown): PrivacyConfig {
  if (!isObject(value)) throw new ConfigError('privacy', 'must be an object');
  onlyKeys(value, ['aggregation', 'secAgg', 'ckks', 'dp'], 'privacy');
  const aggregation = value['aggregation'];
  if (aggregation !== undefined && !AGGREGATION_MODES.some((m) => m === aggregation)) {
    throw new ConfigError('privacy.aggregation', `unknown mode ${JSON.stringify(aggregation)}; expected one of: ${AGGREGATION_MODES.join(', ')}`);
  }
  const mode = AGGREGATION_MODES.find((m) => m === aggregation);
  for (const key of ['secAgg', 'ckks'] as const) {
    if (value[key] !== undefined && !isObject(value[key])) throw new ConfigError(`privacy.${key}`, 'must be an object');
  }
  const secAgg = value['secAgg'];
  const ckks = value['ckks'];
  const dpValue = value['dp'];
  let dp: DpConfig | undefined;
  if (dpValue !== undefined) {
    if (!isObject(dpValue)) throw new ConfigError('privacy.dp', 'must be an object');
    onlyKeys(dpValue, ['unit', 'noise', 'clipNorm', 'adaptiveClip', 'noiseMultiplier', 'targetEpsilon', 'delta', 'maxEpsilon'], 'privacy.dp');
    const unit = DP_UNITS.find((u) => u === dpValue['unit']);
    if (unit === undefined) throw new ConfigError('privacy.dp.unit', `must be one of: ${DP_UNITS.join(', ')}; got ${JSON.stringify(dpValue['unit'])}`);
    const noiseValue = dpValue['noise'];
    if (noiseValue !== undefined && noiseValue !== 'central' && noiseValue !== 'distributed') {
      throw new ConfigError('privacy.dp.noise', `must be "central" or "distributed", got ${JSON.stringify(noiseValue)}`);
    }
    const clipNorm = optionalNumberField(dpValue, 'clipNorm', 'privacy.dp');
    if (clipNorm === undefined) throw new ConfigError('privacy.dp.clipNorm', 'is required');
    const adaptive = dpValue['adaptiveClip'];
    let adaptiveClip: AdaptiveClipConfig | undefined;
    if (adaptive !== undefined) {
      if (!isObject(adaptive)) throw new ConfigError('privacy.dp.adaptiveClip', 'must be an object');
      onlyKeys(adaptive, ['targetQuantile', 'learningRate', 'countNoiseMultiplier'], 'privacy.dp.adaptiveClip');
      const fields = {
        targetQuantile: optionalNumberField(adaptive, 'targetQuantile', 'privacy.dp.adaptiveClip'),
        learningRate: optionalNumberField(adaptive, 'learningRate', 'privacy.dp.adaptiveClip'),
        countNoiseMultiplier: optionalNumberField(adaptive, 'countNoiseMultiplier', 'privacy.dp.adaptiveClip'),
      };
      adaptiveClip = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
    }
    const numbers = {
      noiseMultiplier: optionalNumberField(dpValue, 'noiseMultiplier', 'privacy.dp'),
      targetEpsilon: optionalNumberField(dpValue, 'targetEpsilon', 'privacy.dp'),
      delta: optionalNumberField(dpValue, 'delta', 'privacy.dp'),
      maxEpsilon: optionalNumberField(dpValue, 'maxEpsilon', 'privacy.dp'),
    };
    dp = {
      unit,
      clipNorm,
      ...(noiseValue !== undefined ? { noise: noiseValue } : {}),
      ...(adaptiveClip !== undefined ? { adaptiveClip } : {}),
      ...Object.fromEntries(Object.entries(numbers).filter(([, v]) => v !== undefined)),
    };
  }
  return {
    ...(mode !== undefined ? { aggregation: mode } : {}),
    ...(isObject(secAgg) ? { secAgg } : {}),
    ...(isObject(ckks) ? { ckks } : {}),
    ...(dp !== undefined ? { dp } : {}),
  };
}
