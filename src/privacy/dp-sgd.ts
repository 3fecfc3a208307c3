/**
 * Learner-level DP-SGD: Abadi, Chu, Goodfellow, McMahan, Mironov, Talwar, Zhang, "Deep Learning with
 * Differential Privacy", CCS 2016, Algorithm 1, with Poisson sampling so that every step is exactly the
 * sampled Gaussian mechanism the RDP accountant analyses (rate q, noise multiplier σ).
 *
 * Each step: every row joins the batch independently with probability q = B/n; each sampled row's
 * gradient is clipped to L2 norm C; the clipped gradients are summed, N(0, σ²C²) is added per
 * coordinate, and the sum is divided by the expected batch size q·n. An epoch is round(1/q) steps.
 *
 * The models' `lossAndGrad` includes the L2 penalty 0.5·l2·‖w‖² in every row's gradient. The penalty
 * does not depend on the data, so it is kept out of clipping and noise: per-example gradients come from
 * the same architecture rebuilt with l2 = 0, and the penalty's gradient (the difference of the two
 * models' gradients on any one row) is added after noising, as is FedProx's proximal term. Both are
 * post-processing and cost no privacy.
 */
import { ConfigError, DataError, EduFedError } from '../core/errors.js';
import { l2norm } from '../core/math.js';
import type { Rng } from '../core/rng.js';
import type { Dataset } from '../data/dataset.js';
import { createModel } from '../models/create-model.js';
import type { Model } from '../models/model.js';
import type { TrainOptions, TrainResult } from '../models/train.js';
import { checkTrainInstructions, checkTrainShapes } from '../models/check-train-args.js';
import type { TrainInstructions } from '../strategy/strategy.js';

/** DP-SGD's privacy hyper-parameters. */
export interface DpSgdParams {
  /** C: L2 bound on each per-example gradient; > 0. */
  readonly clipNorm: number;
  /** σ: noise std divided by C; ≥ 0 (0 gives clipped, non-private SGD). */
  readonly noiseMultiplier: number;
}

/** {@link trainDpSgd}'s result: {@link TrainResult} plus the sampling rate the accountant needs. */
export interface DpSgdResult extends TrainResult {
  /** q: each row's probability of joining a step's batch. */
  readonly sampleRate: number;
}

/** What DP-SGD on n rows with batch size B for E epochs amounts to, for accounting. */
export interface DpSgdSchedule {
  /** q = min(1, B/n); B = 0 (full batch) gives 1. */
  readonly sampleRate: number;
  /** round(1/q). */
  readonly stepsPerEpoch: number;
  /** E · round(1/q). */
  readonly steps: number;
}

/**
 * The sampling rate and step counts {@link trainDpSgd} uses, so that participant, coordinator and
 * calibration all account the same steps.
 * @throws {ConfigError} naming the argument: n < 1, B < 0 or E < 1 (or not integers).
 */
export function dpSgdSchedule(numExamples: number, batchSize: number, epochs: number): DpSgdSchedule {
  if (!(Number.isSafeInteger(numExamples) && numExamples >= 1)) {
    throw new ConfigError('numExamples', `must be an integer ≥ 1, got ${String(numExamples)}`);
  }
  if (!(Number.isSafeInteger(batchSize) && batchSize >= 0)) {
    throw new ConfigError('batchSize', `must be a non-negative integer (0 = full batch), got ${String(batchSize)}`);
  }
  if (!(Number.isSafeInteger(epochs) && epochs >= 1)) throw new ConfigError('epochs', `must be a positive integer, got ${String(epochs)}`);
  const sampleRate = batchSize === 0 ? 1 : Math.min(1, batchSize / numExamples);
  const stepsPerEpoch = Math.max(1, Math.round(1 / sampleRate));
  return { sampleRate, stepsPerEpoch, steps: epochs * stepsPerEpoch };
}

/**
 * Poisson sampling: writes into `out` the rows of 0..n-1 that each joined with probability q, in
 * increasing order, and returns how many. Geometric skips make it cost O(q·n) draws, not O(n).
 */
function poissonSample(n: number, q: number, rng: Rng, out: Uint32Array): number {
  if (q >= 1) {
    for (let i = 0; i < n; i++) out[i] = i;
    return n;
  }
  const logKeep = Math.log1p(-q);
  let m = 0;
  let i = -1;
  for (;;) {
    // The gap G ≥ 0 before the next sampled row has P(G ≥ k) = (1 − q)^k.
    i += 1 + Math.floor(Math.log1p(-rng.next()) / logKeep);
    if (i >= n) return m;
    out[m++] = i;
  }
}

/**
 * DP-SGD from `initial` (not modified): `instructions.epochs` epochs of round(1/q) Poisson-sampled steps
 * with q = batchSize/n, per-example clipping to `dp.clipNorm`, N(0, (σC)²) noise from `noiseRng` and
 * w ← w − η·(noisy sum/(q·n) + ∇penalty + μ·(w − anchor)). Frozen blocks are neither clipped, noised
 * nor updated. `rng` draws the batches: in production it must be unpredictable to everyone else
 * (`cryptoRng()`), because amplification by sampling assumes the batch stays secret.
 *
 * A model with `spec.l2 > 0` must be one `createModel` can rebuild from its spec (its data-only twin is built that way).
 *
 * `meanLoss` is the mean training loss (cross-entropy + L2) over the sampled rows (NaN if no row was
 * ever sampled). It is computed from the raw data and is not differentially private.
 * @throws {ConfigError} naming the invalid hyper-parameter or frozen block.
 * @throws {EduFedError} code MODEL when shapes disagree or training diverges.
 * @throws {DataError} when the dataset is empty or holds an invalid label.
 */
export function trainDpSgd(
  model: Model,
  initial: Float32Array,
  data: Dataset,
  instructions: TrainInstructions,
  dp: DpSgdParams,
  rng: Rng,
  noiseRng: Rng,
  options: TrainOptions = {},
): DpSgdResult {
  checkTrainInstructions(instructions);
  if (!(Number.isFinite(dp.clipNorm) && dp.clipNorm > 0)) {
    throw new ConfigError('clipNorm', `must be a finite number > 0, got ${String(dp.clipNorm)}`);
  }
  if (!(Number.isFinite(dp.noiseMultiplier) && dp.noiseMultiplier >= 0)) {
    throw new ConfigError('noiseMultiplier', `must be a finite number ≥ 0, got ${String(dp.noiseMultiplier)}`);
  }
  checkTrainShapes(model, initial, data);
  const n = data.n;
  if (n === 0) throw new DataError({}, 'no training rows: cannot train on an empty dataset');
  const anchor = options.anchor ?? initial;
  if (anchor.length !== model.numParams) {
    throw new EduFedError('MODEL', `anchor has length ${anchor.length}, the model has ${model.numParams} parameters`);
  }
  const trainable = trainableMask(model, options.frozenBlocks ?? []);
  const { sampleRate: q, stepsPerEpoch } = dpSgdSchedule(n, instructions.batchSize, instructions.epochs);
  const l2 = model.spec.l2 ?? 0;
  const dataModel = l2 > 0 ? createModel({ ...model.spec, l2: 0 }, model.inputDim, model.numClasses) : model;

  const p = model.numParams;
  const params = initial.slice();
  const rows = new Uint32Array(n);
  const one = new Uint32Array(1);
  const g = new Float32Array(p);
  const gData = new Float32Array(p);
  const sum = new Float64Array(p);
  const std = dp.noiseMultiplier * dp.clipNorm;
  const expectedBatch = q * n;
  const lr = instructions.learningRate;
  const mu = instructions.proximalMu ?? 0;

  let lossSum = 0;
  let sampled = 0;
  let steps = 0;
  for (let epoch = 1; epoch <= instructions.epochs; epoch++) {
    for (let s = 0; s < stepsPerEpoch; s++) {
      const m = poissonSample(n, q, rng, rows);
      sum.fill(0);
      let stepLoss = 0;
      for (let k = 0; k < m; k++) {
        stepLoss += dataModel.lossAndGrad(params, data.x, data.y, rows, k, k + 1, g);
        let sq = 0;
        for (let j = 0; j < p; j++) {
          if (trainable[j] === 0) g[j] = 0;
          sq += g[j]! * g[j]!;
        }
        const norm = Math.sqrt(sq);
        const factor = norm > dp.clipNorm ? dp.clipNorm / norm : 1;
        for (let j = 0; j < p; j++) sum[j] = sum[j]! + factor * g[j]!;
      }
      // The penalty's value and gradient at w, from any one row (row 0): full model minus data-only model.
      let penalty = 0;
      if (l2 > 0) {
        one[0] = 0;
        penalty = model.lossAndGrad(params, data.x, data.y, one, 0, 1, g) - dataModel.lossAndGrad(params, data.x, data.y, one, 0, 1, gData);
      }
      if (m > 0) {
        const meanStepLoss = stepLoss / m + penalty;
        if (!Number.isFinite(meanStepLoss)) {
          throw new EduFedError('MODEL', `DP-SGD diverged at epoch ${epoch}, step ${steps + 1}: loss is ${meanStepLoss}; lower learningRate (${lr})`);
        }
        lossSum += meanStepLoss * m;
        sampled += m;
      }
      for (let j = 0; j < p; j++) {
        if (trainable[j] === 0) continue;
        let grad = (sum[j]! + (std > 0 ? std * noiseRng.normal() : 0)) / expectedBatch;
        if (l2 > 0) grad += g[j]! - gData[j]!;
        if (mu > 0) grad += mu * (params[j]! - anchor[j]!);
        params[j] = params[j]! - lr * grad;
      }
      steps++;
    }
    if (!Number.isFinite(l2norm(params))) {
      const bad = params.findIndex((v) => !Number.isFinite(v));
      throw new EduFedError('MODEL', `DP-SGD diverged in epoch ${epoch}: parameter ${bad} is ${params[bad]}; lower learningRate (${lr})`);
    }
    options.onProgress?.(epoch);
  }
  return { params, meanLoss: sampled > 0 ? lossSum / sampled : Number.NaN, steps, numExamples: n, sampleRate: q };
}

/** 1 for parameters that train, 0 for those in frozen blocks. */
function trainableMask(model: Model, frozen: readonly string[]): Uint8Array {
  const mask = new Uint8Array(model.numParams).fill(1);
  for (const name of frozen) {
    const block = model.layout.find((b) => b.name === name);
    if (block === undefined) {
      const known = model.layout.map((b) => b.name).join(', ');
      throw new ConfigError('frozenBlocks', `no block named "${name}" (the model has ${known})`);
    }
    mask.fill(0, block.offset, block.offset + block.length);
  }
  return mask;
}
