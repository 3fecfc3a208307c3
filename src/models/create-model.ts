/**
 * Builds a {@link Model} from its serialisable {@link ModelSpec}, checking every argument, since
 * specs arrive from configuration files and from the coordinator.
 */
import { ConfigError } from '../core/errors.js';
import { LogisticRegression } from './logistic.js';
import { Mlp } from './mlp.js';
import type { Model, ModelSpec } from './model.js';

/**
 * A model of the given architecture for `inputDim` features and `numClasses` classes (2 = binary).
 * An MLP with `hidden: []` is a single output layer, i.e. logistic regression with `layer0.*` block names.
 * @throws {ConfigError} naming the field: non-positive or non-integer `inputDim`, `numClasses` < 2,
 *   unknown `kind` or `activation`, negative or non-finite `l2`, non-positive hidden width.
 */
export function createModel(spec: ModelSpec, inputDim: number, numClasses: number): Model {
  if (!Number.isSafeInteger(inputDim) || inputDim < 1) {
    throw new ConfigError('inputDim', `must be a positive integer, got ${String(inputDim)}`);
  }
  if (!Number.isSafeInteger(numClasses) || numClasses < 2) {
    throw new ConfigError('numClasses', `must be an integer ≥ 2, got ${String(numClasses)}`);
  }
  if (typeof spec !== 'object' || spec === null) throw new ConfigError('model', 'spec must be an object');
  if (spec.l2 !== undefined && !(Number.isFinite(spec.l2) && spec.l2 >= 0)) {
    throw new ConfigError('model.l2', `must be a finite number ≥ 0, got ${String(spec.l2)}`);
  }
  const kind: unknown = spec.kind;
  switch (spec.kind) {
    case 'logistic':
      return new LogisticRegression(spec, inputDim, numClasses);
    case 'mlp': {
      if (!Array.isArray(spec.hidden)) throw new ConfigError('model.hidden', 'must be an array of layer widths');
      spec.hidden.forEach((h, i) => {
        if (!Number.isSafeInteger(h) || h < 1) {
          throw new ConfigError(`model.hidden[${i}]`, `must be a positive integer, got ${String(h)}`);
        }
      });
      if (spec.activation !== undefined && spec.activation !== 'relu' && spec.activation !== 'tanh') {
        throw new ConfigError('model.activation', `must be "relu" or "tanh", got ${JSON.stringify(spec.activation)}`);
      }
      return new Mlp(spec, inputDim, numClasses);
    }
    default:
      throw new ConfigError('model.kind', `must be "logistic" or "mlp", got ${JSON.stringify(kind)}`);
  }
}
