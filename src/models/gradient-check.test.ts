import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../core/errors.js';
import { seededRng, type Rng } from '../core/rng.js';
import { createModel } from './create-model.js';
import { gradientCheck } from './gradient-check.js';
import type { Model, ModelSpec } from './model.js';

const TOLERANCE = 1e-3;

interface Case {
  readonly model: Model;
  readonly params: Float32Array;
  readonly x: Float32Array;
  readonly y: Float32Array;
  readonly rows: Uint32Array;
}

/** Small random inputs and parameters, so float32 rounding stays far below the tolerance. */
function makeCase(spec: ModelSpec, d: number, k: number, n: number, seed: number): Case {
  const rng: Rng = seededRng(seed);
  const model = createModel(spec, d, k);
  const params = Float32Array.from({ length: model.numParams }, () => 0.5 * rng.normal());
  const x = Float32Array.from({ length: n * d }, () => rng.normal());
  const y = Float32Array.from({ length: n }, () => rng.int(k));
  const rows = Uint32Array.from({ length: n }, (_, i) => i);
  return { model, params, x, y, rows };
}

function check(c: Case): number {
  return gradientCheck(c.model, c.params, c.x, c.y, c.rows);
}

describe('gradientCheck on the built-in models', () => {
  const cases: [string, ModelSpec, number][] = [
    ['binary logistic regression', { kind: 'logistic' }, 2],
    ['multinomial logistic regression', { kind: 'logistic' }, 4],
    ['binary logistic regression with l2', { kind: 'logistic', l2: 0.3 }, 2],
    ['multinomial logistic regression with l2', { kind: 'logistic', l2: 0.3 }, 3],
    ['ReLU MLP, 3 classes', { kind: 'mlp', hidden: [6, 5] }, 3],
    ['ReLU MLP, binary', { kind: 'mlp', hidden: [7] }, 2],
    ['tanh MLP, 3 classes', { kind: 'mlp', hidden: [6, 5], activation: 'tanh' }, 3],
    ['tanh MLP, binary, with l2', { kind: 'mlp', hidden: [4], activation: 'tanh', l2: 0.2 }, 2],
    ['ReLU MLP with l2', { kind: 'mlp', hidden: [5], l2: 0.2 }, 3],
  ];
  for (const [name, spec, k] of cases) {
    it(`${name}: analytic gradient matches finite differences (max rel. error < 1e-3)`, () => {
      const c = makeCase(spec, 4, k, 12, name.length);
      const err = check(c);
      assert.ok(err < TOLERANCE, `max relative error ${err}`);
    });
  }

  it('leaves the parameters as they were', () => {
    const c = makeCase({ kind: 'mlp', hidden: [3] }, 3, 3, 5, 1);
    const before = c.params.slice();
    check(c);
    assert.deepEqual(c.params, before);
  });
});

describe('gradientCheck detects wrong gradients', () => {
  /** Wraps a model so that its gradient is off by `bias` in coordinate `at`, or drops the l2 part. */
  function broken(inner: Model, fault: (grad: Float32Array, params: Float32Array) => void): Model {
    return {
      spec: inner.spec,
      inputDim: inner.inputDim,
      numClasses: inner.numClasses,
      numParams: inner.numParams,
      layout: inner.layout,
      init: (rng) => inner.init(rng),
      predict: (params, x, n, out) => inner.predict(params, x, n, out),
      lossAndGrad: (params, x, y, rows, start, end, grad) => {
        const loss = inner.lossAndGrad(params, x, y, rows, start, end, grad);
        fault(grad, params);
        return loss;
      },
    };
  }

  it('a 2% error in one coordinate fails the check', () => {
    const c = makeCase({ kind: 'mlp', hidden: [5] }, 4, 3, 12, 11);
    const bad = broken(c.model, (g) => {
      g[3] = g[3]! * 1.02 + 0.002;
    });
    assert.ok(check(c) < TOLERANCE);
    assert.ok(check({ ...c, model: bad }) > 10 * TOLERANCE);
  });

  it('a gradient that forgets the l2 term fails the check', () => {
    const c = makeCase({ kind: 'logistic', l2: 0.5 }, 4, 2, 12, 12);
    const bad = broken(c.model, (g, p) => {
      for (let i = 0; i < 4; i++) g[i] = g[i]! - 0.5 * p[i]!;
    });
    assert.ok(check({ ...c, model: bad }) > 10 * TOLERANCE);
  });

  it('a NaN gradient fails the check', () => {
    const c = makeCase({ kind: 'logistic' }, 2, 2, 3, 13);
    const bad = broken(c.model, (g) => {
      g[0] = NaN;
    });
    assert.equal(check({ ...c, model: bad }), Infinity);
  });

  it('rejects a non-positive eps and an empty row set', () => {
    const c = makeCase({ kind: 'logistic' }, 2, 2, 3, 14);
    assert.throws(() => gradientCheck(c.model, c.params, c.x, c.y, c.rows, 0), ConfigError);
    assert.throws(() => gradientCheck(c.model, c.params, c.x, c.y, new Uint32Array(0)), ConfigError);
  });
});
