/**
 * Local training and evaluation on one participant's data: the ClientUpdate step of FedAvg
 * (McMahan et al., "Communication-Efficient Learning of Deep Networks from Decentralized Data",
 * AISTATS 2017) with FedProx's proximal term (Li et al., "Federated Optimization in Heterogeneous
 * Networks", MLSys 2020).
 */
import { ConfigError, DataError, EduFedError } from '../core/errors.js';
import { summarize, type EvalSummary } from '../core/metrics.js';
import { shuffleInPlace, type Rng } from '../core/rng.js';
import type { Dataset } from '../data/dataset.js';
import type { TrainInstructions } from '../strategy/strategy.js';
import type { Model } from './model.js';
import { checkTrainInstructions, checkTrainShapes } from './check-train-args.js';

/** Optional inputs of {@link trainLocal}. */
export interface TrainOptions {
  /** FedProx anchor w^t, the global parameters received; defaults to `initial`. */
  readonly anchor?: Float32Array;
  /** Layout blocks whose parameters stay fixed (their gradient is zeroed). */
  readonly frozenBlocks?: readonly string[];
  /** Called after each epoch with its 1-based number. */
  readonly onProgress?: (epoch: number) => void;
}

/** What {@link trainLocal} returns. */
export interface TrainResult {
  /** The trained parameters (a new array). */
  readonly params: Float32Array;
  /** Mean over all steps of the model's mini-batch loss (cross-entropy + L2, without the proximal term), weighted by batch size. */
  readonly meanLoss: number;
  /** Number of SGD steps taken. */
  readonly steps: number;
  /** n_k: number of local training examples. */
  readonly numExamples: number;
}

/**
 * Mini-batch SGD from `initial` for `config.epochs` epochs: each epoch shuffles the rows with
 * `rng`, then steps through batches of `config.batchSize` rows (0 = the whole dataset; the last
 * batch of an epoch may be smaller) with w ← w − η·(∇F(w) + μ·(w − anchor)), μ = `config.proximalMu`.
 * `initial` is not modified; the result is bit-identical for the same inputs and rng state.
 * @throws {ConfigError} on invalid hyper-parameters or an unknown frozen block name.
 * @throws {EduFedError} code MODEL when shapes disagree or the loss stops being finite (divergence).
 * @throws {DataError} when the dataset has no rows or holds an invalid label.
 */
export function trainLocal(
  model: Model,
  initial: Float32Array,
  data: Dataset,
  config: TrainInstructions,
  rng: Rng,
  options: TrainOptions = {},
): TrainResult {
  checkTrainInstructions(config);
  checkTrainShapes(model, initial, data);
  const anchor = options.anchor ?? initial;
  if (anchor.length !== model.numParams) {
    throw new EduFedError('MODEL', `anchor has length ${anchor.length}, the model has ${model.numParams} parameters`);
  }
  const frozen = frozenRanges(model, options.frozenBlocks ?? []);
  const n = data.n;
  if (n === 0) throw new DataError({}, 'no training rows: cannot train on an empty dataset');

  const params = initial.slice();
  const grad = new Float32Array(model.numParams);
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const batch = config.batchSize === 0 ? n : Math.min(config.batchSize, n);
  const lr = config.learningRate;
  const mu = config.proximalMu ?? 0;
  const p = params.length;

  let lossSum = 0;
  let steps = 0;
  for (let epoch = 1; epoch <= config.epochs; epoch++) {
    shuffleInPlace(order, rng);
    for (let start = 0; start < n; start += batch) {
      const end = Math.min(start + batch, n);
      const loss = model.lossAndGrad(params, data.x, data.y, order, start, end, grad);
      if (!Number.isFinite(loss)) {
        throw new EduFedError(
          'MODEL',
          `training diverged at epoch ${epoch}, step ${steps + 1}: loss is ${loss}; lower learningRate (${lr})`,
        );
      }
      lossSum += loss * (end - start);
      steps++;
      if (mu > 0) for (let j = 0; j < p; j++) grad[j] = grad[j]! + mu * (params[j]! - anchor[j]!);
      for (let f = 0; f < frozen.length; f += 2) grad.fill(0, frozen[f]!, frozen[f + 1]!);
      for (let j = 0; j < p; j++) params[j] = params[j]! - lr * grad[j]!;
    }
    // float32 parameters can overflow to ±Infinity while the loss of the step before was still finite.
    for (let j = 0; j < p; j++) {
      if (!Number.isFinite(params[j]!)) {
        throw new EduFedError('MODEL', `training diverged in epoch ${epoch}: parameter ${j} is ${params[j]}; lower learningRate (${lr})`);
      }
    }
    options.onProgress?.(epoch);
  }
  return { params, meanLoss: lossSum / (n * config.epochs), steps, numExamples: n };
}

/**
 * Evaluates `params` on every row of `data` as a mergeable {@link EvalSummary}
 * (turn it into metrics with `metricsFromSummary`).
 * @throws {EduFedError} code MODEL when shapes disagree. @throws {DataError} on an invalid label.
 */
export function evaluateModel(model: Model, params: Float32Array, data: Dataset): EvalSummary {
  checkTrainShapes(model, params, data);
  const probs = model.predict(params, data.x, data.n);
  return summarize(probs, data.y, data.n, data.numClasses);
}

/** Flat [start, end) pairs of the frozen blocks' parameter ranges. */
function frozenRanges(model: Model, names: readonly string[]): number[] {
  const ranges: number[] = [];
  for (const name of names) {
    const block = model.layout.find((b) => b.name === name);
    if (block === undefined) {
      const known = model.layout.map((b) => b.name).join(', ');
      throw new ConfigError('frozenBlocks', `no block named "${name}" (the model has ${known})`);
    }
    ranges.push(block.offset, block.offset + block.length);
  }
  return ranges;
}
