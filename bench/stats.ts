/**
 * Small statistics for benchmark results: medians of repeated timings and a least-squares line.
 */
import { ConfigError } from '../src/core/errors.js';

/**
 * Median of the values (mean of the two middle ones for an even count).
 * @throws {ConfigError} for an empty list.
 */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new ConfigError('values', 'median of an empty list');
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** A fitted line y = intercept + slope·x and its coefficient of determination. */
export interface LinearFit {
  readonly slope: number;
  readonly intercept: number;
  /** R² = 1 − SS_res / SS_tot; 1 when every point is on the line (and when all y are equal). */
  readonly r2: number;
}

/**
 * Ordinary least-squares line through the points.
 * @throws {ConfigError} for fewer than two points, lengths that differ, or all x equal.
 */
export function linearFit(xs: readonly number[], ys: readonly number[]): LinearFit {
  if (xs.length !== ys.length) throw new ConfigError('ys', `has ${ys.length} values, xs has ${xs.length}`);
  const n = xs.length;
  if (n < 2) throw new ConfigError('xs', `a line needs at least 2 points, got ${n}`);
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = (xs[i] as number) - mx;
    const dy = (ys[i] as number) - my;
    sxx += dx * dx;
    sxy += dx * dy;
    syy += dy * dy;
  }
  if (sxx === 0) throw new ConfigError('xs', 'all x values are equal: the slope is undefined');
  const slope = sxy / sxx;
  const intercept = my - slope * mx;
  let ssRes = 0;
  for (let i = 0; i < n; i++) {
    const r = (ys[i] as number) - (intercept + slope * (xs[i] as number));
    ssRes += r * r;
  }
  return { slope, intercept, r2: syy === 0 ? 1 : 1 - ssRes / syy };
}

/**
 * Runs `fn` once to warm up, then `repeats` times; returns every timed duration in milliseconds.
 * @throws {ConfigError} when `repeats` is not a positive integer.
 */
export function timeRepeats(fn: () => void, repeats: number): number[] {
  if (!Number.isInteger(repeats) || repeats < 1) throw new ConfigError('repeats', `must be a positive integer, got ${repeats}`);
  fn();
  const out: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    fn();
    out.push(performance.now() - t0);
  }
  return out;
}
