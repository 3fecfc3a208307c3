/**
 * Argument checks shared by the local trainers (plain SGD and DP-SGD).
 */
import { ConfigError, DataError, EduFedError } from '../core/errors.js';
import type { Dataset } from '../data/dataset.js';
import type { TrainInstructions } from '../strategy/strategy.js';
import type { Model } from './model.js';

/** Checks local training hyper-parameters. @throws ConfigError naming the field */
export function checkTrainInstructions(c: TrainInstructions): void {
  if (!Number.isSafeInteger(c.epochs) || c.epochs < 1) {
    throw new ConfigError('epochs', `must be a positive integer, got ${String(c.epochs)}`);
  }
  if (!Number.isSafeInteger(c.batchSize) || c.batchSize < 0) {
    throw new ConfigError('batchSize', `must be a non-negative integer (0 = full batch), got ${String(c.batchSize)}`);
  }
  if (!(Number.isFinite(c.learningRate) && c.learningRate > 0)) {
    throw new ConfigError('learningRate', `must be a finite number > 0, got ${String(c.learningRate)}`);
  }
  if (c.proximalMu !== undefined && !(Number.isFinite(c.proximalMu) && c.proximalMu >= 0)) {
    throw new ConfigError('proximalMu', `must be a finite number ≥ 0, got ${String(c.proximalMu)}`);
  }
}

/**
 * Checks that parameters, model and dataset agree.
 * @throws EduFedError (MODEL) on a shape mismatch; DataError when the dataset's arrays disagree with n and d.
 */
export function checkTrainShapes(model: Model, params: Float32Array, data: Dataset): void {
  if (params.length !== model.numParams) {
    throw new EduFedError('MODEL', `params has length ${params.length}, the model has ${model.numParams} parameters`);
  }
  if (data.d !== model.inputDim) {
    throw new EduFedError('MODEL', `dataset has ${data.d} features, the model expects ${model.inputDim}`);
  }
  if (data.numClasses !== model.numClasses) {
    throw new EduFedError('MODEL', `dataset has ${data.numClasses} classes, the model expects ${model.numClasses}`);
  }
  if (data.x.length !== data.n * data.d || data.y.length !== data.n) {
    throw new DataError({}, `dataset arrays do not match n = ${data.n}, d = ${data.d} (x: ${data.x.length}, y: ${data.y.length})`);
  }
}
