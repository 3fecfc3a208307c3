/**
 * Logistic regression: binary (one sigmoid output) for 2 classes, multinomial (softmax) for more.
 *
 * Parameter layout:
 * - binary: `weight` [d], then `bias` [1];
 * - k classes: `weight` [k, d] row-major by class (row c holds class c's weights), then `bias` [k].
 *
 * Initialisation is all zeros: the loss is convex, so zeros are a fine start, and every party
 * starting from the same point needs no shared seed. The optional L2 penalty 0.5·l2·‖weight‖²
 * never applies to the bias.
 *
 * Kernels read float32 parameters and features but compute in float64 and accumulate the gradient
 * in a float64 buffer owned by the instance, so a training step allocates nothing.
 */
import { DataError, EduFedError } from '../core/errors.js';
import { sigmoid } from '../core/math.js';
import type { Rng } from '../core/rng.js';
import type { Model, ModelSpec, ParamBlock } from './model.js';
import { checkGradientArgs } from './check-args.js';

/** Binary or multinomial logistic regression over dense float32 features. */
export class LogisticRegression implements Model {
  readonly spec: ModelSpec;
  readonly inputDim: number;
  readonly numClasses: number;
  readonly numParams: number;
  readonly layout: readonly ParamBlock[];
  private readonly l2: number;
  /** Number of logits: 1 for binary, k otherwise. */
  private readonly outputs: number;
  private readonly gradAcc: Float64Array;
  private readonly logits: Float64Array;

  /** Builds the model; arguments are assumed valid (use `createModel` for checked construction). */
  constructor(spec: Extract<ModelSpec, { kind: 'logistic' }>, inputDim: number, numClasses: number) {
    this.spec = spec;
    this.inputDim = inputDim;
    this.numClasses = numClasses;
    this.l2 = spec.l2 ?? 0;
    this.outputs = numClasses === 2 ? 1 : numClasses;
    const nw = this.outputs * inputDim;
    this.numParams = nw + this.outputs;
    this.layout =
      numClasses === 2
        ? [
            { name: 'weight', offset: 0, length: inputDim, shape: [inputDim] },
            { name: 'bias', offset: inputDim, length: 1, shape: [1] },
          ]
        : [
            { name: 'weight', offset: 0, length: nw, shape: [numClasses, inputDim] },
            { name: 'bias', offset: nw, length: numClasses, shape: [numClasses] },
          ];
    this.gradAcc = new Float64Array(this.numParams);
    this.logits = new Float64Array(this.outputs);
  }

  /** All-zero parameters; `rng` is not consumed. */
  init(_rng: Rng): Float32Array {
    return new Float32Array(this.numParams);
  }

  /** @throws {EduFedError} code MODEL when `params`, `x` or `out` have the wrong length. */
  predict(params: Float32Array, x: Float32Array, n: number, out?: Float32Array): Float32Array {
    this.checkParams(params);
    const d = this.inputDim;
    const k = this.outputs;
    if (!Number.isInteger(n) || n < 0 || x.length < n * d) {
      throw new EduFedError('MODEL', `predict: x has ${x.length} values, fewer than n × d = ${n} × ${d}`);
    }
    const result = out ?? new Float32Array(n * k);
    if (result.length !== n * k) {
      throw new EduFedError('MODEL', `predict: out has length ${result.length}, expected ${n * k}`);
    }
    if (k === 1) {
      const b = params[d]!;
      for (let i = 0; i < n; i++) {
        const off = i * d;
        let z = b;
        for (let j = 0; j < d; j++) z += params[j]! * x[off + j]!;
        result[i] = sigmoid(z);
      }
      return result;
    }
    const z = this.logits;
    for (let i = 0; i < n; i++) {
      this.multiLogits(params, x, i * d);
      let m = -Infinity;
      for (let c = 0; c < k; c++) if (z[c]! > m) m = z[c]!;
      let s = 0;
      for (let c = 0; c < k; c++) {
        const e = Math.exp(z[c]! - m);
        z[c] = e;
        s += e;
      }
      for (let c = 0; c < k; c++) result[i * k + c] = z[c]! / s;
    }
    return result;
  }

  /**
   * Mean cross-entropy over `rows[start..end)` plus the L2 term, and its gradient into `grad`.
   * @throws {EduFedError} code MODEL on wrong array lengths or an empty range.
   * @throws {DataError} on a label that is not a class index, naming the (1-based) row.
   */
  lossAndGrad(
    params: Float32Array,
    x: Float32Array,
    y: Float32Array,
    rows: Uint32Array,
    start: number,
    end: number,
    grad: Float32Array,
  ): number {
    this.checkParams(params);
    checkGradientArgs(this.numParams, grad, rows, start, end);
    const dataLoss = this.outputs === 1 ? this.binaryPass(params, x, y, rows, start, end) : this.multiPass(params, x, y, rows, start, end);
    const g = this.gradAcc;
    const inv = 1 / (end - start);
    const nw = this.outputs * this.inputDim;
    let penalty = 0;
    const l2 = this.l2;
    for (let j = 0; j < nw; j++) {
      const w = params[j]!;
      grad[j] = g[j]! * inv + l2 * w;
      penalty += w * w;
    }
    for (let j = nw; j < this.numParams; j++) grad[j] = g[j]! * inv;
    return dataLoss * inv + 0.5 * l2 * penalty;
  }

  /** Σ of the per-row binary log-loss; the gradient sum goes into `gradAcc`. */
  private binaryPass(params: Float32Array, x: Float32Array, y: Float32Array, rows: Uint32Array, start: number, end: number): number {
    const d = this.inputDim;
    const g = this.gradAcc;
    g.fill(0);
    const b = params[d]!;
    const maxOff = x.length - d;
    let loss = 0;
    let gb = 0;
    for (let i = start; i < end; i++) {
      const r = rows[i]!;
      const off = r * d;
      if (off > maxOff) throw rowOutside(r, x.length, d);
      const t = y[r]!;
      if (t !== 0 && t !== 1) throw badLabel(r, t, 2);
      let z = b;
      for (let j = 0; j < d; j++) z += params[j]! * x[off + j]!;
      // loss = softplus(z) − t·z, written so that exp never sees a positive argument.
      const e = Math.exp(-Math.abs(z));
      loss += (z > 0 ? z : 0) + Math.log1p(e) - t * z;
      const p = z >= 0 ? 1 / (1 + e) : e / (1 + e);
      const delta = p - t;
      gb += delta;
      for (let j = 0; j < d; j++) g[j] = g[j]! + delta * x[off + j]!;
    }
    g[d] = gb;
    return loss;
  }

  /** Σ of the per-row softmax cross-entropy; the gradient sum goes into `gradAcc`. */
  private multiPass(params: Float32Array, x: Float32Array, y: Float32Array, rows: Uint32Array, start: number, end: number): number {
    const d = this.inputDim;
    const k = this.outputs;
    const g = this.gradAcc;
    const z = this.logits;
    g.fill(0);
    const bOff = k * d;
    const maxOff = x.length - d;
    let loss = 0;
    for (let i = start; i < end; i++) {
      const r = rows[i]!;
      const off = r * d;
      if (off > maxOff) throw rowOutside(r, x.length, d);
      const t = y[r]!;
      if (!(Number.isInteger(t) && t >= 0 && t < k)) throw badLabel(r, t, k);
      this.multiLogits(params, x, off);
      let m = -Infinity;
      for (let c = 0; c < k; c++) if (z[c]! > m) m = z[c]!;
      let s = 0;
      for (let c = 0; c < k; c++) s += Math.exp(z[c]! - m);
      const lse = m + Math.log(s);
      loss += lse - z[t]!;
      for (let c = 0; c < k; c++) {
        const delta = Math.exp(z[c]! - lse) - (c === t ? 1 : 0);
        const wOff = c * d;
        for (let j = 0; j < d; j++) g[wOff + j] = g[wOff + j]! + delta * x[off + j]!;
        g[bOff + c] = g[bOff + c]! + delta;
      }
    }
    return loss;
  }

  /** Fills `this.logits` with W·x + b for the row of x starting at `off`. */
  private multiLogits(params: Float32Array, x: Float32Array, off: number): void {
    const d = this.inputDim;
    const k = this.outputs;
    const z = this.logits;
    const bOff = k * d;
    for (let c = 0; c < k; c++) {
      const wOff = c * d;
      let s = params[bOff + c]!;
      for (let j = 0; j < d; j++) s += params[wOff + j]! * x[off + j]!;
      z[c] = s;
    }
  }

  private checkParams(params: Float32Array): void {
    if (params.length !== this.numParams) {
      throw new EduFedError('MODEL', `params has length ${params.length}, this logistic model has ${this.numParams}`);
    }
  }
}

function rowOutside(r: number, len: number, d: number): EduFedError {
  return new EduFedError('MODEL', `row index ${r} is outside x (${len} values of width ${d})`);
}

function badLabel(r: number, t: number, k: number): DataError {
  return new DataError({ row: r + 1, column: 'label' }, `label ${t} is not a class index in [0, ${k})`);
}
