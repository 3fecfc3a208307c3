import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../core/errors.js';
import { seededRng } from '../core/rng.js';
import { FedAdagrad, FedAdam, FedYogi, type FedOpt } from './fedopt.js';
import type { ClientUpdate } from './strategy.js';

/** Two equally weighted updates whose mean is global + delta. */
function updatesAround(global: Float32Array, delta: readonly number[]): ClientUpdate[] {
  const spread = [0.25, -0.25];
  return spread.map((s, k) => ({
    participantId: `p${k}`,
    params: Float32Array.from(global, (g, i) => g + (delta[i] as number) + s),
    numExamples: 10,
  }));
}

/** Runs two rounds from x0 = [1, −2] with Δ1 = [0.5, −0.25] and Δ2 = [−0.25, 0.5]. */
function twoRounds(strategy: FedOpt): Float32Array[] {
  const x0 = Float32Array.of(1, -2);
  const x1 = strategy.aggregateTrain(1, x0, updatesAround(x0, [0.5, -0.25]));
  const x2 = strategy.aggregateTrain(2, x1, updatesAround(x1, [-0.25, 0.5]));
  return [x1, x2];
}

function assertClose(got: Float32Array, want: readonly number[], tol = 2e-6): void {
  want.forEach((w, i) => assert.ok(Math.abs((got[i] as number) - w) < tol, `[${i}] ${got[i]} vs ${w}`));
}

test('FedAdam, 2 rounds with Flower defaults (η 0.1, β1 0.9, β2 0.99, τ 1e-3), matches the hand computation', () => {
  // Round 1, coordinate 0: Δ = 0.5, m = 0.1·0.5 = 0.05, v = 0.99·τ² + 0.01·0.25 = 0.00250099,
  //   x = 1 + 0.1·0.05 / (√0.00250099 + 0.001) = 1.0980202.
  // Coordinate 1: Δ = −0.25, m = −0.025, v = 0.99e-6 + 0.000625 = 0.00062599, x = −2.0960807.
  // Round 2, coordinate 0: Δ = −0.25, m = 0.9·0.05 − 0.025 = 0.02, v = 0.99·0.00250099 + 0.000625
  //   = 0.0031009801, x = 1.0980202 + 0.1·0.02 / (√0.0031009801 + 0.001) = 1.1333020.
  // Coordinate 1: Δ = 0.5, m = −0.0225 + 0.05 = 0.0275, v = 0.0031197301, x = −2.0477117.
  const [x1, x2] = twoRounds(new FedAdam());
  assert.ok(x1 !== undefined && x2 !== undefined);
  assertClose(x1, [1.0980202, -2.0960807]);
  assertClose(x2, [1.133302, -2.0477117]);
});

test('FedYogi, 2 rounds with Flower defaults (η 0.01, β1 0.9, β2 0.99, τ 1e-3), matches the hand computation', () => {
  // Round 1, coordinate 0: v = τ² − 0.01·0.25·sign(τ² − 0.25) = 0.002501, x = 1 + 0.01·0.05/(0.05001 + 0.001) = 1.0098020.
  // Round 2, coordinate 0: Δ² = 0.0625 > v, so v = 0.002501 + 0.000625 = 0.003126, x = 1.0133163.
  // Coordinate 1: v1 = 0.000626, x1 = −2.0096080; v2 = 0.000626 + 0.0025 = 0.003126, x2 = −2.0047759.
  const [x1, x2] = twoRounds(new FedYogi());
  assert.ok(x1 !== undefined && x2 !== undefined);
  assertClose(x1, [1.009802, -2.009608]);
  assertClose(x2, [1.0133163, -2.0047759]);
});

test('FedAdagrad, 2 rounds with Flower defaults (η 0.1, β1 0, τ 1e-3), matches the hand computation', () => {
  // Round 1, coordinate 0: m = Δ = 0.5, v = 1e-6 + 0.25, x = 1 + 0.05/(0.500001 + 0.001) = 1.0998002.
  // Round 2, coordinate 0: m = −0.25, v = 0.312501, x = 1.0998002 − 0.025/(0.5590179 + 0.001) = 1.0551588.
  // Coordinate 1: x1 = −2 − 0.025/(0.2500020 + 0.001) = −2.0996008; v2 = 0.312501, x2 = −2.0103179.
  const [x1, x2] = twoRounds(new FedAdagrad());
  assert.ok(x1 !== undefined && x2 !== undefined);
  assertClose(x1, [1.0998002, -2.0996008]);
  assertClose(x2, [1.0551588, -2.0103179]);
});

test('state() then restore() on a fresh instance continues bit-identically (all three variants)', () => {
  for (const make of [() => new FedAdam(), () => new FedYogi({ beta1: 0.5 }), () => new FedAdagrad()]) {
    // Prepare: 3 rounds on one instance, checkpoint after round 2 into a fresh one.
    const rng = seededRng(4);
    const n = 257;
    const rounds = Array.from({ length: 3 }, () => Array.from({ length: n }, () => 0.1 * rng.normal()));
    const original = make();
    let x: Float32Array = Float32Array.from({ length: n }, () => rng.normal());
    let checkpoint: { x: Float32Array; state: Record<string, Float32Array> } | undefined;
    for (let r = 0; r < 3; r++) {
      if (r === 2) checkpoint = { x, state: original.state() };
      x = original.aggregateTrain(r + 1, x, updatesAround(x, rounds[r] as number[]));
    }
    assert.ok(checkpoint !== undefined);
    const resumed = make();
    resumed.restore(checkpoint.state);
    // Execute
    const y = resumed.aggregateTrain(3, checkpoint.x, updatesAround(checkpoint.x, rounds[2] as number[]));
    // Assert
    assert.deepEqual(y, x, resumed.name);
    assert.deepEqual(resumed.state(), original.state());
  }
});

test('state() returns copies: mutating them does not change the strategy', () => {
  const s = new FedAdam();
  const x = Float32Array.of(1, 2);
  s.aggregateTrain(1, x, updatesAround(x, [0.1, 0.1]));
  const st = s.state();
  st['m']?.fill(99);
  assert.notEqual(s.state()['m']?.[0], 99);
});

test('before the first round the state is empty; restore({}) resets to it', () => {
  const s = new FedAdam();
  assert.deepEqual(s.state(), {});
  const x = Float32Array.of(1);
  const first = s.aggregateTrain(1, x, updatesAround(x, [0.3]));
  s.restore({});
  assert.deepEqual(s.aggregateTrain(1, x, updatesAround(x, [0.3])), first);
});

test('restore rejects foreign keys, a lone moment and mismatched lengths; aggregation rejects a state of the wrong size', () => {
  const state = (e: unknown): boolean => e instanceof ConfigError && e.field === 'state';
  const s = new FedAdam();
  assert.throws(() => s.restore({ m: new Float32Array(2), v: new Float32Array(2), w: new Float32Array(2) }), state);
  assert.throws(() => s.restore({ m: new Float32Array(2) }), state);
  assert.throws(() => s.restore({ m: new Float32Array(2), v: new Float32Array(3) }), state);
  s.restore({ m: new Float32Array(3), v: new Float32Array(3).fill(1) });
  const x = Float32Array.of(1, 2);
  assert.throws(() => s.aggregateTrain(1, x, updatesAround(x, [0, 0])), state);
});

test('FedOpt defaults follow Flower, including FedYogi\'s local η_l = 0.0316', () => {
  const adam = new FedAdam();
  const yogi = new FedYogi();
  const adagrad = new FedAdagrad();
  assert.deepEqual([adam.eta, adam.beta1, adam.beta2, adam.tau, adam.learningRate], [0.1, 0.9, 0.99, 1e-3, 0.1]);
  assert.deepEqual([yogi.eta, yogi.beta1, yogi.beta2, yogi.tau, yogi.learningRate], [0.01, 0.9, 0.99, 1e-3, 0.0316]);
  assert.deepEqual([adagrad.eta, adagrad.beta1, adagrad.tau, adagrad.learningRate], [0.1, 0, 1e-3, 0.1]);
  assert.equal(yogi.configureTrain(1, ['a'], seededRng(1)).instructions.learningRate, 0.0316);
});

test('invalid FedOpt options throw a ConfigError naming the option', () => {
  const field = (f: string) => (e: unknown): boolean => e instanceof ConfigError && e.field === f;
  assert.throws(() => new FedAdam({ eta: 0 }), field('eta'));
  assert.throws(() => new FedAdam({ beta1: 1 }), field('beta1'));
  assert.throws(() => new FedYogi({ beta2: -0.1 }), field('beta2'));
  assert.throws(() => new FedAdagrad({ tau: 0 }), field('tau'));
});
