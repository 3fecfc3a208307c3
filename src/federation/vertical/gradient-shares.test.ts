import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { seededRng } from '../../core/rng.js';
import { BatchSchedule } from './batch-schedule.js';
import { Dealer, type RandomBytes } from './dealer.js';
import { featureHolderGradient, labelHolderShares, maskFeatureMatrix } from './gradient-shares.js';
import { gatherMulTReference, RingMatrix } from './ring-kernel.js';
import { decodeFixed, encodeFixed, ringAdd, ringRandom, ringSlice, ringSub } from './ring.js';

/** Deterministic "secret" bytes for reproducible dealer material. */
function countingBytes(start: number): RandomBytes {
  let k = start;
  return (n) => new Uint8Array(n).fill(k++ & 0xff);
}

function matrixOf(words: Uint32Array, rows: number, cols: number, maxBatch: number): RingMatrix {
  const m = new RingMatrix(rows, cols, maxBatch);
  m.words.set(words);
  return m;
}

test('the two gradient shares add up to enc(X)[B]ᵀenc(d) exactly, for every batch of an epoch dealt by the dealer', () => {
  fc.assert(
    fc.property(fc.integer({ min: 2, max: 40 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 9 }), fc.nat(), (n, d, batchSize, seed) => {
      // Prepare: features X (n × d), one epoch of the shared schedule, the dealer's mask and material.
      const f = 16;
      const rng = seededRng(seed);
      const x = Float64Array.from({ length: n * d }, () => rng.normal() * 3);
      const schedule = new BatchSchedule(n, batchSize, seed);
      const dealer = new Dealer(n, schedule.batchSize, countingBytes(seed));
      const rSeed = dealer.dealSeed('A');
      dealer.expandMask('A', d);
      const order = schedule.nextEpoch();
      const { labelHolder, featureHolders } = dealer.epochMaterial(schedule, order);
      const encX = encodeFixed(x, f);
      const r = matrixOf(ringRandom(rSeed, n * d), n, d, schedule.batchSize);
      const e = matrixOf(maskFeatureMatrix(encX, r.words), n, d, schedule.batchSize);
      const s = ringRandom(labelHolder.sSeed, n);
      const tSeed = featureHolders.get('A')?.tSeed ?? new Uint8Array(32);
      const tK = ringRandom(tSeed, schedule.batches * d);
      const tC = labelHolder.shares[0]?.tC ?? new Uint32Array(0);
      for (let j = 0; j < schedule.batches; j++) {
        const { start, end } = schedule.range(j);
        const batch = order.subarray(start, end);
        const residual = Float64Array.from({ length: end - start }, () => rng.next() * 2 - 1);
        const encD = encodeFixed(residual, f);
        // Execute: the label holder's and the feature holder's halves.
        const c = labelHolderShares(e, batch, encD, ringSlice(s, start, end), ringSlice(tC, j * d, (j + 1) * d));
        const g = featureHolderGradient(r, batch, c.maskedResidual, ringSlice(tK, j * d, (j + 1) * d), c.share);
        // Assert: exactly the ring product of the encodings, which decodes to Xᵀd within the rounding.
        assert.deepEqual(g, gatherMulTReference(encX, d, batch, encD));
        const grad = decodeFixed(g, 2 * f);
        for (let c2 = 0; c2 < d; c2++) {
          let exact = 0;
          for (let i = 0; i < batch.length; i++) exact += x[batch[i]! * d + c2]! * residual[i]!;
          assert.ok(Math.abs(grad[c2]! - exact) <= batch.length * 2 ** -f * 12, `column ${c2}: ${grad[c2]} vs ${exact}`);
        }
      }
    }),
    { numRuns: 40 },
  );
});

test('what the label holder receives (E = enc(X) − R) is identically distributed for any two feature matrices: a bijection of R maps one view onto the other', () => {
  fc.assert(
    fc.property(fc.array(fc.double({ min: -50, max: 50, noNaN: true }), { minLength: 6, maxLength: 6 }), fc.array(fc.double({ min: -50, max: 50, noNaN: true }), { minLength: 6, maxLength: 6 }), fc.nat(), (x1, x2, seed) => {
      // Prepare: the uniform mask R for X1, and R' = R + enc(X2) − enc(X1), also uniform (a shift of the ring).
      const f = 20;
      const e1 = encodeFixed(Float64Array.from(x1), f);
      const e2 = encodeFixed(Float64Array.from(x2), f);
      const r = ringRandom(new Uint8Array(32).fill(seed & 0xff), 6);
      const rPrime = ringAdd(r, ringSub(e2, e1));
      // Execute
      const view1 = maskFeatureMatrix(e1, r);
      const view2 = maskFeatureMatrix(e2, rPrime);
      // Assert: every view of X1 under R is the view of X2 under exactly one R', so the label
      // holder's view has the same (uniform) distribution whatever the features are.
      assert.deepEqual(view1, view2);
    }),
  );
});

test('what the feature holder receives (d′ = enc(d) − s) does not depend on the residuals either: a shift of s maps labels y=0 onto y=1', () => {
  const f = 20;
  const dY0 = encodeFixed(Float64Array.of(0.3, 0.6, 0.1), f);
  const dY1 = encodeFixed(Float64Array.of(-0.7, -0.4, -0.9), f);
  const s = ringRandom(new Uint8Array(32).fill(3), 3);
  const sPrime = ringAdd(s, ringSub(dY1, dY0));
  assert.deepEqual(ringSub(dY0, s), ringSub(dY1, sPrime));
});

test('masked features look uniform: every bit of E is set in about half of 4000 elements, even for all-zero features', () => {
  // Prepare: the worst case for a leak, features that are all zero.
  const n = 4000;
  const e = maskFeatureMatrix(new Uint32Array(2 * n), ringRandom(new Uint8Array(32).fill(9), n));
  // Execute: count each of the 64 bit positions.
  const ones = new Array<number>(64).fill(0);
  for (let i = 0; i < 2 * n; i++) for (let bit = 0; bit < 32; bit++) if ((e[i]! >>> bit) & 1) ones[(i % 2) * 32 + bit]!++;
  // Assert: within 5 standard deviations (σ = √n / 2 ≈ 32) of n / 2.
  for (const c of ones) assert.ok(Math.abs(c - n / 2) < 5 * Math.sqrt(n) / 2, `a bit is set ${c} times out of ${n}`);
});

test('the dealer refuses to expand a mask it never seeded, and wipes its seeds', () => {
  const dealer = new Dealer(4, 2, countingBytes(1));
  assert.throws(() => dealer.expandMask('B', 2), /no mask seed/);
  const seed = dealer.dealSeed('A');
  dealer.expandMask('A', 2);
  dealer.wipe();
  assert.throws(() => dealer.expandMask('A', 2), /no mask seed/);
  assert.equal(seed.length, 32);
});
