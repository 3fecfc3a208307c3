/**
 * Finite-difference check of a model's analytic gradient, for tests of hand-written backpropagation.
 */
import { ConfigError } from '../core/errors.js';
import type { Model } from './model.js';

/**
 * Largest relative error between `model.lossAndGrad`'s gradient over all of `rows` and central
 * finite differences of its loss, over every parameter.
 *
 * Parameters are float32, so `w ± eps` is rounded before use; the difference quotient divides by
 * the step actually taken, and the loss itself is a float64 sum. The relative error of one
 * coordinate is |analytic − numeric| / max(|analytic|, |numeric|, 1e-3); the floor stops
 * near-zero coordinates, where the O(eps²) truncation error dominates, from reporting noise.
 * `params` is restored before returning; a NaN loss or gradient yields Infinity.
 * @throws {ConfigError} when `eps` is not positive or `rows` is empty.
 */
export function gradientCheck(
  model: Model,
  params: Float32Array,
  x: Float32Array,
  y: Float32Array,
  rows: Uint32Array,
  eps = 1e-3,
): number {
  if (!(eps > 0 && Number.isFinite(eps))) throw new ConfigError('eps', `must be a positive number, got ${eps}`);
  if (rows.length === 0) throw new ConfigError('rows', 'must select at least one row');
  const analytic = new Float32Array(model.numParams);
  const scratch = new Float32Array(model.numParams);
  model.lossAndGrad(params, x, y, rows, 0, rows.length, analytic);
  let worst = 0;
  for (let i = 0; i < params.length; i++) {
    const original = params[i]!;
    params[i] = original + eps;
    const up = params[i]!;
    const lossUp = model.lossAndGrad(params, x, y, rows, 0, rows.length, scratch);
    params[i] = original - eps;
    const down = params[i]!;
    const lossDown = model.lossAndGrad(params, x, y, rows, 0, rows.length, scratch);
    params[i] = original;
    const numeric = (lossUp - lossDown) / (up - down);
    const a = analytic[i]!;
    const err = Math.abs(a - numeric) / Math.max(Math.abs(a), Math.abs(numeric), 1e-3);
    // A NaN anywhere is a failed check, never a pass.
    if (Number.isNaN(err)) return Infinity;
    if (err > worst) worst = err;
  }
  return worst;
}
