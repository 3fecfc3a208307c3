import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../core/errors.js';
import { seededRng } from '../core/rng.js';
import { AdaptiveClip, adjustedNoiseMultiplier, centredUnclippedBit } from './adaptive-clip.js';

const noiseless = (over: Partial<ConstructorParameters<typeof AdaptiveClip>[0]> = {}) =>
  new AdaptiveClip({ initialClip: 1, targetQuantile: 0.5, learningRate: 0.2, countNoiseStd: 0, expectedCount: 4, ...over });

test('geometric update by hand: all unclipped shrinks C by e^(−η(1−γ)), all clipped grows it by e^(ηγ)', () => {
  // Prepare
  const shrink = noiseless();
  const grow = noiseless();
  // Execute
  const a = shrink.observe([0.1, 0.2, 0.3, 0.4], seededRng(1));
  const b = grow.observe([2, 3, 4, 5], seededRng(1));
  // Assert
  assert.equal(a.noisyUnclippedFraction, 1);
  assert.equal(a.previousClip, 1);
  assert.ok(Math.abs(a.clip - Math.exp(-0.2 * 0.5)) < 1e-15);
  assert.equal(b.noisyUnclippedFraction, 0);
  assert.ok(Math.abs(b.clip - Math.exp(0.2 * 0.5)) < 1e-15);
  assert.equal(shrink.clip, a.clip);
});

test('the noisy fraction is centred: b̃ = (Σ(b_i − ½) + noise)/m + ½, clamped to [0, 1]', () => {
  const clip = noiseless({ expectedCount: 10 });
  // 3 of 4 unclipped: Σ(b − ½) = 1; with the expected count 10, b̃ = 0.1 + 0.5.
  assert.ok(Math.abs(clip.observe([0.1, 0.1, 0.1, 9], seededRng(1)).noisyUnclippedFraction - 0.6) < 1e-15);
  assert.equal(noiseless().applyNoisyCount(1e6).noisyUnclippedFraction, 1);
  assert.equal(noiseless().applyNoisyCount(-1e6).noisyUnclippedFraction, 0);
  assert.equal(centredUnclippedBit(1, 1), 0.5);
  assert.equal(centredUnclippedBit(1.0001, 1), -0.5);
});

test('without noise, the clip converges to the target quantile of a fixed set of norms', () => {
  // Prepare: norms 1..100; γ = 0.8 ⇒ the clip should settle between the 80th and 81st norm.
  const norms = Array.from({ length: 100 }, (_, i) => i + 1);
  const clip = new AdaptiveClip({ initialClip: 0.01, targetQuantile: 0.8, learningRate: 0.05, countNoiseStd: 0, expectedCount: 100 });
  // Execute
  for (let t = 0; t < 2000; t++) clip.observe(norms, seededRng(t));
  // Assert
  assert.ok(clip.clip > 78 && clip.clip < 83, `clip ${clip.clip}`);
});

test('with count noise the update is reproducible for a seed and differs across seeds', () => {
  const make = () => new AdaptiveClip({ initialClip: 1, targetQuantile: 0.5, learningRate: 0.2, countNoiseStd: 2, expectedCount: 40 });
  const norms = Array.from({ length: 40 }, (_, i) => i / 20);
  const a = make().observe(norms, seededRng(5));
  const b = make().observe(norms, seededRng(5));
  const c = make().observe(norms, seededRng(6));
  assert.deepEqual(a, b);
  assert.notEqual(a.clip, c.clip);
});

test('adjustedNoiseMultiplier: σ_Δ⁻² + (2σ_b)⁻² = z⁻² (Andrew et al. Theorem 1), and σ_b ≤ z/2 is refused', () => {
  const z = 1.2;
  const sb = 5;
  const sd = adjustedNoiseMultiplier(z, sb);
  assert.ok(Math.abs(sd ** -2 + (2 * sb) ** -2 - z ** -2) < 1e-12);
  assert.ok(sd > z, 'the update sum gets more noise than z alone');
  assert.throws(() => adjustedNoiseMultiplier(z, 0.6), (e: unknown) => e instanceof ConfigError && e.field === 'countNoiseStd');
  assert.throws(() => adjustedNoiseMultiplier(z, 0), (e: unknown) => e instanceof ConfigError && e.field === 'countNoiseStd');
});

test('state()/restore() resumes the same trajectory', () => {
  const norms = [0.5, 1.5, 2.5];
  const original = noiseless({ countNoiseStd: 1 });
  original.observe(norms, seededRng(1));
  const saved = original.state();
  const next = original.observe(norms, seededRng(2));
  const resumed = noiseless({ countNoiseStd: 1 });
  resumed.restore(saved);
  assert.deepEqual(resumed.observe(norms, seededRng(2)), next);
  assert.deepEqual(resumed.state(), { clip: next.clip, rounds: 2 });
  assert.throws(() => resumed.restore({ clip: 0, rounds: 1 }), (e: unknown) => e instanceof ConfigError && e.field === 'state.clip');
});

test('invalid options throw ConfigError naming the option', () => {
  const field = (f: string) => (e: unknown) => e instanceof ConfigError && e.field === f;
  assert.throws(() => noiseless({ initialClip: 0 }), field('initialClip'));
  assert.throws(() => noiseless({ targetQuantile: 1.5 }), field('targetQuantile'));
  assert.throws(() => noiseless({ learningRate: -1 }), field('learningRate'));
  assert.throws(() => noiseless({ countNoiseStd: Number.NaN }), field('countNoiseStd'));
  assert.throws(() => noiseless({ expectedCount: 0 }), field('expectedCount'));
});
