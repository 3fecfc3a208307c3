/**
 * Fixed-point encoding of model updates for secure aggregation in the ring Z_{2^32}: clip each value
 * to [lo, hi], map it onto the integers 0 … 2^bits − 1 by unbiased stochastic rounding, add
 * encodings as uint32 (wrapping), and decode a sum of n encodings back to float64.
 *
 * Stochastic rounding (round up with probability equal to the fractional part) makes every encoding
 * an unbiased estimate of its clipped value, so the decoded sum is unbiased too and its error grows
 * like √n·step rather than n·step/2. The ring is 2^32, so n · (2^bits − 1) must stay below 2^32 for
 * the integer sum never to wrap ({@link checkRingCapacity}).
 *
 * The SecAgg+ input vector (Bonawitz et al. CCS 2017; the layout follows Flower's SecAgg+ mod) is
 * `[Q(w), Q(w·clip(Δ_1)), …, Q(w·clip(Δ_m))]`: the weight travels masked with the update, so the
 * coordinator learns only Σ w_k and Σ w_k·Δ_k.
 */
import { ConfigError, ValidationError } from '../../core/errors.js';
import type { Rng } from '../../core/rng.js';

/** A quantisation grid: values clipped to [lo, hi] map to the integers 0 … 2^bits − 1. */
export interface QuantizationGrid {
  readonly lo: number;
  readonly hi: number;
  readonly bits: number;
}

/** How a participant's update is weighted in the sum. */
export type SecAggWeighting = 'examples' | 'uniform';

const RING = 2 ** 32;

/** The largest code of a `bits`-bit grid, 2^bits − 1. @throws ConfigError unless bits is an integer in [1, 32] */
export function quantizationLevels(bits: number): number {
  if (!Number.isInteger(bits) || bits < 1 || bits > 32) throw new ConfigError('quantizationBits', `must be an integer in [1, 32], got ${bits}`);
  return 2 ** bits - 1;
}

function checkGrid(grid: QuantizationGrid): number {
  const levels = quantizationLevels(grid.bits);
  if (!Number.isFinite(grid.lo) || !Number.isFinite(grid.hi) || !(grid.lo < grid.hi)) {
    throw new ConfigError('grid', `needs finite lo < hi, got [${grid.lo}, ${grid.hi}]`);
  }
  return levels;
}

/**
 * Checks that the sum of `n` codes of a `bits`-bit grid cannot wrap around 2^32.
 * @throws ConfigError (field quantizationBits) when n · (2^bits − 1) ≥ 2^32, naming the largest bits that fit.
 */
export function checkRingCapacity(n: number, bits: number): void {
  const levels = quantizationLevels(bits);
  if (!Number.isInteger(n) || n < 1) throw new ConfigError('participants', `must be a positive integer, got ${n}`);
  if (n * levels >= RING) {
    const fit = Math.floor(Math.log2(RING / n + 1));
    let best = fit;
    while (best > 0 && n * (2 ** best - 1) >= RING) best--;
    throw new ConfigError(
      'quantizationBits',
      `${bits} bits cannot sum ${n} inputs in the 2^32 ring (n · (2^bits − 1) = ${n * levels} ≥ 2^32); use at most ${best} bits or fewer participants`,
    );
  }
}

/** Stochastic rounding of x ≥ 0 onto 0 … levels, unbiased: ⌊x⌋ + 1 with probability x − ⌊x⌋. */
function roundStochastic(x: number, levels: number, rng: Rng): number {
  const f = Math.floor(x);
  const r = rng.next() < x - f ? f + 1 : f;
  // (hi − lo)·scale can exceed `levels` by one ulp; the grid's top is a hard bound.
  return r > levels ? levels : r;
}

/**
 * Encodes `values` on `grid`: clipped to [lo, hi], stochastically rounded to 0 … 2^bits − 1.
 * Writes into `out` at `offset` when given (else a new array). Randomness from `rng`: cryptoRng in
 * production (the rounding noise must be unpredictable to the coordinator), a seeded one in tests.
 * @throws ConfigError for an invalid grid or an `out` too short; ValidationError for a NaN or infinite value.
 */
export function quantize(values: ArrayLike<number>, grid: QuantizationGrid, rng: Rng, out?: Uint32Array, offset = 0): Uint32Array {
  const levels = checkGrid(grid);
  const target = out ?? new Uint32Array(values.length);
  if (!Number.isInteger(offset) || offset < 0 || offset + values.length > target.length) {
    throw new ConfigError('out', `${values.length} codes at offset ${offset} do not fit in ${target.length}`);
  }
  const { lo, hi } = grid;
  const scale = levels / (hi - lo);
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (!Number.isFinite(v)) throw new ValidationError(undefined, `quantize: value ${i} is ${v}, not a finite number`);
    const c = v < lo ? lo : v > hi ? hi : v;
    target[offset + i] = roundStochastic((c - lo) * scale, levels, rng);
  }
  return target;
}

/** Adds `v` into `target` elementwise modulo 2^32. @throws ConfigError on a length mismatch */
export function ringAdd(target: Uint32Array, v: Uint32Array): void {
  if (v.length !== target.length) throw new ConfigError('v', `length ${v.length} differs from the target's ${target.length}`);
  for (let i = 0; i < target.length; i++) target[i] = ((target[i] as number) + (v[i] as number)) >>> 0;
}

/**
 * Decodes the ring sum of `n` encodings on `grid` to the float64 sum of the clipped values:
 * Σ_k x_k ≈ n·lo + S·(hi − lo)/(2^bits − 1). Exact up to the rounding of each input (≤ one step each).
 * @throws ConfigError for an invalid grid or an n whose sum could have wrapped.
 */
export function dequantizeSum(sum: Uint32Array, n: number, grid: QuantizationGrid): Float64Array {
  const levels = checkGrid(grid);
  checkRingCapacity(n, grid.bits);
  const step = (grid.hi - grid.lo) / levels;
  const base = n * grid.lo;
  const out = new Float64Array(sum.length);
  for (let i = 0; i < sum.length; i++) out[i] = base + (sum[i] as number) * step;
  return out;
}

/**
 * The weight w of one update: 1 (`uniform`), or min(n_k, maxWeight) / maxWeight (`examples`, so
 * w ∈ (0, 1] and participants above maxWeight examples count as maxWeight, as in Flower's SecAgg+).
 * @throws ValidationError for a non-positive or fractional example count; ConfigError for maxWeight ≤ 0.
 */
export function updateWeight(numExamples: number, weighting: SecAggWeighting, maxWeight: number): number {
  if (weighting === 'uniform') return 1;
  if (!(Number.isFinite(maxWeight) && maxWeight > 0)) throw new ConfigError('maxWeight', `must be a positive number, got ${maxWeight}`);
  if (!Number.isInteger(numExamples) || numExamples < 1) throw new ValidationError(undefined, `numExamples must be a positive integer, got ${numExamples}`);
  return Math.min(numExamples, maxWeight) / maxWeight;
}

/**
 * The SecAgg+ input vector of one update: element 0 is Q(w) on [0, 1]; elements 1 … m are
 * Q(w′·clip(params − global, ±clip)) on [−clip, clip], where w′ is the quantised weight itself, so
 * the decoded Σ w′ and Σ w′·Δ stay consistent. Length m + 1.
 * @throws ConfigError for a length mismatch, clip ≤ 0, w outside [0, 1] or bad bits; ValidationError for a non-finite parameter.
 */
export function quantizeWeightedDelta(global: Float32Array, params: Float32Array, weight: number, clip: number, bits: number, rng: Rng): Uint32Array {
  const levels = quantizationLevels(bits);
  if (params.length !== global.length) throw new ConfigError('params', `has ${params.length} values, the global model ${global.length}`);
  if (!(Number.isFinite(clip) && clip > 0)) throw new ConfigError('clipRange', `must be a positive number, got ${clip}`);
  if (!(weight >= 0 && weight <= 1)) throw new ConfigError('weight', `must be in [0, 1], got ${weight}`);
  const out = new Uint32Array(params.length + 1);
  const wCode = roundStochastic(weight * levels, levels, rng);
  out[0] = wCode;
  const w = wCode / levels;
  const scale = levels / (2 * clip);
  for (let i = 0; i < params.length; i++) {
    const d = (params[i] as number) - (global[i] as number);
    if (!Number.isFinite(d)) throw new ValidationError(undefined, `parameter ${i} is ${params[i]}, not a finite number`);
    const c = d < -clip ? -clip : d > clip ? clip : d;
    out[i + 1] = roundStochastic((w * c + clip) * scale, levels, rng);
  }
  return out;
}

/**
 * Decodes the ring sum of `n` SecAgg+ input vectors ({@link quantizeWeightedDelta}) into Σ w_k and
 * Σ w_k·clip(Δ_k) in float64.
 * @throws ConfigError for bad bits or clip, or an n whose sum could have wrapped.
 */
export function decodeWeightedSum(sum: Uint32Array, n: number, clip: number, bits: number): { weightedDeltaSum: Float64Array; weightSum: number } {
  if (sum.length < 1) throw new ConfigError('sum', 'must hold at least the weight element');
  if (!(Number.isFinite(clip) && clip > 0)) throw new ConfigError('clipRange', `must be a positive number, got ${clip}`);
  const weightSum = dequantizeSum(sum.subarray(0, 1), n, { lo: 0, hi: 1, bits })[0] as number;
  const weightedDeltaSum = dequantizeSum(sum.subarray(1), n, { lo: -clip, hi: clip, bits });
  return { weightedDeltaSum, weightSum };
}
