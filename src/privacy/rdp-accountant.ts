/**
 * Rényi differential privacy (RDP) accountant for the Poisson-sampled Gaussian mechanism (SGM):
 * Mironov, Talwar, Zhang, "Rényi Differential Privacy of the Sampled Gaussian Mechanism", 2019
 * (arXiv:1908.10530), Section 3.3, for integer and fractional orders; composition over steps is the
 * sum of RDP curves (Mironov, "Rényi Differential Privacy", CSF 2017, Proposition 1).
 *
 * Conversion to (ε, δ)-DP, default `'improved'`: ε = rdp(α) + log((α−1)/α) − (log δ + log α)/(α−1),
 * minimised over α (Balle, Barthe, Gaboardi, Hsu, Sato, "Hypothesis Testing Interpretations and
 * Rényi Differential Privacy", AISTATS 2020, Theorem 21; Canonne, Kamath, Steinke, "The Discrete
 * Gaussian for Differential Privacy", NeurIPS 2020, Proposition 12). This is the formula of Opacus'
 * `privacy_analysis.get_privacy_spent` and of the `dp_accounting` library behind TensorFlow Privacy,
 * including dp_accounting's two guards: ε = 0 when δ ≥ √(1 − e^(−rdp)) (the KL-divergence bound), and
 * orders α ≤ 1.01 skipped as numerically unstable. `'classic'` is Mironov 2017, Proposition 3,
 * ε = rdp(α) − log δ/(α−1), which older TensorFlow Privacy releases (and their published tables) used.
 *
 * Adjacency is add-or-remove-one record (the sampling analysis needs it).
 */
import { ConfigError, EduFedError } from '../core/errors.js';

/** Orders 1.1, 1.2, …, 10.9, then 11…63 and 128, 256, 512, 1024: dp_accounting's `DEFAULT_RDP_ORDERS`. */
export const DEFAULT_RDP_ORDERS: readonly number[] = Object.freeze([
  ...Array.from({ length: 99 }, (_, i) => 1 + (i + 1) / 10),
  ...Array.from({ length: 53 }, (_, i) => 11 + i),
  128,
  256,
  512,
  1024,
]);

/** Opacus' `RDPAccountant.DEFAULT_ALPHAS`: 1.1, 1.2, …, 10.9, then 12…63. */
export const OPACUS_RDP_ORDERS: readonly number[] = Object.freeze([
  ...Array.from({ length: 99 }, (_, i) => 1 + (i + 1) / 10),
  ...Array.from({ length: 52 }, (_, i) => 12 + i),
]);

/** The orders of TensorFlow Privacy's `compute_dp_sgd_privacy_lib.compute_dp_sgd_privacy`. */
export const TF_PRIVACY_DP_SGD_ORDERS: readonly number[] = Object.freeze([
  1.25, 1.5, 1.75, 2, 2.25, 2.5, 3, 3.5, 4, 4.5,
  ...Array.from({ length: 59 }, (_, i) => 5 + i),
  128,
  256,
  512,
]);

/** How RDP is turned into (ε, δ)-DP; see the module comment. */
export type RdpConversion = 'improved' | 'classic';

/** An (ε, δ) guarantee and the RDP order α that gave it (NaN when ε is infinite). */
export interface PrivacySpent {
  readonly epsilon: number;
  readonly order: number;
}

/** One homogeneous run of the SGM: `steps` applications with sampling rate `q` and noise multiplier `sigma`. */
export interface SgmSteps {
  readonly q: number;
  readonly sigma: number;
  readonly steps: number;
}

const LN_HALF = Math.log(0.5);
const LOG_SQRT_PI = 0.5 * Math.log(Math.PI);
/** Terms of the fractional-order series below e^−30 of A_α no longer matter (same cut-off as Mironov et al.). */
const SERIES_CUTOFF = -30;
/** A guard against a series that never reaches the cut-off (never seen for σ ≥ 0.01). */
const MAX_SERIES_TERMS = 1_000_000;

/** log(e^a + e^b) without overflow. */
function logAdd(a: number, b: number): number {
  const lo = Math.min(a, b);
  const hi = Math.max(a, b);
  if (lo === -Infinity) return hi;
  return Math.log1p(Math.exp(lo - hi)) + hi;
}

/** log(e^a − e^b) for a ≥ b; exact branch choice keeps relative precision at both ends. */
function logSub(a: number, b: number): number {
  if (b === -Infinity) return a;
  if (a === b) return -Infinity;
  if (a < b) {
    throw new EduFedError('INTERNAL', `rdp-accountant: log-space subtraction went negative (${a} − ${b}); the RDP series lost precision`);
  }
  const d = a - b;
  return d > 1 ? a + Math.log1p(-Math.exp(-d)) : Math.log(Math.expm1(d)) + b;
}

/**
 * log(erfc(x)) for every finite x, accurate to about 1e-13 relative, without underflow for large x.
 * Internal; exported for tests.
 */
export function logErfc(x: number): number {
  if (x > 2) return logErfcTail(x);
  if (x < -2) return Math.log(2 - Math.exp(logErfcTail(-x)));
  return Math.log1p(-erf(x));
}

/** erf(x) = (2/√π)·e^(−x²)·Σ 2ⁿx^(2n+1)/(1·3···(2n+1)); every term is positive, so no cancellation. */
function erf(x: number): number {
  const x2 = x * x;
  let term = x;
  let sum = x;
  for (let n = 1; n < 200; n++) {
    term *= (2 * x2) / (2 * n + 1);
    sum += term;
    if (Math.abs(term) < 1e-17 * Math.abs(sum)) break;
  }
  return (2 / Math.sqrt(Math.PI)) * Math.exp(-x2) * sum;
}

/**
 * log(erfc(x)) for x > 2 from the continued fraction erfc(x) = e^(−x²)/√π · 1/(x + ½/(x + 1/(x + 3/2/(x + …)))),
 * evaluated by the modified Lentz method.
 */
function logErfcTail(x: number): number {
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let k = 1; k < 5000; k++) {
    const a = k / 2;
    d = x + a * d;
    if (d === 0) d = tiny;
    c = x + a / c;
    if (c === 0) c = tiny;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return -x * x - LOG_SQRT_PI - Math.log(f);
}

/** log A_α for integer α: log Σ_{i=0}^{α} C(α,i)(1−q)^(α−i) q^i exp((i²−i)/(2σ²)). */
function logAInteger(q: number, sigma: number, alpha: number): number {
  const logQ = Math.log(q);
  const log1mQ = Math.log1p(-q);
  const twoS2 = 2 * sigma * sigma;
  let logA = -Infinity;
  let logBinom = 0;
  for (let i = 0; i <= alpha; i++) {
    if (i > 0) logBinom += Math.log((alpha - i + 1) / i);
    logA = logAdd(logA, logBinom + i * logQ + (alpha - i) * log1mQ + (i * i - i) / twoS2);
  }
  return logA;
}

/** log A_α for fractional α: the two series split at z₀ = σ²·log(1/q − 1) + ½ (Mironov et al. 2019, §3.3). */
function logAFractional(q: number, sigma: number, alpha: number): number {
  const logQ = Math.log(q);
  const log1mQ = Math.log1p(-q);
  const twoS2 = 2 * sigma * sigma;
  const sqrt2S = Math.SQRT2 * sigma;
  const z0 = sigma * sigma * (log1mQ - logQ) + 0.5;
  let logA0 = -Infinity;
  let logA1 = -Infinity;
  // Generalised binomial C(α, i) as sign and log-magnitude: it alternates in sign once i > α.
  let logAbsCoef = 0;
  let positive = true;
  for (let i = 0; i < MAX_SERIES_TERMS; i++) {
    if (i > 0) {
      const factor = (alpha - i + 1) / i;
      logAbsCoef += Math.log(Math.abs(factor));
      if (factor < 0) positive = !positive;
    }
    const j = alpha - i;
    const logS0 = logAbsCoef + i * logQ + j * log1mQ + (i * i - i) / twoS2 + LN_HALF + logErfc((i - z0) / sqrt2S);
    const logS1 = logAbsCoef + j * logQ + i * log1mQ + (j * j - j) / twoS2 + LN_HALF + logErfc((z0 - j) / sqrt2S);
    if (positive) {
      logA0 = logAdd(logA0, logS0);
      logA1 = logAdd(logA1, logS1);
    } else {
      logA0 = logSub(logA0, logS0);
      logA1 = logSub(logA1, logS1);
    }
    if (Math.max(logS0, logS1) < SERIES_CUTOFF) return logAdd(logA0, logA1);
  }
  throw new EduFedError('INTERNAL', `rdp-accountant: the series for order ${alpha} (q = ${q}, σ = ${sigma}) did not converge`);
}

/** RDP of one SGM application at order α. */
function rdpOneStep(q: number, sigma: number, alpha: number): number {
  if (q === 0) return 0;
  if (sigma === 0) return Infinity;
  if (q === 1) return alpha / (2 * sigma * sigma);
  const logA = Number.isInteger(alpha) ? logAInteger(q, sigma, alpha) : logAFractional(q, sigma, alpha);
  return logA / (alpha - 1);
}

function checkSgm(q: number, sigma: number, steps: number): void {
  if (!(Number.isFinite(q) && q >= 0 && q <= 1)) throw new ConfigError('q', `sampling rate must be in [0, 1], got ${String(q)}`);
  if (!(Number.isFinite(sigma) && sigma >= 0)) {
    throw new ConfigError('sigma', `noise multiplier must be a finite number ≥ 0, got ${String(sigma)}`);
  }
  if (!(Number.isSafeInteger(steps) && steps >= 0)) throw new ConfigError('steps', `must be an integer ≥ 0, got ${String(steps)}`);
}

function checkOrders(orders: readonly number[]): void {
  if (orders.length === 0) throw new ConfigError('orders', 'must list at least one RDP order');
  orders.forEach((a, i) => {
    if (!(Number.isFinite(a) && a > 1)) throw new ConfigError(`orders[${i}]`, `RDP order must be a finite number > 1, got ${String(a)}`);
  });
}

function checkDelta(delta: number): void {
  if (!(Number.isFinite(delta) && delta > 0 && delta < 1)) throw new ConfigError('delta', `must be in (0, 1), got ${String(delta)}`);
}

/**
 * RDP of the Poisson-sampled Gaussian mechanism with sampling rate `q` and noise multiplier `sigma`
 * (noise std / L2 sensitivity), composed over `steps` steps, at each of `orders`.
 * q = 0 gives 0, σ = 0 gives ∞, q = 1 gives the plain Gaussian mechanism's steps·α/(2σ²).
 * (Mironov, Talwar, Zhang 2019.)
 * @throws {ConfigError} naming the argument: q outside [0, 1], σ < 0, steps not a non-negative integer, an order ≤ 1.
 */
export function computeRdp(q: number, sigma: number, steps: number, orders: readonly number[] = DEFAULT_RDP_ORDERS): number[] {
  checkSgm(q, sigma, steps);
  checkOrders(orders);
  if (steps === 0) return orders.map(() => 0);
  return orders.map((alpha) => steps * rdpOneStep(q, sigma, alpha));
}

/**
 * The smallest ε over `orders` such that the RDP curve `rdp` implies (ε, `delta`)-DP, and its order.
 * Ties go to the first order listed. `'improved'` is the default (see the module comment).
 * @throws {ConfigError} naming the argument: lengths differ, δ outside (0, 1), an order ≤ 1, a negative or NaN RDP value.
 */
export function epsilonFromRdp(
  rdp: readonly number[],
  orders: readonly number[],
  delta: number,
  conversion: RdpConversion = 'improved',
): PrivacySpent {
  checkOrders(orders);
  checkDelta(delta);
  if (rdp.length !== orders.length) {
    throw new ConfigError('rdp', `has ${rdp.length} values but there are ${orders.length} orders`);
  }
  const logDelta = Math.log(delta);
  let best = Infinity;
  let bestOrder = Number.NaN;
  for (let k = 0; k < orders.length; k++) {
    const a = orders[k]!;
    const r = rdp[k]!;
    if (!(r >= 0)) throw new ConfigError(`rdp[${k}]`, `RDP must be ≥ 0, got ${String(r)}`);
    let eps: number;
    if (conversion === 'classic') {
      eps = r - logDelta / (a - 1);
    } else if (delta * delta + Math.expm1(-r) > 0) {
      eps = 0;
    } else if (a > 1.01) {
      eps = r + Math.log1p(-1 / a) - (logDelta + Math.log(a)) / (a - 1);
    } else {
      eps = Infinity;
    }
    if (eps < best) {
      best = eps;
      bestOrder = a;
    }
  }
  return { epsilon: Math.max(0, best), order: bestOrder };
}

/**
 * Accumulates the RDP of heterogeneous SGM runs (rounds with different q, σ or step counts compose by
 * adding their RDP curves) and reports the (ε, δ) spent so far. Mutable; use {@link RdpAccountant.clone}
 * to project a hypothetical next step without recording it.
 */
export class RdpAccountant {
  readonly orders: readonly number[];
  private readonly total: number[];
  private readonly runs: SgmSteps[] = [];
  /** RDP of one step per distinct (q, σ), since rounds usually repeat the same pair. */
  private readonly perStep = new Map<string, readonly number[]>();

  /** @throws {ConfigError} for an empty order list or an order ≤ 1. */
  constructor(orders: readonly number[] = DEFAULT_RDP_ORDERS) {
    checkOrders(orders);
    this.orders = Object.freeze([...orders]);
    this.total = this.orders.map(() => 0);
  }

  /**
   * Records `steps` applications of the SGM with sampling rate `q` and noise multiplier `sigma`;
   * consecutive calls with the same (q, σ) merge into one run of the history.
   * @throws {ConfigError} naming the argument: q outside [0, 1], σ < 0, steps not a non-negative integer.
   */
  compose(q: number, sigma: number, steps = 1): this {
    checkSgm(q, sigma, steps);
    if (steps === 0) return this;
    const one = this.oneStep(q, sigma);
    for (let k = 0; k < this.total.length; k++) this.total[k] = this.total[k]! + steps * one[k]!;
    const last = this.runs[this.runs.length - 1];
    if (last !== undefined && last.q === q && last.sigma === sigma) {
      this.runs[this.runs.length - 1] = { q, sigma, steps: last.steps + steps };
    } else {
      this.runs.push({ q, sigma, steps });
    }
    return this;
  }

  /** The runs recorded so far, oldest first. */
  history(): readonly SgmSteps[] {
    return this.runs.slice();
  }

  /** The composed RDP at each of {@link RdpAccountant.orders} (a copy). */
  rdp(): number[] {
    return this.total.slice();
  }

  /**
   * (ε, `delta`) spent so far and the best order; ε = 0 before any step.
   * @throws {ConfigError} if δ is outside (0, 1).
   */
  getPrivacySpent(delta: number, conversion: RdpConversion = 'improved'): PrivacySpent {
    return epsilonFromRdp(this.total, this.orders, delta, conversion);
  }

  /** ε spent so far at `delta`. @throws {ConfigError} if δ is outside (0, 1). */
  getEpsilon(delta: number, conversion: RdpConversion = 'improved'): number {
    return this.getPrivacySpent(delta, conversion).epsilon;
  }

  /** An independent copy with the same orders and history. */
  clone(): RdpAccountant {
    const copy = new RdpAccountant(this.orders);
    for (let k = 0; k < this.total.length; k++) copy.total[k] = this.total[k]!;
    copy.runs.push(...this.runs);
    for (const [key, v] of this.perStep) copy.perStep.set(key, v);
    return copy;
  }

  private oneStep(q: number, sigma: number): readonly number[] {
    const key = `${q}|${sigma}`;
    let one = this.perStep.get(key);
    if (one === undefined) {
      one = computeRdp(q, sigma, 1, this.orders);
      this.perStep.set(key, one);
    }
    return one;
  }
}

/** Arguments of {@link noiseMultiplierFor}. */
export interface NoiseMultiplierQuery {
  readonly targetEpsilon: number;
  readonly delta: number;
  /** Sampling rate of each step. */
  readonly q: number;
  /** Number of steps the whole run takes. */
  readonly steps: number;
  readonly orders?: readonly number[];
  readonly conversion?: RdpConversion;
  /** Stop bisecting when the bracket is narrower than this fraction of σ; default 1e-4. */
  readonly relativeTolerance?: number;
}

/** Noise multipliers above this are treated as "the budget cannot be met" (as Opacus' MAX_SIGMA). */
const MAX_NOISE_MULTIPLIER = 1e6;

/**
 * The smallest noise multiplier σ (to within `relativeTolerance`) for which `steps` SGM steps at rate
 * `q` stay within (targetEpsilon, delta)-DP, by doubling then bisection on the monotone map σ ↦ ε
 * (as Opacus' `get_noise_multiplier`). The σ returned always meets the target: it is the upper end of
 * the final bracket. Returns 0 when no step samples anyone (steps = 0 or q = 0).
 * @throws {ConfigError} naming the argument for invalid inputs, or `targetEpsilon` when even
 *   σ = 10⁶ cannot meet it (the target is below what these orders can certify).
 */
export function noiseMultiplierFor(query: NoiseMultiplierQuery): number {
  const { targetEpsilon, delta, q, steps } = query;
  const orders = query.orders ?? DEFAULT_RDP_ORDERS;
  const conversion = query.conversion ?? 'improved';
  const tol = query.relativeTolerance ?? 1e-4;
  if (!(Number.isFinite(targetEpsilon) && targetEpsilon > 0)) {
    throw new ConfigError('targetEpsilon', `must be a finite number > 0, got ${String(targetEpsilon)}`);
  }
  if (!(Number.isFinite(tol) && tol > 0 && tol < 1)) throw new ConfigError('relativeTolerance', `must be in (0, 1), got ${String(tol)}`);
  checkDelta(delta);
  checkSgm(q, 1, steps);
  checkOrders(orders);
  if (steps === 0 || q === 0) return 0;
  const eps = (sigma: number): number => epsilonFromRdp(computeRdp(q, sigma, steps, orders), orders, delta, conversion).epsilon;
  let lo = 0;
  let hi = 1;
  while (eps(hi) > targetEpsilon) {
    lo = hi;
    hi *= 2;
    if (hi > MAX_NOISE_MULTIPLIER) {
      throw new ConfigError(
        'targetEpsilon',
        `ε = ${targetEpsilon} at δ = ${delta} is out of reach for ${steps} steps at sampling rate ${q}: even noise multiplier ${MAX_NOISE_MULTIPLIER} exceeds it`,
      );
    }
  }
  while (hi - lo > tol * hi) {
    const mid = (lo + hi) / 2;
    if (eps(mid) <= targetEpsilon) hi = mid;
    else lo = mid;
  }
  return hi;
}
