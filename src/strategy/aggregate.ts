/**
 * The weighted-average kernel every averaging strategy ends in: w = Σ_k (a_k / Σ_j a_j) · w_k
 * (McMahan et al. 2017, "Communication-Efficient Learning of Deep Networks from Decentralized Data",
 * Algorithm 1, with a_k = n_k).
 */
import { ValidationError } from '../core/errors.js';
import { simdWeightedSum } from './simd-weighted-sum.js';

/** One vector to average and its non-negative weight (for FedAvg, n_k). */
export interface WeightedParams {
  readonly params: Float32Array;
  readonly weight: number;
}

/** Below this length the per-block copies of the SIMD path cost more than they save. */
const SIMD_MIN_LENGTH = 1024;
/** Float64 accumulator block of the scalar path: 16 KiB, resident in L1 while all updates stream past. */
const SCALAR_BLOCK = 2048;

/**
 * Weighted mean Σ_k (weight_k / Σ_j weight_j) · params_k, written into `out` (or a new array).
 *
 * Speed and precision: for long vectors a WebAssembly SIMD kernel is used (see
 * `simd-weighted-sum.ts`): products and 4-update partial sums in float32, accumulation across
 * updates in float64, one final rounding; for 100 × 1M parameters it reads its input at about 58%
 * of the rate `Float32Array.set` copies the same bytes (Node 20; `aggregate.bench.ts`).
 * Otherwise a blocked scalar loop accumulates in float64. Either way the error does not grow with
 * the number of updates. Zero-weight updates are skipped. `out` may be one of the inputs.
 * Non-finite parameters propagate; screening them is the transport edge's job.
 *
 * @throws ValidationError if `updates` is empty, lengths differ, `out` has the wrong length, a
 *   weight is negative or not finite, or all weights are 0 (the message names `updates[k]`).
 */
export function weightedAverage(updates: readonly WeightedParams[], out?: Float32Array): Float32Array {
  const first = updates[0];
  if (first === undefined) throw new ValidationError(undefined, 'weightedAverage: no updates to average');
  const n = first.params.length;
  let total = 0;
  for (let k = 0; k < updates.length; k++) {
    const u = updates[k] as WeightedParams;
    if (u.params.length !== n) {
      throw new ValidationError(undefined, `weightedAverage: updates[${k}].params has length ${u.params.length}, expected ${n}`);
    }
    if (!Number.isFinite(u.weight) || u.weight < 0) {
      throw new ValidationError(undefined, `weightedAverage: updates[${k}].weight must be finite and ≥ 0, got ${u.weight}`);
    }
    total += u.weight;
  }
  if (!(total > 0) || !Number.isFinite(total)) {
    throw new ValidationError(undefined, `weightedAverage: total weight must be positive and finite, got ${total}`);
  }
  const result = out ?? new Float32Array(n);
  if (result.length !== n) {
    throw new ValidationError(undefined, `weightedAverage: out has length ${result.length}, expected ${n}`);
  }
  const params: Float32Array[] = [];
  const coeffs: number[] = [];
  for (const u of updates) {
    if (u.weight === 0) continue;
    params.push(u.params);
    coeffs.push(u.weight / total);
  }
  const only = params[0];
  if (params.length === 1 && only !== undefined) {
    // The sole coefficient is exactly 1: copy rather than round through a multiply.
    if (only !== result) result.set(only);
    return result;
  }
  const c = Float64Array.from(coeffs);
  if (n < SIMD_MIN_LENGTH || !simdWeightedSum(params, c, result)) scalarWeightedSum(params, c, result);
  return result;
}

/**
 * out[i] = Σ_k coeffs[k] · params[k][i] in plain JavaScript: products and sums in float64 over an
 * L1-sized block, four updates per pass; one rounding to float32 per element. Exported for tests.
 */
export function scalarWeightedSum(params: readonly Float32Array[], coeffs: Float64Array, out: Float32Array): void {
  const n = out.length;
  const count = params.length;
  const acc = new Float64Array(Math.min(n, SCALAR_BLOCK));
  for (let start = 0; start < n; start += SCALAR_BLOCK) {
    const end = Math.min(n, start + SCALAR_BLOCK);
    acc.fill(0);
    let k = 0;
    for (; k + 4 <= count; k += 4) {
      const p0 = params[k] as Float32Array;
      const p1 = params[k + 1] as Float32Array;
      const p2 = params[k + 2] as Float32Array;
      const p3 = params[k + 3] as Float32Array;
      const c0 = coeffs[k] as number;
      const c1 = coeffs[k + 1] as number;
      const c2 = coeffs[k + 2] as number;
      const c3 = coeffs[k + 3] as number;
      for (let i = start, j = 0; i < end; i++, j++) {
        acc[j] = (acc[j] as number) + (c0 * (p0[i] as number) + c1 * (p1[i] as number)) + (c2 * (p2[i] as number) + c3 * (p3[i] as number));
      }
    }
    for (; k < count; k++) {
      const p = params[k] as Float32Array;
      const c = coeffs[k] as number;
      for (let i = start, j = 0; i < end; i++, j++) acc[j] = (acc[j] as number) + c * (p[i] as number);
    }
    for (let i = start, j = 0; i < end; i++, j++) out[i] = acc[j] as number;
  }
}
