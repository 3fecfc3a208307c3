/**
 * Typed access to parsed command-line flags, with errors that name the flag.
 */
import { ConfigError } from '../core/errors.js';

/** Values as node:util parseArgs returns them. */
export type FlagValues = Readonly<Record<string, string | boolean | (string | boolean)[] | undefined>>;

/** A string flag, or undefined when absent. */
export function flagString(v: FlagValues, name: string): string | undefined {
  const x = v[name];
  if (x === undefined) return undefined;
  if (typeof x !== 'string') throw new ConfigError(`--${name}`, 'expects a value');
  return x;
}

/** A numeric flag within bounds, or the default. */
export function flagNumber(
  v: FlagValues,
  name: string,
  fallback: number,
  opts: { integer?: boolean; min?: number; max?: number } = {},
): number {
  const s = flagString(v, name);
  if (s === undefined) return fallback;
  const n = Number(s);
  if (s.trim() === '' || !Number.isFinite(n)) throw new ConfigError(`--${name}`, `expects a number, got "${s}"`);
  if (opts.integer === true && !Number.isInteger(n)) throw new ConfigError(`--${name}`, `expects an integer, got "${s}"`);
  if (opts.min !== undefined && n < opts.min) throw new ConfigError(`--${name}`, `must be ≥ ${opts.min}, got ${n}`);
  if (opts.max !== undefined && n > opts.max) throw new ConfigError(`--${name}`, `must be ≤ ${opts.max}, got ${n}`);
  return n;
}

/** An optional numeric flag. */
export function flagOptionalNumber(v: FlagValues, name: string, opts: { integer?: boolean; min?: number; max?: number } = {}): number | undefined {
  return flagString(v, name) === undefined ? undefined : flagNumber(v, name, 0, opts);
}

/** A flag restricted to a set of values. */
export function flagChoice<T extends string>(v: FlagValues, name: string, choices: readonly T[], fallback: T): T {
  const s = flagString(v, name);
  if (s === undefined) return fallback;
  const found = choices.find((c) => c === s);
  if (found === undefined) throw new ConfigError(`--${name}`, `must be one of ${choices.join(', ')}; got "${s}"`);
  return found;
}

/** A comma-separated list of positive integers (e.g. --hidden 32,16). */
export function flagIntList(v: FlagValues, name: string, fallback: readonly number[]): number[] {
  const s = flagString(v, name);
  if (s === undefined) return [...fallback];
  const parts = s.split(',').map((p) => Number(p.trim()));
  if (parts.length === 0 || parts.some((p) => !Number.isInteger(p) || p < 1)) {
    throw new ConfigError(`--${name}`, `expects comma-separated positive integers, got "${s}"`);
  }
  return parts;
}
