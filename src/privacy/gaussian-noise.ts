/**
 * Gaussian noise for the Gaussian mechanism (Dwork, Roth, "The Algorithmic Foundations of
 * Differential Privacy", 2014, §3.5.3 / Appendix A).
 *
 * Honest limits: samples come from the generator's `normal()` (Box–Muller on float64). Floating-point
 * samplers are not exactly Gaussian in their lowest bits, which Mironov ("On Significance of the Least
 * Significant Bits for Differential Privacy", CCS 2012) showed can leak for the Laplace mechanism; a
 * discrete Gaussian (Canonne, Kamath, Steinke 2020) would close that gap. In production the generator
 * must be `cryptoRng()`: a seeded generator makes the noise predictable and the guarantee void.
 */
import { ConfigError } from '../core/errors.js';
import type { Vector } from '../core/math.js';
import type { Rng } from '../core/rng.js';

function checkStd(std: number): void {
  if (!(Number.isFinite(std) && std >= 0)) throw new ConfigError('std', `noise standard deviation must be a finite number ≥ 0, got ${String(std)}`);
}

/**
 * Adds independent N(0, std²) noise to every element of `v`, in place, drawing from `rng`
 * (`cryptoRng()` in production). std = 0 leaves `v` unchanged and draws nothing.
 * @throws {ConfigError} if `std` is negative or not finite.
 */
export function addGaussianNoise(v: Vector, std: number, rng: Rng): void {
  checkStd(std);
  if (std === 0) return;
  for (let i = 0; i < v.length; i++) v[i] = v[i]! + std * rng.normal();
}

/**
 * A new float64 vector of `length` independent N(0, std²) samples from `rng`.
 * @throws {ConfigError} if `std` is negative or not finite, or `length` is not a non-negative integer.
 */
export function gaussianNoise(length: number, std: number, rng: Rng): Float64Array {
  if (!(Number.isSafeInteger(length) && length >= 0)) throw new ConfigError('length', `must be an integer ≥ 0, got ${String(length)}`);
  const out = new Float64Array(length);
  addGaussianNoise(out, std, rng);
  return out;
}
