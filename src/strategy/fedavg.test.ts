import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, EduFedError, ValidationError } from '../core/errors.js';
import { seededRng } from '../core/rng.js';
import { FedAvg } from './fedavg.js';
import type { ClientUpdate } from './strategy.js';

const ids = (k: number): string[] => Array.from({ length: k }, (_, i) => `school-${i}`);
const update = (participantId: string, params: number[], numExamples: number): ClientUpdate => ({
  participantId,
  params: Float32Array.from(params),
  numExamples,
});

test('configureTrain selects ⌈C·K⌉ distinct available participants and sends E, B, η', () => {
  // Prepare
  const strategy = new FedAvg({ fractionFit: 0.3, epochs: 5, batchSize: 10, learningRate: 0.05 });
  const available = ids(20);
  // Execute
  const plan = strategy.configureTrain(1, available, seededRng(1));
  // Assert
  assert.equal(plan.selected.length, 6);
  assert.equal(new Set(plan.selected).size, 6);
  for (const id of plan.selected) assert.ok(available.includes(id));
  assert.deepEqual(plan.instructions, { epochs: 5, batchSize: 10, learningRate: 0.05 });
});

test('configureTrain uses the injected generator: same seed, same selection; another seed, another', () => {
  const strategy = new FedAvg({ fractionFit: 0.2 });
  const a = strategy.configureTrain(3, ids(50), seededRng(9)).selected;
  const b = strategy.configureTrain(3, ids(50), seededRng(9)).selected;
  const c = strategy.configureTrain(3, ids(50), seededRng(10)).selected;
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
});

test('configureTrain applies the minFit floor and caps at the number available', () => {
  assert.equal(new FedAvg({ fractionFit: 0.1, minFit: 4 }).configureTrain(1, ids(10), seededRng(1)).selected.length, 4);
  assert.equal(new FedAvg({ minFit: 8 }).configureTrain(1, ids(3), seededRng(1)).selected.length, 3);
  assert.equal(new FedAvg({ fractionFit: 0 }).configureTrain(1, ids(10), seededRng(1)).selected.length, 1);
});

test('defaults are C = 1, minFit = 1, E = 1, B = 32, η = 0.1', () => {
  const plan = new FedAvg().configureTrain(1, ids(4), seededRng(1));
  assert.deepEqual(plan.selected, ids(4));
  assert.deepEqual(plan.instructions, { epochs: 1, batchSize: 32, learningRate: 0.1 });
});

test('configureTrain rejects nobody available, a participant listed twice and a bad round', () => {
  const s = new FedAvg();
  assert.throws(() => s.configureTrain(1, [], seededRng(1)), (e: unknown) => e instanceof EduFedError && e.code === 'STRATEGY');
  assert.throws(() => s.configureTrain(1, ['a', 'b', 'a'], seededRng(1)), (e: unknown) => e instanceof ValidationError && e.participant === 'a');
  assert.throws(() => s.configureTrain(0, ['a'], seededRng(1)), (e: unknown) => e instanceof ConfigError && e.field === 'round');
});

test('aggregateTrain computes Σ (n_k / n) w_k with n over the updates received (hand-computed)', () => {
  // Prepare: 3 of 4 selected reply; n = 10 + 30 + 60 = 100.
  const global = Float32Array.of(0, 0);
  const updates = [update('a', [1, 10], 10), update('b', [2, 20], 30), update('c', [4, -10], 60)];
  // Execute
  const next = new FedAvg().aggregateTrain(1, global, updates);
  // Assert: 0.1·1 + 0.3·2 + 0.6·4 = 3.1; 0.1·10 + 0.3·20 − 0.6·10 = 1.
  assert.ok(Math.abs((next[0] as number) - 3.1) < 1e-6);
  assert.ok(Math.abs((next[1] as number) - 1) < 1e-6);
  assert.deepEqual([...global], [0, 0]);
});

test('aggregateTrain rejects an empty list, a wrong length, a duplicate sender and bad example counts, naming the participant', () => {
  const s = new FedAvg();
  const g = new Float32Array(2);
  const isValidation = (who: string | undefined) => (e: unknown): boolean => e instanceof ValidationError && e.participant === who;
  assert.throws(() => s.aggregateTrain(1, g, []), isValidation(undefined));
  assert.throws(() => s.aggregateTrain(1, g, [update('a', [1, 2], 1), update('b', [1, 2, 3], 1)]), isValidation('b'));
  assert.throws(() => s.aggregateTrain(1, g, [update('a', [1, 2], 1), update('a', [1, 2], 1)]), isValidation('a'));
  assert.throws(() => s.aggregateTrain(1, g, [update('c', [1, 2], -1)]), isValidation('c'));
  assert.throws(() => s.aggregateTrain(1, g, [update('c', [1, 2], Number.NaN)]), isValidation('c'));
  assert.throws(() => s.aggregateTrain(1, g, [update('a', [1, 2], 0), update('b', [1, 2], 0)]), isValidation(undefined));
});

test('invalid options throw a ConfigError naming the option', () => {
  const field = (f: string) => (e: unknown): boolean => e instanceof ConfigError && e.field === f;
  assert.throws(() => new FedAvg({ fractionFit: 1.5 }), field('fractionFit'));
  assert.throws(() => new FedAvg({ fractionFit: Number.NaN }), field('fractionFit'));
  assert.throws(() => new FedAvg({ minFit: 0 }), field('minFit'));
  assert.throws(() => new FedAvg({ epochs: 1.5 }), field('epochs'));
  assert.throws(() => new FedAvg({ batchSize: -1 }), field('batchSize'));
  assert.throws(() => new FedAvg({ learningRate: 0 }), field('learningRate'));
});

test('FedAvg state is empty and restore rejects another strategy\'s state', () => {
  const s = new FedAvg();
  assert.deepEqual(s.state(), {});
  s.restore({});
  assert.throws(() => s.restore({ m: new Float32Array(1) }), (e: unknown) => e instanceof ConfigError && e.field === 'state');
});
