import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { axpy, dot, l2norm, logSigmoid, logsumexp, scale, sigmoid, softmaxInPlace, softplus } from './math.js';

describe('dot', () => {
  it('accumulates in float64, so a float32 sum that would stall at 2^24 stays exact', () => {
    // Prepare: in float32, 2^24 + 1 rounds back to 2^24.
    const a = new Float32Array([16777216, 1, 1, 1]);
    const b = new Float32Array([1, 1, 1, 1]);
    // Execute
    const s = dot(a, b);
    // Assert
    assert.equal(s, 16777219);
  });

  it('honours length and offsets', () => {
    const a = new Float32Array([9, 1, 2, 3, 9]);
    const b = new Float64Array([4, 5, 6]);
    assert.equal(dot(a, b, 3, 1, 0), 1 * 4 + 2 * 5 + 3 * 6);
  });

  it('rejects a range past the end of an array', () => {
    assert.throws(() => dot(new Float32Array(3), new Float32Array(3), 3, 1), RangeError);
  });
});

describe('axpy, scale, l2norm', () => {
  it('axpy adds alpha·x into the selected range of y only', () => {
    const x = new Float32Array([1, 2]);
    const y = new Float64Array([10, 10, 10, 10]);
    axpy(0.5, x, y, 2, 0, 1);
    assert.deepEqual(Array.from(y), [10, 10.5, 11, 10]);
  });

  it('scale multiplies in place', () => {
    const x = new Float32Array([1, -2, 4]);
    scale(x, -0.5);
    assert.deepEqual(Array.from(x), [-0.5, 1, -2]);
  });

  it('l2norm of a 3-4-5 vector is 5', () => {
    assert.equal(l2norm(new Float32Array([3, 4])), 5);
  });
});

describe('sigmoid and softplus', () => {
  it('sigmoid is finite and saturates without NaN for huge |z|', () => {
    assert.equal(sigmoid(0), 0.5);
    assert.equal(sigmoid(1000), 1);
    assert.equal(sigmoid(-1000), 0);
    assert.ok(sigmoid(-700) > 0);
  });

  it('sigmoid(z) + sigmoid(-z) = 1', () => {
    for (const z of [-30, -3.5, -0.1, 0.7, 12]) assert.ok(Math.abs(sigmoid(z) + sigmoid(-z) - 1) < 1e-15);
  });

  it('softplus is ln 2 at 0, linear for large z and keeps precision for very negative z', () => {
    assert.ok(Math.abs(softplus(0) - Math.LN2) < 1e-15);
    assert.equal(softplus(1000), 1000);
    // ln(1 + e^-40) ≈ e^-40; a naive log(1 + exp) would round it to 0.
    assert.ok(Math.abs(softplus(-40) / Math.exp(-40) - 1) < 1e-12);
  });

  it('logSigmoid stays finite where log(sigmoid) would be −∞', () => {
    assert.equal(logSigmoid(-1000), -1000);
    assert.ok(Math.abs(logSigmoid(0) + Math.LN2) < 1e-15);
  });
});

describe('logsumexp and softmaxInPlace', () => {
  it('logsumexp does not overflow for large inputs', () => {
    assert.ok(Math.abs(logsumexp(new Float64Array([1000, 1000])) - (1000 + Math.LN2)) < 1e-12);
  });

  it('logsumexp of an empty range is −∞', () => {
    assert.equal(logsumexp(new Float64Array(0)), -Infinity);
  });

  it('softmaxInPlace gives probabilities summing to 1 on a sub-range, even for huge logits', () => {
    const x = new Float64Array([7, 1000, 999, 998, 7]);
    softmaxInPlace(x, 3, 1);
    const sum = x[1]! + x[2]! + x[3]!;
    assert.ok(Math.abs(sum - 1) < 1e-15);
    assert.ok(x[1]! > x[2]! && x[2]! > x[3]!);
    assert.equal(x[0], 7);
    assert.equal(x[4], 7);
  });
});
