/**
 * Small assertion helpers for strategy hyper-parameters: each names the option it rejects, so a
 * bad CLI flag or job-config entry is reported as `ConfigError("fractionFit: ...")`.
 */
import { ConfigError } from '../core/errors.js';

function show(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

/** Returns `value` if it is a finite number with lo ≤ value ≤ hi (bounds exclusive when asked). */
export function checkNumber(
  field: string,
  value: unknown,
  range: { readonly min?: number; readonly max?: number; readonly minExclusive?: boolean; readonly maxExclusive?: boolean } = {},
): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new ConfigError(field, `must be a finite number, got ${show(value)}`);
  }
  const { min, max, minExclusive = false, maxExclusive = false } = range;
  if (min !== undefined && (minExclusive ? value <= min : value < min)) {
    throw new ConfigError(field, `must be ${minExclusive ? '>' : '≥'} ${min}, got ${value}`);
  }
  if (max !== undefined && (maxExclusive ? value >= max : value > max)) {
    throw new ConfigError(field, `must be ${maxExclusive ? '<' : '≤'} ${max}, got ${value}`);
  }
  return value;
}

/** Returns `value` if it is an integer ≥ `min`. */
export function checkInteger(field: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new ConfigError(field, `must be an integer, got ${show(value)}`);
  }
  if (value < min) throw new ConfigError(field, `must be ≥ ${min}, got ${value}`);
  return value;
}

/** Returns `value` if it is a non-empty string. */
export function checkName(field: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new ConfigError(field, `must be a non-empty string, got ${show(value)}`);
  }
  return value;
}
