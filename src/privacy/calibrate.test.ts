import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../core/errors.js';
import { calibrateDpFedAvg, calibrateDpSgd } from './calibrate.js';
import { dpSgdSchedule } from './dp-sgd.js';
import { OPACUS_RDP_ORDERS, RdpAccountant } from './rdp-accountant.js';

test('calibrateDpSgd: the σ found spends at most, and within 1% of, the target over the job’s DP-SGD steps', () => {
  // Prepare: 10 rounds × 2 local epochs, B = 32 of n = 1000.
  const query = { targetEpsilon: 3, delta: 1e-5, rounds: 10, localEpochs: 2, batchSize: 32, numExamples: 1000 };
  // Execute
  const c = calibrateDpSgd(query);
  // Assert
  const schedule = dpSgdSchedule(1000, 32, 2);
  assert.equal(c.sampleRate, schedule.sampleRate);
  assert.equal(c.stepsPerRound, schedule.steps);
  assert.equal(c.totalSteps, 10 * schedule.steps);
  const eps = new RdpAccountant().compose(c.sampleRate, c.noiseMultiplier, c.totalSteps).getEpsilon(1e-5);
  assert.equal(c.epsilon, eps);
  assert.ok(eps <= 3 && eps > 3 * 0.99, `ε ${eps}`);
});

test('calibrateDpFedAvg reproduces Opacus’ get_noise_multiplier: q = 4/100, 2000 rounds, ε = 8 gives z ≈ 1.3562', () => {
  // Source of the expected value: pytorch/opacus, opacus/tests/accountants_test.py, test_get_noise_multiplier_rdp_steps.
  const c = calibrateDpFedAvg({ targetEpsilon: 8, delta: 1e-5, rounds: 2000, participantsPerRound: 4, population: 100, orders: OPACUS_RDP_ORDERS });
  assert.equal(c.sampleRate, 0.04);
  assert.equal(c.stepsPerRound, 1);
  assert.ok(Math.abs(c.noiseMultiplier / 1.3562 - 1) < 0.01, `z ${c.noiseMultiplier}`);
});

test('invalid queries throw ConfigError naming the field', () => {
  const field = (f: string) => (e: unknown) => e instanceof ConfigError && e.field === f;
  assert.throws(() => calibrateDpFedAvg({ targetEpsilon: 1, delta: 1e-5, rounds: 10, participantsPerRound: 11, population: 10 }), field('participantsPerRound'));
  assert.throws(() => calibrateDpFedAvg({ targetEpsilon: 1, delta: 1e-5, rounds: 0, participantsPerRound: 1, population: 10 }), field('rounds'));
  assert.throws(() => calibrateDpSgd({ targetEpsilon: 1, delta: 1e-5, rounds: 1, localEpochs: 1, batchSize: 8, numExamples: 0 }), field('numExamples'));
  assert.throws(() => calibrateDpSgd({ targetEpsilon: -1, delta: 1e-5, rounds: 1, localEpochs: 1, batchSize: 8, numExamples: 10 }), field('targetEpsilon'));
});
