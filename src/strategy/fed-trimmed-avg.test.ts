import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ConfigError } from '../core/errors.js';
import { seededRng } from '../core/rng.js';
import { FedAvg } from './fedavg.js';
import { FedTrimmedAvg } from './fed-trimmed-avg.js';
import type { ClientUpdate } from './strategy.js';

const update = (participantId: string, params: number[], numExamples: number): ClientUpdate => ({
  participantId,
  params: Float32Array.from(params),
  numExamples,
});

test('FedTrimmedAvg with the default β = 0.2 drops the extreme update of 5 at each end (hand-computed)', () => {
  const updates = [1, 2, 3, 4, 100].map((x, k) => update(`p${k}`, [x, -x], 1));
  const s = new FedTrimmedAvg();
  assert.equal(s.beta, 0.2);
  assert.deepEqual([...s.aggregateTrain(1, new Float32Array(2), updates)], [3, -3]);
});

test('property: FedTrimmedAvg (β = 0.3) stays within the honest range with up to ⌊0.3·n⌋ Byzantine updates, FedAvg does not', () => {
  fc.assert(
    fc.property(fc.integer({ min: 3, max: 12 }), fc.integer({ min: 0, max: 1000 }), (honestCount, seed) => {
      // Prepare: f ≤ 0.3·(h + f) ⇔ f ≤ 3h/7.
      const rng = seededRng(seed);
      const f = 1 + rng.int(Math.floor((3 * honestCount) / 7));
      const honest = Array.from({ length: honestCount }, (_, k) => update(`h${k}`, [rng.next()], 50));
      const updates = [...honest, ...Array.from({ length: f }, (_, k) => update(`b${k}`, [1e6], 1))];
      // Execute
      const trimmed = new FedTrimmedAvg({ beta: 0.3 }).aggregateTrain(1, new Float32Array(1), updates)[0] as number;
      const mean = new FedAvg().aggregateTrain(1, new Float32Array(1), updates)[0] as number;
      // Assert
      const col = honest.map((u) => u.params[0] as number);
      assert.ok(trimmed >= Math.min(...col) && trimmed <= Math.max(...col));
      assert.ok(mean < Math.min(...col) || mean > Math.max(...col));
    }),
  );
});

test('FedTrimmedAvg rejects β outside [0, 0.5) with a ConfigError naming beta', () => {
  assert.throws(() => new FedTrimmedAvg({ beta: 0.5 }), (e: unknown) => e instanceof ConfigError && e.field === 'beta');
});
