import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../core/errors.js';
import { seededRng } from '../core/rng.js';
import type { ParamBlock } from '../models/model.js';
import { createStrategy, parseStrategyConfig, STRATEGY_NAMES, type StrategyConfig } from './create-strategy.js';

const layout: readonly ParamBlock[] = [
  { name: 'hidden', offset: 0, length: 6, shape: [3, 2] },
  { name: 'output', offset: 6, length: 3, shape: [3] },
];

const CONFIGS: Record<(typeof STRATEGY_NAMES)[number], StrategyConfig> = {
  fedavg: { name: 'fedavg', fractionFit: 0.5 },
  fedprox: { name: 'fedprox', proximalMu: 0.1 },
  fedper: { name: 'fedper', personalBlocks: ['output'] },
  fedadam: { name: 'fedadam', eta: 0.05, beta2: 0.9 },
  fedyogi: { name: 'fedyogi', tau: 1e-2 },
  fedadagrad: { name: 'fedadagrad', beta1: 0.5 },
  fedmedian: { name: 'fedmedian' },
  fedtrimmedavg: { name: 'fedtrimmedavg', beta: 0.1 },
  krum: { name: 'krum', numMalicious: 1, numToKeep: 2 },
};

const EXPECTED_CLASS: Record<(typeof STRATEGY_NAMES)[number], string> = {
  fedavg: 'FedAvg',
  fedprox: 'FedProx',
  fedper: 'FedPer',
  fedadam: 'FedAdam',
  fedyogi: 'FedYogi',
  fedadagrad: 'FedAdagrad',
  fedmedian: 'FedMedian',
  fedtrimmedavg: 'FedTrimmedAvg',
  krum: 'Krum',
};

test('createStrategy builds every named strategy, and each runs a round end to end', () => {
  for (const name of STRATEGY_NAMES) {
    // Prepare
    const strategy = createStrategy(CONFIGS[name], layout);
    const available = Array.from({ length: 6 }, (_, i) => `p${i}`);
    // Execute
    const plan = strategy.configureTrain(1, available, seededRng(1));
    const updates = plan.selected.map((id, k) => ({ participantId: id, params: new Float32Array(9).fill(k), numExamples: 5 }));
    const next = strategy.aggregateTrain(1, new Float32Array(9), updates);
    // Assert
    assert.equal(strategy.name, EXPECTED_CLASS[name]);
    assert.equal(next.length, 9, name);
  }
});

test('options in the config reach the strategy (FedProx μ in the instructions, FedPer blocks)', () => {
  const prox = createStrategy({ name: 'fedprox', proximalMu: 0.3, epochs: 4 }, layout).configureTrain(1, ['a'], seededRng(1));
  assert.equal(prox.instructions.proximalMu, 0.3);
  assert.equal(prox.instructions.epochs, 4);
  const per = createStrategy({ name: 'fedper', personalBlocks: ['output'] }, layout).configureTrain(1, ['a'], seededRng(1));
  assert.deepEqual(per.instructions.personalBlocks, ['output']);
});

test('parseStrategyConfig accepts parsed JSON and rejects unknown names, foreign options and wrong types', () => {
  const field = (f: string) => (e: unknown): boolean => e instanceof ConfigError && e.field === f;
  assert.deepEqual(parseStrategyConfig(JSON.parse('{"name":"krum","numMalicious":1}')), { name: 'krum', numMalicious: 1 });
  assert.throws(() => parseStrategyConfig(null), field('strategy'));
  assert.throws(() => parseStrategyConfig({ name: 'fedsgd' }), field('strategy.name'));
  assert.throws(() => parseStrategyConfig({ name: 'fedavg', proximalMu: 0.1 }), field('strategy.proximalMu'));
  assert.throws(() => parseStrategyConfig({ name: 'fedadagrad', beta2: 0.9 }), field('strategy.beta2'));
  assert.throws(() => parseStrategyConfig({ name: 'fedavg', epochs: '5' }), field('strategy.epochs'));
  assert.throws(() => parseStrategyConfig({ name: 'fedprox' }), field('strategy.proximalMu'));
  assert.throws(() => parseStrategyConfig({ name: 'fedper', personalBlocks: 'output' }), field('strategy.personalBlocks'));
  assert.throws(() => parseStrategyConfig({ name: 'fedper', personalBlocks: [1] }), field('strategy.personalBlocks'));
});

test('createStrategy passes range errors through from the constructors, naming the option', () => {
  assert.throws(() => createStrategy({ name: 'fedavg', fractionFit: 2 }, layout), (e: unknown) => e instanceof ConfigError && e.field === 'fractionFit');
  assert.throws(() => createStrategy({ name: 'fedper', personalBlocks: ['nope'] }, layout), (e: unknown) => e instanceof ConfigError && e.field === 'personalBlocks');
});
