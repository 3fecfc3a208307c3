import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../core/errors.js';
import { seededRng } from '../core/rng.js';
import { FedAvg } from './fedavg.js';
import { FedProx } from './fedprox.js';

test('FedProx instructions carry μ next to FedAvg\'s E, B, η', () => {
  const plan = new FedProx({ proximalMu: 0.01, epochs: 2 }).configureTrain(1, ['a', 'b'], seededRng(1));
  assert.deepEqual(plan.instructions, { epochs: 2, batchSize: 32, learningRate: 0.1, proximalMu: 0.01 });
});

test('FedProx selects and aggregates exactly as FedAvg', () => {
  // Prepare
  const opts = { fractionFit: 0.5 };
  const available = ['a', 'b', 'c', 'd', 'e', 'f'];
  const updates = [
    { participantId: 'a', params: Float32Array.of(1, 2), numExamples: 3 },
    { participantId: 'b', params: Float32Array.of(5, -2), numExamples: 1 },
  ];
  const global = new Float32Array(2);
  // Execute
  const prox = new FedProx({ ...opts, proximalMu: 1 });
  const avg = new FedAvg(opts);
  // Assert
  assert.deepEqual(prox.configureTrain(2, available, seededRng(3)).selected, avg.configureTrain(2, available, seededRng(3)).selected);
  assert.deepEqual(prox.aggregateTrain(2, global, updates), avg.aggregateTrain(2, global, updates));
});

test('FedProx rejects a negative or non-numeric μ with a ConfigError naming proximalMu', () => {
  assert.throws(() => new FedProx({ proximalMu: -0.1 }), (e: unknown) => e instanceof ConfigError && e.field === 'proximalMu');
  assert.throws(() => new FedProx({ proximalMu: Number.POSITIVE_INFINITY }), (e: unknown) => e instanceof ConfigError && e.field === 'proximalMu');
});
