import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ConfigError } from '../core/errors.js';
import {
  computeRdp,
  DEFAULT_RDP_ORDERS,
  epsilonFromRdp,
  logErfc,
  noiseMultiplierFor,
  OPACUS_RDP_ORDERS,
  RdpAccountant,
  TF_PRIVACY_DP_SGD_ORDERS,
} from './rdp-accountant.js';

/** |actual − expected| ≤ rel·|expected|. */
function assertClose(actual: number, expected: number, rel: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= rel * Math.abs(expected), `${what}: got ${actual}, expected ${expected} (±${rel * 100}%)`);
}

// ---------------------------------------------------------------------------------------------
// Known answers. Each value was published by TensorFlow Privacy or Opacus; the source is named.
// ---------------------------------------------------------------------------------------------

test('KAT Opacus: q = 0.04, σ = 1.5, 2250 steps, δ = 1e-5 gives ε = 7.32911117143 with its default orders', () => {
  // Source: pytorch/opacus, opacus/tests/accountants_test.py, test_rdp_accountant
  // (steps = int(90 / 0.04); RDPAccountant.DEFAULT_ALPHAS; Balle et al. 2020 conversion).
  // Prepare
  const accountant = new RdpAccountant(OPACUS_RDP_ORDERS);
  // Execute
  for (let i = 0; i < 2250; i++) accountant.compose(0.04, 1.5);
  // Assert
  assertClose(accountant.getEpsilon(1e-5), 7.32911117143, 1e-6, 'ε');
  assert.deepEqual(accountant.history(), [{ q: 0.04, sigma: 1.5, steps: 2250 }]);
});

test('KAT Opacus docstring: [(1e-5, 1.0, 10), (1e-4, 3.0, 4)] at orders 2..32, δ = 1e-5 gives (ε, α) = (0.336, 23)', () => {
  // Source: pytorch/opacus, opacus/accountants/analysis/rdp.py, module docstring example.
  const orders = Array.from({ length: 31 }, (_, i) => i + 2);
  const spent = new RdpAccountant(orders).compose(1e-5, 1.0, 10).compose(1e-4, 3.0, 4).getPrivacySpent(1e-5);
  assertClose(spent.epsilon, 0.336, 0.01, 'ε');
  assert.equal(spent.order, 23);
});

test('KAT TF Privacy compute_dp_sgd_privacy: three (n, B, σ, epochs, δ) cases give the published ε and order', () => {
  // Source: tensorflow/privacy, tensorflow_privacy/privacy/analysis/compute_dp_sgd_privacy_test.py,
  // test_compute_dp_sgd_privacy (q = B/n, steps = ceil(epochs·n/B), orders of compute_dp_sgd_privacy_lib.py).
  const cases = [
    { n: 60000, b: 150, sigma: 1.3, epochs: 15, delta: 1e-5, eps: 0.7242234026109595, order: 19 },
    { n: 100000, b: 100, sigma: 1.0, epochs: 30, delta: 1e-7, eps: 1.4154988495444842, order: 13 },
    { n: 100000000, b: 1024, sigma: 0.1, epochs: 10, delta: 1e-7, eps: 5907982.3113978775, order: 1.25 },
  ];
  for (const c of cases) {
    // Execute
    const rdp = computeRdp(c.b / c.n, c.sigma, Math.ceil((c.epochs * c.n) / c.b), TF_PRIVACY_DP_SGD_ORDERS);
    const spent = epsilonFromRdp(rdp, TF_PRIVACY_DP_SGD_ORDERS, c.delta);
    // Assert
    assertClose(spent.epsilon, c.eps, 1e-6, `ε for n = ${c.n}`);
    assert.equal(spent.order, c.order);
  }
});

test('KAT TF Privacy MNIST tutorial table (older, classic conversion): ε = 2.92, 9.74, 1.20 at δ = 1e-5', () => {
  // Source: tensorflow/privacy, tutorials/README.md ("Select Parameters" table) with the accounting of
  // tutorials/mnist_dpsgd_tutorial.py: q = 256/60000, steps = epochs · (60000 // 256), orders
  // 1.1..10.9 and 12..63, and the rdp_accountant of the time, i.e. ε = min rdp − log δ/(α−1).
  const rows = [
    { sigma: 1.12, epochs: 60, eps: 2.92 },
    { sigma: 0.6, epochs: 30, eps: 9.74 },
    { sigma: 1.2, epochs: 10, eps: 1.2 },
  ];
  for (const r of rows) {
    const rdp = computeRdp(256 / 60000, r.sigma, r.epochs * Math.floor(60000 / 256), OPACUS_RDP_ORDERS);
    const classic = epsilonFromRdp(rdp, OPACUS_RDP_ORDERS, 1e-5, 'classic').epsilon;
    assertClose(classic, r.eps, 0.01, `classic ε for σ = ${r.sigma}`);
    // The improved conversion certifies strictly less for the same run.
    assert.ok(epsilonFromRdp(rdp, OPACUS_RDP_ORDERS, 1e-5).epsilon < classic);
  }
});

test('KAT TF Privacy rdp_accountant_test: RDP values at integer and fractional orders', () => {
  // Source: tensorflow/privacy, tensorflow_privacy/privacy/analysis/rdp_accountant_test.py,
  // test_compute_rdp_scalar and test_compute_rdp_sequence (absolute tolerance 1e-5 there).
  assert.ok(Math.abs(computeRdp(0.1, 2, 10, [5])[0]! - 0.07737) < 1e-5);
  const expected = [0.00065, 0.001085, 0.00218075, 0.023846, 167.416307];
  const got = computeRdp(0.01, 2.5, 50, [1.5, 2.5, 5, 50, 100]);
  got.forEach((v, i) => assert.ok(Math.abs(v - expected[i]!) < 1e-5, `order index ${i}: ${v} vs ${expected[i]}`));
});

test('KAT TF Privacy: heterogeneous composition gives classic ε = 8.509656 at order 2.5', () => {
  // Source: tensorflow/privacy, tensorflow_privacy/privacy/analysis/rdp_accountant_test.py,
  // test_check_composition (the value it records for "the old RDP -> approx DP conversion").
  const orders = [1.25, 1.5, 1.75, 2, 2.5, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 24, 28, 32, 64, 256];
  const acc = new RdpAccountant(orders).compose(1e-4, 0.4, 40000).compose(0.1, 2, 100);
  const classic = acc.getPrivacySpent(1e-5, 'classic');
  assertClose(classic.epsilon, 8.509656, 1e-6, 'classic ε');
  assert.equal(classic.order, 2.5);
  assert.ok(acc.getEpsilon(1e-5) <= 8.509656, 'the improved bound is no weaker');
});

test('KAT TF Privacy: a constant RDP curve 1.1 at orders 2..32 converts to ε = 1.32783806176 at order 32', () => {
  // Source: tensorflow/privacy, rdp_accountant_test.py, test_get_privacy_spent_check_target_delta.
  const orders = Array.from({ length: 31 }, (_, i) => i + 2);
  const spent = epsilonFromRdp(orders.map(() => 1.1), orders, 1e-5);
  assertClose(spent.epsilon, 1.32783806176, 1e-9, 'ε');
  assert.equal(spent.order, 32);
});

test('KAT Opacus get_noise_multiplier: ε = 8, δ = 1e-5, q = 0.04 gives σ ≈ 1.3562 (2000 steps) and ≈ 1.416 (90 epochs)', () => {
  // Source: pytorch/opacus, opacus/tests/accountants_test.py, test_get_noise_multiplier_rdp_steps and
  // test_get_noise_multiplier_rdp_epochs (Opacus bisects to ε within 0.01 of the target).
  const steps2000 = noiseMultiplierFor({ targetEpsilon: 8, delta: 1e-5, q: 0.04, steps: 2000, orders: OPACUS_RDP_ORDERS });
  const epochs90 = noiseMultiplierFor({ targetEpsilon: 8, delta: 1e-5, q: 0.04, steps: 2250, orders: OPACUS_RDP_ORDERS });
  assertClose(steps2000, 1.3562, 0.01, 'σ for 2000 steps');
  assertClose(epochs90, 1.416, 0.01, 'σ for 90 epochs');
});

// ---------------------------------------------------------------------------------------------
// Properties.
// ---------------------------------------------------------------------------------------------

const FEW_ORDERS = [1.5, 2, 3.5, 8, 16, 32];
const epsAt = (q: number, sigma: number, steps: number): number =>
  epsilonFromRdp(computeRdp(q, sigma, steps, FEW_ORDERS), FEW_ORDERS, 1e-5).epsilon;
const noLess = (a: number, b: number): boolean => a >= b - 1e-9 * Math.max(1, Math.abs(b));

test('property: ε never decreases with more steps or a higher sampling rate, and never increases with more noise', () => {
  fc.assert(
    fc.property(
      fc.double({ min: 1e-4, max: 0.5, noNaN: true }),
      fc.double({ min: 0.5, max: 5, noNaN: true }),
      fc.integer({ min: 1, max: 5000 }),
      fc.double({ min: 1.01, max: 2, noNaN: true }),
      (q, sigma, steps, factor) => {
        const base = epsAt(q, sigma, steps);
        assert.ok(noLess(epsAt(q, sigma, steps + 1 + Math.floor(steps * (factor - 1))), base), 'monotone in steps');
        assert.ok(noLess(epsAt(Math.min(1, q * factor), sigma, steps), base), 'monotone in q');
        assert.ok(noLess(base, epsAt(q, sigma * factor, steps)), 'decreasing in σ');
      },
    ),
    { numRuns: 40 },
  );
});

test('property: with q = 1 the RDP is the Gaussian mechanism’s steps·α/(2σ²) at every order', () => {
  fc.assert(
    fc.property(fc.double({ min: 0.1, max: 20, noNaN: true }), fc.integer({ min: 1, max: 1000 }), (sigma, steps) => {
      const rdp = computeRdp(1, sigma, steps, DEFAULT_RDP_ORDERS);
      DEFAULT_RDP_ORDERS.forEach((a, i) => assertClose(rdp[i]!, (steps * a) / (2 * sigma * sigma), 1e-12, `order ${a}`));
    }),
    { numRuns: 30 },
  );
});

test('property: subsampling never costs more than the unsampled Gaussian mechanism, at integer and fractional orders', () => {
  fc.assert(
    fc.property(fc.double({ min: 1e-5, max: 0.99, noNaN: true }), fc.double({ min: 0.3, max: 10, noNaN: true }), (q, sigma) => {
      const sampled = computeRdp(q, sigma, 1, FEW_ORDERS);
      const full = computeRdp(1, sigma, 1, FEW_ORDERS);
      sampled.forEach((v, i) => assert.ok(v >= 0 && v <= full[i]! * (1 + 1e-9), `order ${FEW_ORDERS[i]}: ${v} vs ${full[i]}`));
    }),
    { numRuns: 40 },
  );
});

test('the fractional-order series agrees with the integer-order sum at neighbouring orders (RDP is continuous in α)', () => {
  for (const [q, sigma] of [[0.01, 1], [0.1, 2], [0.001, 0.7]] as const) {
    const [atInt, nearBelow, nearAbove] = computeRdp(q, sigma, 1, [4, 4 - 1e-7, 4 + 1e-7]);
    assertClose(nearBelow!, atInt!, 1e-5, `q = ${q}, σ = ${sigma} below`);
    assertClose(nearAbove!, atInt!, 1e-5, `q = ${q}, σ = ${sigma} above`);
  }
});

test('composition: the accountant of heterogeneous runs equals the sum of their RDP curves, and clone() is independent', () => {
  const acc = new RdpAccountant(FEW_ORDERS).compose(0.01, 1.1, 100).compose(0.02, 0.9, 50).compose(0.02, 0.9, 25);
  const a = computeRdp(0.01, 1.1, 100, FEW_ORDERS);
  const b = computeRdp(0.02, 0.9, 75, FEW_ORDERS);
  acc.rdp().forEach((v, i) => assertClose(v, a[i]! + b[i]!, 1e-12, `order ${FEW_ORDERS[i]}`));
  assert.deepEqual(acc.history(), [
    { q: 0.01, sigma: 1.1, steps: 100 },
    { q: 0.02, sigma: 0.9, steps: 75 },
  ]);
  const before = acc.getEpsilon(1e-5);
  const copy = acc.clone().compose(0.5, 0.5, 10);
  assert.equal(acc.getEpsilon(1e-5), before);
  assert.ok(copy.getEpsilon(1e-5) > before);
});

test('edge cases: no steps or q = 0 spends nothing; σ = 0 spends everything; the KL bound gives ε = 0 for a tiny RDP', () => {
  assert.equal(new RdpAccountant().getEpsilon(1e-5), 0);
  assert.deepEqual(computeRdp(0, 1, 10, [2, 3.5]), [0, 0]);
  assert.deepEqual(computeRdp(0.1, 1, 0, [2, 3.5]), [0, 0]);
  const none = epsilonFromRdp(computeRdp(0.1, 0, 1, [2, 3.5]), [2, 3.5], 1e-5);
  assert.equal(none.epsilon, Infinity);
  assert.ok(Number.isNaN(none.order));
  // δ ≥ √(1 − e^(−rdp)) ⇔ rdp ≤ −log(1 − δ²): the total-variation bound alone certifies ε = 0.
  assert.equal(epsilonFromRdp([1e-12, 1e-12], [2, 3], 1e-3).epsilon, 0);
  assert.equal(noiseMultiplierFor({ targetEpsilon: 1, delta: 1e-5, q: 0.1, steps: 0 }), 0);
});

test('noiseMultiplierFor returns the smallest σ (to the tolerance) whose ε meets the target', () => {
  const query = { targetEpsilon: 2, delta: 1e-5, q: 0.01, steps: 3000 };
  const sigma = noiseMultiplierFor(query);
  const eps = (s: number): number => new RdpAccountant().compose(query.q, s, query.steps).getEpsilon(query.delta);
  assert.ok(eps(sigma) <= 2);
  assert.ok(eps(sigma * (1 - 2e-4)) > 2 * 0.999, 'a slightly smaller σ would (nearly) overshoot');
});

test('logErfc matches log(erfc(x)) across the series, the continued fraction and the negative branch', () => {
  // Reference values of log(erfc(x)): x = 0.3, 1, 3, 10, −1 (erfc(1) = 0.157299207050285…).
  const cases: [number, number][] = [
    [0, 0],
    [0.3, -0.39843005144008525],
    [1, Math.log(0.15729920705028513)],
    [3, -10.720363041981116],
    [10, -102.87988902484493],
    [-1, 0.6112323176780705],
  ];
  for (const [x, want] of cases) assert.ok(Math.abs(logErfc(x) - want) <= 1e-12 * Math.max(1, Math.abs(want)), `x = ${x}: ${logErfc(x)}`);
});

test('invalid arguments throw ConfigError naming the argument', () => {
  const field = (f: string) => (e: unknown) => e instanceof ConfigError && e.field === f;
  assert.throws(() => computeRdp(1.5, 1, 1), field('q'));
  assert.throws(() => computeRdp(0.1, -1, 1), field('sigma'));
  assert.throws(() => computeRdp(0.1, 1, 1.5), field('steps'));
  assert.throws(() => computeRdp(0.1, 1, 1, [2, 1]), field('orders[1]'));
  assert.throws(() => epsilonFromRdp([1], [2], 0), field('delta'));
  assert.throws(() => epsilonFromRdp([1, 2], [2], 1e-5), field('rdp'));
  assert.throws(() => noiseMultiplierFor({ targetEpsilon: 0, delta: 1e-5, q: 0.1, steps: 1 }), field('targetEpsilon'));
  assert.throws(() => noiseMultiplierFor({ targetEpsilon: 1e-6, delta: 1e-5, q: 1, steps: 1_000_000 }), field('targetEpsilon'));
});
