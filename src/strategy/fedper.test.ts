import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../core/errors.js';
import { seededRng } from '../core/rng.js';
import type { ParamBlock } from '../models/model.js';
import { FedPer } from './fedper.js';

// A 2-layer MLP: hidden (W1: 4, b1: 2) is shared, output (W2: 2, b2: 1) is personal.
const layout: readonly ParamBlock[] = [
  { name: 'W1', offset: 0, length: 4, shape: [2, 2] },
  { name: 'b1', offset: 4, length: 2, shape: [2] },
  { name: 'W2', offset: 6, length: 2, shape: [2, 1] },
  { name: 'b2', offset: 8, length: 1, shape: [1] },
];

test('FedPer instructions name the personal blocks', () => {
  const plan = new FedPer(layout, { personalBlocks: ['W2', 'b2'] }).configureTrain(1, ['a'], seededRng(1));
  assert.deepEqual(plan.instructions.personalBlocks, ['W2', 'b2']);
});

test('FedPer averages the shared blocks and keeps the previous global values in the personal ones', () => {
  // Prepare
  const global = Float32Array.of(0, 0, 0, 0, 0, 0, 7, 8, 9);
  const updates = [
    { participantId: 'a', params: Float32Array.of(1, 1, 1, 1, 2, 2, 100, 100, 100), numExamples: 1 },
    { participantId: 'b', params: Float32Array.of(3, 3, 3, 3, 6, 6, -50, 0, 0), numExamples: 3 },
  ];
  // Execute
  const next = new FedPer(layout, { personalBlocks: ['W2', 'b2'] }).aggregateTrain(1, global, updates);
  // Assert: shared = (1·a + 3·b) / 4; personal untouched.
  assert.deepEqual([...next], [2.5, 2.5, 2.5, 2.5, 5, 5, 7, 8, 9]);
});

test('a personal block in the middle of the layout leaves both sides federated', () => {
  const global = Float32Array.of(0, 0, 0, 0, -1, -1, 0, 0, 0);
  const updates = [
    { participantId: 'a', params: new Float32Array(9).fill(2), numExamples: 1 },
    { participantId: 'b', params: new Float32Array(9).fill(4), numExamples: 1 },
  ];
  const next = new FedPer(layout, { personalBlocks: ['b1'] }).aggregateTrain(1, global, updates);
  assert.deepEqual([...next], [3, 3, 3, 3, -1, -1, 3, 3, 3]);
});

test('FedPer rejects unknown, duplicate, empty or all-covering personal blocks with a ConfigError', () => {
  const field = (f: string) => (e: unknown): boolean => e instanceof ConfigError && e.field === f;
  assert.throws(() => new FedPer(layout, { personalBlocks: ['W3'] }), field('personalBlocks'));
  assert.throws(() => new FedPer(layout, { personalBlocks: ['W2', 'W2'] }), field('personalBlocks'));
  assert.throws(() => new FedPer(layout, { personalBlocks: [] }), field('personalBlocks'));
  assert.throws(() => new FedPer(layout, { personalBlocks: ['W1', 'b1', 'W2', 'b2'] }), field('personalBlocks'));
});

test('FedPer rejects a global model shorter than its layout', () => {
  const s = new FedPer(layout, { personalBlocks: ['b2'] });
  const u = { participantId: 'a', params: new Float32Array(5), numExamples: 1 };
  assert.throws(() => s.aggregateTrain(1, new Float32Array(5), [u]), (e: unknown) => e instanceof ConfigError && e.field === 'layout');
});
