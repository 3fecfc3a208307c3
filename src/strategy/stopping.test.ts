import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../core/errors.js';
import { anyOf, maxRounds, noImprovement, targetMetric, type RoundSummary } from './stopping.js';

/** History with one metric per round, starting at round 1; null leaves the metric out. */
const hist = (name: string, values: readonly (number | null)[]): RoundSummary[] =>
  values.map((v, i) => ({ round: i + 1, metrics: v === null ? {} : { [name]: v } }));

test('maxRounds(3) continues through round 2 and stops at round 3', () => {
  const rule = maxRounds(3);
  assert.equal(rule.check([]).stop, false);
  assert.equal(rule.check(hist('x', [0, 0])).stop, false);
  const d = rule.check(hist('x', [0, 0, 0]));
  assert.equal(d.stop, true);
  assert.match(d.reason ?? '', /3 rounds/);
});

test('targetMetric stops when the latest value reaches the target: ≥ for max, ≤ for min', () => {
  assert.equal(targetMetric('accuracy', 0.9, 'max').check(hist('accuracy', [0.5, 0.89])).stop, false);
  const d = targetMetric('accuracy', 0.9, 'max').check(hist('accuracy', [0.5, 0.9]));
  assert.deepEqual(d, { stop: true, reason: 'accuracy = 0.9 ≥ target 0.9 at round 2' });
  assert.equal(targetMetric('logLoss', 0.3, 'min').check(hist('logLoss', [0.5, 0.29])).stop, true);
  assert.equal(targetMetric('logLoss', 0.3, 'min').check(hist('logLoss', [0.5, 0.31])).stop, false);
});

test('targetMetric ignores rounds without the metric and NaN values', () => {
  assert.equal(targetMetric('auc', 0.8, 'max').check(hist('auc', [0.9, null])).stop, false);
  assert.equal(targetMetric('logLoss', 0.3, 'min').check(hist('logLoss', [Number.NaN])).stop, false);
});

test('noImprovement(patience 2) stops after 2 reported rounds without beating the best', () => {
  const rule = noImprovement('auc', 2, 'max');
  assert.equal(rule.check(hist('auc', [0.6, 0.7, 0.69])).stop, false);
  const d = rule.check(hist('auc', [0.6, 0.7, 0.69, 0.7]));
  assert.equal(d.stop, true);
  assert.match(d.reason ?? '', /best 0\.7 at round 2/);
  assert.equal(rule.check(hist('auc', [0.6, 0.7, 0.69, 0.71])).stop, false);
});

test('noImprovement counts only rounds that report the metric, and NaN never improves', () => {
  const rule = noImprovement('auc', 2, 'max');
  assert.equal(rule.check(hist('auc', [0.7, null, null, 0.6])).stop, false);
  assert.equal(rule.check(hist('auc', [0.7, Number.NaN, Number.NaN])).stop, true);
});

test('noImprovement with minDelta: a gain of at most minDelta does not reset patience (min mode)', () => {
  const rule = noImprovement('logLoss', 2, 'min', 0.01);
  assert.equal(rule.check(hist('logLoss', [0.5, 0.495, 0.492])).stop, true);
  assert.equal(rule.check(hist('logLoss', [0.5, 0.495, 0.48])).stop, false);
});

test('anyOf returns the first stopping rule\'s decision and continues when none stops', () => {
  const rule = anyOf(maxRounds(10), targetMetric('accuracy', 0.8, 'max'), maxRounds(2));
  assert.match(rule.check(hist('accuracy', [0.5, 0.85])).reason ?? '', /accuracy = 0\.85/);
  assert.match(rule.check(hist('accuracy', [0.5, 0.6])).reason ?? '', /maximum of 2 rounds/);
  assert.deepEqual(rule.check(hist('accuracy', [0.5])), { stop: false });
});

test('stopping rules reject bad arguments with a ConfigError naming them', () => {
  const field = (f: string) => (e: unknown): boolean => e instanceof ConfigError && e.field === f;
  assert.throws(() => maxRounds(0), field('rounds'));
  assert.throws(() => targetMetric('', 1, 'max'), field('metric'));
  assert.throws(() => targetMetric('auc', Number.NaN, 'max'), field('target'));
  assert.throws(() => noImprovement('auc', 0, 'max'), field('patience'));
  assert.throws(() => noImprovement('auc', 1, 'max', -1), field('minDelta'));
  assert.throws(() => anyOf(), field('rules'));
});
