import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ConfigError, EduFedError } from '../core/errors.js';
import { seededRng } from '../core/rng.js';
import { FedAvg } from './fedavg.js';
import { Krum } from './krum.js';
import type { ClientUpdate } from './strategy.js';

const update = (participantId: string, params: number[], numExamples: number): ClientUpdate => ({
  participantId,
  params: Float32Array.from(params),
  numExamples,
});

test('Krum (m = 1) returns the most central update itself (hand-computed on {0, 1, 2, 100})', () => {
  const updates = [0, 1, 2, 100].map((x, k) => update(`p${k}`, [x], 10));
  assert.deepEqual([...new Krum().aggregateTrain(1, new Float32Array(1), updates)], [1]);
});

test('Multi-Krum (m = 3, f = 1) returns the n_k-weighted mean of the 3 best-scored updates (hand-computed)', () => {
  // Points a 1, b 0.9, c 1.15, d 1.3, e 3, f 50; each score sums the n − f − 2 = 3 nearest squared distances:
  // a .01 + .0225 + .09 = .1225, b .01 + .0625 + .16 = .2325, c .0225 + .0225 + .0625 = .1075, d .2725, e and f larger.
  const updates = [update('a', [1], 1), update('b', [0.9], 1), update('c', [1.15], 2), update('d', [1.3], 1), update('e', [3], 1), update('f', [50], 1)];
  const next = new Krum({ numMalicious: 1, numToKeep: 3 }).aggregateTrain(1, new Float32Array(1), updates);
  // Chosen: c, a, b with weights 2, 1, 1: (2.3 + 1 + 0.9) / 4 = 1.05.
  assert.ok(Math.abs((next[0] as number) - 1.05) < 1e-6);
});

test('Krum selects at least 2f + 3 participants by default and rejects a smaller minFit', () => {
  const plan = new Krum({ numMalicious: 2, fractionFit: 0.1 }).configureTrain(1, Array.from({ length: 20 }, (_, i) => `p${i}`), seededRng(1));
  assert.equal(plan.selected.length, 7);
  assert.throws(() => new Krum({ numMalicious: 2, minFit: 6 }), (e: unknown) => e instanceof ConfigError && e.field === 'minFit');
  assert.throws(() => new Krum({ numToKeep: 0 }), (e: unknown) => e instanceof ConfigError && e.field === 'numToKeep');
});

test('Krum fails the round with a STRATEGY error when fewer than 2f + 3 updates arrive', () => {
  const updates = [1, 2, 3, 4].map((x, k) => update(`p${k}`, [x], 1));
  assert.throws(
    () => new Krum({ numMalicious: 1 }).aggregateTrain(3, new Float32Array(1), updates),
    (e: unknown) => e instanceof EduFedError && e.code === 'STRATEGY' && /round 3 has 4/.test(e.message),
  );
});

test('property: with f colluding Byzantine updates and n > 2f + 2, Krum stays within the honest range, FedAvg does not', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 1000 }), (f, extra, seed) => {
      // Prepare
      const rng = seededRng(seed);
      const honest = Array.from({ length: f + 3 + extra }, (_, k) => update(`h${k}`, [rng.next(), rng.next()], 20));
      const updates = [...honest, ...Array.from({ length: f }, (_, k) => update(`b${k}`, [1e4, -1e4], 1e6))];
      // Execute
      const chosen = new Krum({ numMalicious: f, numToKeep: 2 }).aggregateTrain(1, new Float32Array(2), updates);
      const mean = new FedAvg().aggregateTrain(1, new Float32Array(2), updates);
      // Assert
      for (const i of [0, 1]) {
        const col = honest.map((u) => u.params[i] as number);
        assert.ok((chosen[i] as number) >= Math.min(...col) - 1e-6 && (chosen[i] as number) <= Math.max(...col) + 1e-6);
        assert.ok(Math.abs(mean[i] as number) > 100);
      }
    }),
  );
});
