import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ValidationError } from '../../core/errors.js';
import { gatherMulTReference, RingMatrix, ringKernelAvailable } from './ring-kernel.js';
import { ringElement, ringRandom } from './ring.js';

test('Node runs the WebAssembly kernel (the BigInt fallback is for engines without WebAssembly)', () => {
  assert.equal(ringKernelAvailable(), true);
});

test('the kernel equals the BigInt reference M[batch]ᵀv mod 2^64 for any shape, batch size (multiple of 4 or not) and repeated rows', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 30 }),
      fc.integer({ min: 1, max: 9 }),
      fc.integer({ min: 1, max: 23 }),
      fc.integer({ min: 0, max: 255 }),
      fc.nat(),
      (rows, cols, b, seedByte, pick) => {
        // Prepare
        const m = new RingMatrix(rows, cols, b);
        m.words.set(ringRandom(new Uint8Array(32).fill(seedByte), rows * cols));
        const v = ringRandom(new Uint8Array(32).fill(seedByte ^ 0xff), b);
        const batch = Array.from({ length: b }, (_, i) => (pick + i * 7) % rows);
        // Execute
        const got = m.gatherMulT(batch, v);
        // Assert
        assert.deepEqual(got, gatherMulTReference(m.words, cols, batch, v));
      },
    ),
    { numRuns: 60 },
  );
});

test('one row and weight 1 returns that row; weight −1 (2^64 − 1) returns its negation', () => {
  const m = new RingMatrix(2, 3, 2);
  m.words.set(ringRandom(new Uint8Array(32).fill(1), 6));
  const one = Uint32Array.of(1, 0);
  const minusOne = Uint32Array.of(0xffffffff, 0xffffffff);
  assert.deepEqual(m.gatherMulT([1], one), m.words.slice(6, 12));
  const neg = m.gatherMulT([1], minusOne);
  for (let j = 0; j < 3; j++) assert.equal(BigInt.asUintN(64, ringElement(neg, j) + ringElement(m.words, 3 + j)), 0n);
});

test('batches larger than maxBatch, weights of the wrong length and rows outside the matrix are refused', () => {
  const m = new RingMatrix(4, 2, 2);
  assert.throws(() => m.gatherMulT([0, 1, 2], new Uint32Array(6)), ValidationError);
  assert.throws(() => m.gatherMulT([0, 1], new Uint32Array(2)), ValidationError);
  assert.throws(() => m.gatherMulT([0, 4], new Uint32Array(4)), /outside \[0, 4\)/);
  assert.throws(() => new RingMatrix(2, 0, 1), ValidationError);
});
