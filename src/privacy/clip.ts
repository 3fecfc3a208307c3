/**
 * L2-norm clipping, which bounds one contributor's sensitivity for the Gaussian mechanism: a vector
 * is scaled by min(1, C/‖v‖₂) (Abadi et al., "Deep Learning with Differential Privacy", CCS 2016,
 * Algorithm 1; McMahan et al., "Learning Differentially Private Recurrent Language Models", ICLR 2018).
 */
import { ConfigError, ValidationError } from '../core/errors.js';
import { l2norm, type Vector } from '../core/math.js';

/** What one clipping did: the norm before clipping and the factor applied (1 when within the bound). */
export interface ClipResult {
  readonly norm: number;
  readonly factor: number;
}

/** A clipped update delta w_k − w (float64, so that later noise and sums lose nothing). */
export interface ClippedDelta extends ClipResult {
  readonly delta: Float64Array;
}

function checkMaxNorm(maxNorm: number): void {
  if (!(Number.isFinite(maxNorm) && maxNorm > 0)) throw new ConfigError('clipNorm', `must be a finite number > 0, got ${String(maxNorm)}`);
}

/**
 * Scales `v` in place so that ‖v‖₂ ≤ `maxNorm`. After rounding to the array's precision the norm is
 * re-checked and, if it still exceeds the bound by an ulp, scaled once more, so the bound holds exactly
 * as stored (float32 arrays included).
 * @throws {ConfigError} if `maxNorm` is not a finite number > 0.
 * @throws {ValidationError} if `v` holds a NaN or infinity (its norm is then undefined).
 */
export function clipL2(v: Vector, maxNorm: number): ClipResult {
  checkMaxNorm(maxNorm);
  const norm = l2norm(v);
  if (!Number.isFinite(norm)) throw new ValidationError(undefined, `cannot clip a vector whose norm is ${norm} (it holds a NaN or infinity)`);
  if (norm <= maxNorm) return { norm, factor: 1 };
  let factor = maxNorm / norm;
  for (let i = 0; i < v.length; i++) v[i] = v[i]! * factor;
  const after = l2norm(v);
  if (after > maxNorm) {
    // Rounding pushed the norm an ulp over: shrink by a relative 1e-6, far above float32's 6e-8 epsilon.
    const fix = (maxNorm / after) * (1 - 1e-6);
    for (let i = 0; i < v.length; i++) v[i] = v[i]! * fix;
    factor *= fix;
  }
  return { norm, factor };
}

/**
 * The update delta `params − reference`, clipped to L2 norm `maxNorm`.
 * @throws {ConfigError} if `maxNorm` is not a finite number > 0.
 * @throws {ValidationError} naming `participant` (when given) if the lengths differ or the delta is not finite.
 */
export function clipDelta(params: Float32Array, reference: Float32Array, maxNorm: number, participant?: string): ClippedDelta {
  if (params.length !== reference.length) {
    throw new ValidationError(participant, `update has ${params.length} parameters, the reference model ${reference.length}`);
  }
  const delta = new Float64Array(params.length);
  for (let i = 0; i < delta.length; i++) delta[i] = params[i]! - reference[i]!;
  try {
    const r = clipL2(delta, maxNorm);
    return { delta, norm: r.norm, factor: r.factor };
  } catch (err) {
    if (err instanceof ValidationError) throw new ValidationError(participant, `update delta is not finite: ${err.message}`, { cause: err });
    throw err;
  }
}
