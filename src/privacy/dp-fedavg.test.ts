import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, ValidationError } from '../core/errors.js';
import { l2norm } from '../core/math.js';
import { seededRng, type Rng } from '../core/rng.js';
import { FedAvg } from '../strategy/fedavg.js';
import type { ClientUpdate } from '../strategy/strategy.js';
import { AdaptiveClip, adjustedNoiseMultiplier } from './adaptive-clip.js';
import {
  centralNoiseStd,
  distributedNoiseStd,
  dpFedAvg,
  DpFedAvgStrategy,
  effectiveNoiseMultiplier,
  localNoiseStd,
  privatizeUpdate,
} from './dp-fedavg.js';

/** A generator whose Gaussian draws are all 0, to check the deterministic part exactly. */
const zeroNoise: Rng = { next: () => 0.5, nextU32: () => 0, int: () => 0, normal: () => 0, fork: () => zeroNoise };

const upd = (participantId: string, params: number[], numExamples = 1): ClientUpdate => ({
  participantId,
  params: Float32Array.from(params),
  numExamples,
});

function sampleStd(v: ArrayLike<number>): number {
  let s = 0;
  let ss = 0;
  for (let i = 0; i < v.length; i++) {
    s += v[i]!;
    ss += v[i]! * v[i]!;
  }
  const mean = s / v.length;
  return Math.sqrt(ss / v.length - mean * mean);
}

test('central round by hand: deltas clipped to C, averaged with equal weights; stats report the clip and noise std', () => {
  // Prepare: Δa = (3, 4) has norm 5 > C = 2.5 → (1.5, 2); Δb = (0, 1) stays.
  const global = Float32Array.of(1, 1);
  const updates = [upd('a', [4, 5], 1000), upd('b', [1, 2], 1)];
  // Execute
  const r = dpFedAvg(global, updates, { noiseMultiplier: 1, clip: 2.5 }, zeroNoise);
  // Assert: n_k is ignored (uniform weights).
  assert.deepEqual(r.params, Float32Array.of(1 + 0.75, 1 + 1.5));
  assert.deepEqual(r.meanDelta, Float64Array.of(0.75, 1.5));
  assert.deepEqual(r.stats, {
    clipNorm: 2.5,
    nextClipNorm: 2.5,
    numUpdates: 2,
    numClipped: 1,
    denominator: 2,
    noiseMultiplier: 1,
    updateNoiseMultiplier: 1,
    noiseStd: 1.25,
  });
  assert.deepEqual(global, Float32Array.of(1, 1));
});

test('sensitivity: replacing one participant’s update by an arbitrarily large one moves the noiseless mean by at most C/n', () => {
  const global = new Float32Array(8);
  const honest = Array.from({ length: 4 }, (_, k) => upd(`p${k}`, Array.from({ length: 8 }, (_, i) => Math.sin(k + i) * 0.1)));
  const swapped = [...honest.slice(0, 3), upd('p3', Array.from({ length: 8 }, (_, i) => (i + 1) * 1e6))];
  const a = dpFedAvg(global, honest, { noiseMultiplier: 1, clip: 0.5 }, zeroNoise).meanDelta;
  const b = dpFedAvg(global, swapped, { noiseMultiplier: 1, clip: 0.5 }, zeroNoise).meanDelta;
  const diff = a.map((v, i) => v - b[i]!);
  assert.ok(l2norm(diff) <= (2 * 0.5) / 4 + 1e-12, `moved by ${l2norm(diff)}`);
  assert.ok(l2norm(b) <= 0.5 + 1e-12, 'the mean of clipped deltas is itself within C');
});

test('central noise on the mean has std z·C/n (50 000 coordinates, seeded) and a fixed denominator replaces n', () => {
  const d = 50_000;
  const global = new Float32Array(d);
  const same = Array.from({ length: 5 }, (_, k) => ({ participantId: `p${k}`, params: new Float32Array(d) }));
  const r = dpFedAvg(global, same, { noiseMultiplier: 1.5, clip: 2 }, seededRng(3));
  assert.ok(Math.abs(sampleStd(r.meanDelta) / 0.6 - 1) < 0.02, `std ${sampleStd(r.meanDelta)}`);
  const fixed = dpFedAvg(global, same, { noiseMultiplier: 1.5, clip: 2, denominator: 10 }, seededRng(3));
  assert.equal(fixed.stats.noiseStd, 0.3);
  assert.ok(Math.abs(sampleStd(fixed.meanDelta) / 0.3 - 1) < 0.02);
});

test('adaptive clip: the sum gets σ_Δ, the accountant keeps z, and the estimator moves after the round', () => {
  const estimator = new AdaptiveClip({ initialClip: 1, targetQuantile: 0.5, learningRate: 0.2, countNoiseStd: 2, expectedCount: 3 });
  const global = new Float32Array(2);
  const updates = [upd('a', [0.1, 0]), upd('b', [0.2, 0]), upd('c', [0, 0.3])];
  const r = dpFedAvg(global, updates, { noiseMultiplier: 1, clip: estimator }, seededRng(9));
  assert.equal(r.stats.clipNorm, 1);
  assert.equal(r.stats.noiseMultiplier, 1);
  assert.equal(r.stats.updateNoiseMultiplier, adjustedNoiseMultiplier(1, 2));
  assert.equal(r.stats.nextClipNorm, estimator.clip);
  assert.notEqual(estimator.clip, 1);
  assert.equal(typeof r.stats.noisyUnclippedFraction, 'number');
});

test('invalid rounds: no updates, a duplicate, a wrong length or a NaN are ValidationErrors naming the participant; bad options ConfigErrors', () => {
  const g = new Float32Array(2);
  const opts = { noiseMultiplier: 1, clip: 1 };
  assert.throws(() => dpFedAvg(g, [], opts, zeroNoise), ValidationError);
  assert.throws(() => dpFedAvg(g, [upd('a', [0, 0]), upd('a', [0, 0])], opts, zeroNoise), (e: unknown) => e instanceof ValidationError && e.participant === 'a');
  assert.throws(() => dpFedAvg(g, [upd('b', [0])], opts, zeroNoise), (e: unknown) => e instanceof ValidationError && e.participant === 'b');
  assert.throws(() => dpFedAvg(g, [upd('c', [Number.NaN, 0])], opts, zeroNoise), (e: unknown) => e instanceof ValidationError && e.participant === 'c');
  assert.throws(() => dpFedAvg(g, [upd('d', [0, 0])], { noiseMultiplier: 0, clip: 1 }, zeroNoise), (e: unknown) => e instanceof ConfigError && e.field === 'noiseMultiplier');
  assert.throws(() => dpFedAvg(g, [upd('d', [0, 0])], { noiseMultiplier: 1, clip: -1 }, zeroNoise), (e: unknown) => e instanceof ConfigError && e.field === 'clip');
});

test('per-mode noise std: central z·C/n, distributed z·C/√m, local z·C; dropouts reduce the effective multiplier', () => {
  assert.equal(centralNoiseStd(1.2, 0.5, 10), 0.06);
  assert.equal(distributedNoiseStd(1.2, 0.5, 16), 0.15);
  assert.equal(localNoiseStd(1.2, 0.5), 0.6);
  assert.equal(effectiveNoiseMultiplier(1, 16, 9), 0.75);
  assert.throws(() => distributedNoiseStd(1, 1, 0), (e: unknown) => e instanceof ConfigError && e.field === 'expectedParticipants');
});

test('distributed mode: m participants each adding z·C/√m noise give a sum whose noise has std z·C', () => {
  // Prepare: zero deltas, so the summed deltas are pure noise.
  const m = 16;
  const d = 20_000;
  const global = new Float32Array(d);
  const std = distributedNoiseStd(1.1, 2, m);
  const sum = new Float64Array(d);
  // Execute
  for (let k = 0; k < m; k++) {
    const p = privatizeUpdate(global, new Float32Array(d), { clipNorm: 2, noiseStd: std }, seededRng(100 + k), `p${k}`);
    for (let i = 0; i < d; i++) sum[i] = sum[i]! + p.params[i]!;
  }
  // Assert
  assert.ok(Math.abs(sampleStd(sum) / 2.2 - 1) < 0.03, `std ${sampleStd(sum)}`);
});

test('privatizeUpdate clips the delta to C before adding noise, and reports the pre-clip norm', () => {
  const global = Float32Array.of(1, 1);
  const clipped = privatizeUpdate(global, Float32Array.of(7, 9), { clipNorm: 5, noiseStd: 0 }, zeroNoise);
  assert.deepEqual(clipped.params, Float32Array.of(1 + 3, 1 + 4));
  assert.equal(clipped.norm, 10);
  assert.equal(clipped.clipped, true);
  const a = privatizeUpdate(global, Float32Array.of(1.5, 1), { clipNorm: 5, noiseStd: 0.1 }, seededRng(1));
  const b = privatizeUpdate(global, Float32Array.of(1.5, 1), { clipNorm: 5, noiseStd: 0.1 }, seededRng(1));
  assert.deepEqual(a, b);
  assert.equal(a.clipped, false);
  assert.notDeepEqual(a.params, Float32Array.of(1.5, 1));
});

test('DpFedAvgStrategy around FedAvg: same selection as FedAvg, and its aggregate is the DP-FedAvg noisy mean', () => {
  const inner = new FedAvg({ fractionFit: 0.5 });
  const dp = new DpFedAvgStrategy(new FedAvg({ fractionFit: 0.5 }), { noiseMultiplier: 0.8, clip: 1 }, seededRng(11));
  const ids = ['a', 'b', 'c', 'd'];
  assert.deepEqual(dp.configureTrain(1, ids, seededRng(2)), inner.configureTrain(1, ids, seededRng(2)));
  assert.equal(dp.name, 'DP-FedAvg');
  const global = Float32Array.of(0, 0, 0);
  const updates = [upd('a', [0.5, 2, 0], 10), upd('b', [0, 0, -0.2], 90)];
  const out = dp.aggregateTrain(1, global, updates);
  const expected = dpFedAvg(global, updates, { noiseMultiplier: 0.8, clip: 1 }, seededRng(11));
  assert.deepEqual(out, expected.params);
  assert.deepEqual(dp.lastStats, expected.stats);
});

test('DpFedAvgStrategy checkpoints the adaptive clip with the wrapped strategy’s state', () => {
  const make = () =>
    new DpFedAvgStrategy(
      new FedAvg(),
      { noiseMultiplier: 1, clip: new AdaptiveClip({ initialClip: 1, targetQuantile: 0.5, learningRate: 0.2, countNoiseStd: 1, expectedCount: 2 }) },
      seededRng(4),
    );
  const a = make();
  a.aggregateTrain(1, new Float32Array(2), [upd('x', [3, 0]), upd('y', [0, 3])]);
  const saved = a.state();
  const b = make();
  b.restore(saved);
  assert.deepEqual(b.state(), saved);
  const clip = saved['dpFedAvg.clip'];
  assert.ok(clip !== undefined && clip.length === 1 && clip[0] !== 1, 'the moved clip is part of the state');
  assert.deepEqual(saved['dpFedAvg.rounds'], Float32Array.of(1));
  assert.throws(() => new DpFedAvgStrategy(new FedAvg(), { noiseMultiplier: 1, clip: 0 }, seededRng(1)), (e: unknown) => e instanceof ConfigError && e.field === 'clip');
});
