import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ConfigError, ValidationError } from '../core/errors.js';
import { l2norm } from '../core/math.js';
import { clipDelta, clipL2 } from './clip.js';

test('a vector within the bound is left as is with factor 1', () => {
  const v = Float64Array.of(3, 4);
  const r = clipL2(v, 5);
  assert.deepEqual(r, { norm: 5, factor: 1 });
  assert.deepEqual(v, Float64Array.of(3, 4));
});

test('a vector over the bound is scaled to norm C, keeping its direction (3-4-5 by hand)', () => {
  const v = Float64Array.of(6, 8);
  const r = clipL2(v, 5);
  assert.equal(r.norm, 10);
  assert.equal(r.factor, 0.5);
  assert.deepEqual(v, Float64Array.of(3, 4));
});

test('property: after clipL2 the stored float32 vector never exceeds C and is a non-negative multiple of the input', () => {
  fc.assert(
    fc.property(
      fc.array(fc.float({ min: -1e6, max: 1e6, noNaN: true, noDefaultInfinity: true }), { minLength: 1, maxLength: 64 }),
      fc.double({ min: 1e-3, max: 1e3, noNaN: true }),
      (values, c) => {
        const v = Float32Array.from(values);
        const before = Float32Array.from(values);
        const r = clipL2(v, c);
        assert.ok(l2norm(v) <= c || r.factor === 1, `norm ${l2norm(v)} > ${c}`);
        assert.ok(r.factor > 0 && r.factor <= 1);
        for (let i = 0; i < v.length; i++) assert.ok(Math.abs(v[i]! - before[i]! * r.factor) <= 1e-6 * Math.abs(before[i]!) + 1e-30);
      },
    ),
    { numRuns: 200 },
  );
});

test('clipDelta clips params − reference and leaves both inputs untouched', () => {
  const reference = Float32Array.of(1, 1, 1);
  const params = Float32Array.of(1, 7, 9);
  const { delta, norm, factor } = clipDelta(params, reference, 5);
  assert.equal(norm, 10);
  assert.equal(factor, 0.5);
  assert.deepEqual(delta, Float64Array.of(0, 3, 4));
  assert.deepEqual(params, Float32Array.of(1, 7, 9));
  assert.deepEqual(reference, Float32Array.of(1, 1, 1));
});

test('errors: C ≤ 0 is a ConfigError; a length mismatch or a NaN names the participant', () => {
  assert.throws(() => clipL2(Float64Array.of(1), 0), (e: unknown) => e instanceof ConfigError && e.field === 'clipNorm');
  assert.throws(() => clipDelta(Float32Array.of(1, 2), Float32Array.of(1), 1, 'school-3'), (e: unknown) => e instanceof ValidationError && e.participant === 'school-3');
  assert.throws(() => clipDelta(Float32Array.of(Number.NaN), Float32Array.of(0), 1, 'school-4'), (e: unknown) => e instanceof ValidationError && e.participant === 'school-4');
});
