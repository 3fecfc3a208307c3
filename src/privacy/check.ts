/**
 * Argument checks shared by the privacy mechanisms: each names the argument in its ConfigError.
 */
import { ConfigError } from '../core/errors.js';

/** `v` if it is a finite number > 0. @throws ConfigError naming `field` */
export function positive(field: string, v: number): number {
  if (!(Number.isFinite(v) && v > 0)) throw new ConfigError(field, `must be a finite number > 0, got ${String(v)}`);
  return v;
}

/** `v` if it is a finite number ≥ 0. @throws ConfigError naming `field` */
export function nonNegative(field: string, v: number): number {
  if (!(Number.isFinite(v) && v >= 0)) throw new ConfigError(field, `must be a finite number ≥ 0, got ${String(v)}`);
  return v;
}
