import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { seededRng } from '../core/rng.js';
import { FedAvg } from './fedavg.js';
import { FedMedian } from './fed-median.js';
import type { ClientUpdate } from './strategy.js';

const update = (participantId: string, params: number[], numExamples: number): ClientUpdate => ({
  participantId,
  params: Float32Array.from(params),
  numExamples,
});

test('FedMedian selects like FedAvg and returns the coordinate-wise median, ignoring n_k', () => {
  // Prepare
  const available = ['a', 'b', 'c', 'd', 'e'];
  const updates = [update('a', [1, 10], 1), update('b', [2, 30], 1), update('c', [50, 20], 1000)];
  // Execute
  const s = new FedMedian({ fractionFit: 0.6 });
  const next = s.aggregateTrain(1, new Float32Array(2), updates);
  // Assert
  assert.deepEqual(s.configureTrain(4, available, seededRng(2)).selected, new FedAvg({ fractionFit: 0.6 }).configureTrain(4, available, seededRng(2)).selected);
  assert.deepEqual([...next], [2, 20]);
});

test('property: FedMedian stays within the honest range under f < n/2 Byzantine updates claiming many examples, FedAvg does not', () => {
  fc.assert(
    fc.property(fc.integer({ min: 2, max: 8 }), fc.integer({ min: 0, max: 1000 }), (honestCount, seed) => {
      // Prepare
      const rng = seededRng(seed);
      const honest = Array.from({ length: honestCount }, (_, k) => update(`h${k}`, [rng.next(), rng.next()], 10 + rng.int(90)));
      const f = 1 + rng.int(honestCount - 1);
      const byzantine = Array.from({ length: f }, (_, k) => update(`b${k}`, [1e6, -1e6], 1e9));
      const updates = [...honest, ...byzantine];
      const g = new Float32Array(2);
      // Execute
      const median = new FedMedian().aggregateTrain(1, g, updates);
      const mean = new FedAvg().aggregateTrain(1, g, updates);
      // Assert
      for (const i of [0, 1]) {
        const col = honest.map((u) => u.params[i] as number);
        assert.ok((median[i] as number) >= Math.min(...col) && (median[i] as number) <= Math.max(...col));
        assert.ok(Math.abs(mean[i] as number) > 1e5);
      }
    }),
  );
});
