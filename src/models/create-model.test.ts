import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../core/errors.js';
import { createModel } from './create-model.js';
import { LogisticRegression } from './logistic.js';
import { Mlp } from './mlp.js';
import type { ModelSpec } from './model.js';

describe('createModel', () => {
  it('builds logistic regression and MLP models of the right size', () => {
    const bin = createModel({ kind: 'logistic' }, 10, 2);
    const multi = createModel({ kind: 'logistic', l2: 0.01 }, 10, 4);
    const mlp = createModel({ kind: 'mlp', hidden: [8], activation: 'tanh' }, 10, 3);
    assert.ok(bin instanceof LogisticRegression && bin.numParams === 11);
    assert.ok(multi instanceof LogisticRegression && multi.numParams === 44);
    assert.ok(mlp instanceof Mlp && mlp.numParams === 10 * 8 + 8 + 8 * 3 + 3);
    assert.equal(mlp.numClasses, 3);
    assert.equal(mlp.inputDim, 10);
  });

  const bad: [string, () => unknown, string][] = [
    ['inputDim 0', () => createModel({ kind: 'logistic' }, 0, 2), 'inputDim'],
    ['fractional inputDim', () => createModel({ kind: 'logistic' }, 2.5, 2), 'inputDim'],
    ['one class', () => createModel({ kind: 'logistic' }, 3, 1), 'numClasses'],
    ['negative l2', () => createModel({ kind: 'logistic', l2: -1 }, 3, 2), 'model.l2'],
    ['NaN l2', () => createModel({ kind: 'mlp', hidden: [2], l2: NaN }, 3, 2), 'model.l2'],
    ['zero-width hidden layer', () => createModel({ kind: 'mlp', hidden: [4, 0] }, 3, 2), 'model.hidden[1]'],
    ['unknown activation', () => createModel(JSON.parse('{"kind":"mlp","hidden":[2],"activation":"gelu"}') as ModelSpec, 3, 2), 'model.activation'],
    ['unknown kind', () => createModel(JSON.parse('{"kind":"forest"}') as ModelSpec, 3, 2), 'model.kind'],
  ];
  for (const [what, call, field] of bad) {
    it(`rejects ${what} with a ConfigError on ${field}`, () => {
      assert.throws(call, (e: unknown) => e instanceof ConfigError && e.field === field);
    });
  }
});
