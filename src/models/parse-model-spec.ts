/**
 * Validation of a model specification arriving from a file or the network.
 */
import { ConfigError } from '../core/errors.js';
import { isRecord } from '../core/validate.js';
import type { ModelSpec } from './model.js';

/** Turns untrusted JSON into a {@link ModelSpec}. @throws ConfigError naming the field */
export function parseModelSpec(value: unknown, where = 'model'): ModelSpec {
  if (!isRecord(value)) throw new ConfigError(where, 'must be an object with a "kind"');
  const l2 = value['l2'];
  if (l2 !== undefined && (typeof l2 !== 'number' || !(l2 >= 0))) throw new ConfigError(`${where}.l2`, 'must be a non-negative number');
  const withL2 = typeof l2 === 'number' ? { l2 } : {};
  if (value['kind'] === 'logistic') return { kind: 'logistic', ...withL2 };
  if (value['kind'] === 'mlp') {
    const hidden = value['hidden'];
    if (!Array.isArray(hidden) || !hidden.every((h): h is number => typeof h === 'number' && Number.isInteger(h) && h >= 1 && h <= 65536)) {
      throw new ConfigError(`${where}.hidden`, 'must be an array of positive integers');
    }
    const activation = value['activation'];
    if (activation !== undefined && activation !== 'relu' && activation !== 'tanh') {
      throw new ConfigError(`${where}.activation`, 'must be "relu" or "tanh"');
    }
    return { kind: 'mlp', hidden, ...(activation !== undefined ? { activation } : {}), ...withL2 };
  }
  throw new ConfigError(`${where}.kind`, `unknown model kind ${JSON.stringify(value['kind'])}; expected "logistic" or "mlp"`);
}
