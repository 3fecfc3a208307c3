/**
 * Multi-layer perceptron: fully connected hidden layers (ReLU by default, or tanh) and a sigmoid
 * (2 classes, one output) or softmax (k > 2 classes) output.
 *
 * Parameter layout, for layers i = 0 .. L−1 where layer L−1 is the output layer:
 * `layer{i}.weight` [out_i, in_i] row-major (row o holds the weights into unit o), then
 * `layer{i}.bias` [out_i]. With `hidden: [16, 8]`, d inputs and k > 2 classes the blocks are
 * layer0.weight [16, d], layer0.bias [16], layer1.weight [8, 16], layer1.bias [8],
 * layer2.weight [k, 8], layer2.bias [k]. FedPer's "personal layers" are the last ones, e.g.
 * `layer2.weight` and `layer2.bias` here (see {@link Mlp.outputBlocks}).
 *
 * Initialisation: weights of ReLU layers are He-normal, N(0, 2 / fan_in) (He et al., 2015); those
 * of tanh layers and of the output layer are Glorot-normal, N(0, 2 / (fan_in + fan_out)) (Glorot &
 * Bengio, 2010). Biases start at zero. The L2 penalty 0.5·l2·Σ‖weight‖² never applies to biases.
 *
 * Backpropagation is hand-written, one row at a time, into float64 buffers owned by the instance,
 * so neither a prediction nor a training step allocates.
 */
import { DataError, EduFedError } from '../core/errors.js';
import { sigmoid } from '../core/math.js';
import type { Rng } from '../core/rng.js';
import type { Model, ModelSpec, ParamBlock } from './model.js';
import { checkGradientArgs } from './check-args.js';

/** The `mlp` variant of {@link ModelSpec}. */
export type MlpSpec = Extract<ModelSpec, { kind: 'mlp' }>;

/** Fully connected network with hand-written backpropagation. */
export class Mlp implements Model {
  readonly spec: ModelSpec;
  readonly inputDim: number;
  readonly numClasses: number;
  readonly numParams: number;
  readonly layout: readonly ParamBlock[];
  /** Unit counts per layer boundary: [d, ...hidden, outputs]. */
  private readonly sizes: readonly number[];
  private readonly weightOffsets: readonly number[];
  private readonly biasOffsets: readonly number[];
  private readonly tanh: boolean;
  private readonly l2: number;
  /** acts[0] is the current input row; acts[i+1] the output of layer i (logits for the last layer). */
  private readonly acts: Float64Array[];
  /** deltas[i] = ∂loss/∂(pre-activation) of the units in acts[i], for i ≥ 1. */
  private readonly deltas: Float64Array[];
  private readonly gradAcc: Float64Array;

  /** Builds the network; arguments are assumed valid (use `createModel` for checked construction). */
  constructor(spec: MlpSpec, inputDim: number, numClasses: number) {
    this.spec = spec;
    this.inputDim = inputDim;
    this.numClasses = numClasses;
    this.tanh = spec.activation === 'tanh';
    this.l2 = spec.l2 ?? 0;
    this.sizes = [inputDim, ...spec.hidden, numClasses === 2 ? 1 : numClasses];
    const layout: ParamBlock[] = [];
    const wOffs: number[] = [];
    const bOffs: number[] = [];
    let offset = 0;
    for (let i = 0; i + 1 < this.sizes.length; i++) {
      const fanIn = this.sizes[i]!;
      const fanOut = this.sizes[i + 1]!;
      wOffs.push(offset);
      layout.push({ name: `layer${i}.weight`, offset, length: fanOut * fanIn, shape: [fanOut, fanIn] });
      offset += fanOut * fanIn;
      bOffs.push(offset);
      layout.push({ name: `layer${i}.bias`, offset, length: fanOut, shape: [fanOut] });
      offset += fanOut;
    }
    this.layout = layout;
    this.weightOffsets = wOffs;
    this.biasOffsets = bOffs;
    this.numParams = offset;
    this.acts = this.sizes.map((s) => new Float64Array(s));
    this.deltas = this.sizes.map((s) => new Float64Array(s));
    this.gradAcc = new Float64Array(offset);
  }

  /** Number of layers, the output layer included. */
  get numLayers(): number {
    return this.sizes.length - 1;
  }

  /** Names of the output layer's blocks (the usual FedPer personal layers). */
  get outputBlocks(): readonly string[] {
    const last = this.numLayers - 1;
    return [`layer${last}.weight`, `layer${last}.bias`];
  }

  /** He- or Glorot-normal weights and zero biases, drawn from `rng` layer by layer. */
  init(rng: Rng): Float32Array {
    const p = new Float32Array(this.numParams);
    const layers = this.numLayers;
    for (let l = 0; l < layers; l++) {
      const fanIn = this.sizes[l]!;
      const fanOut = this.sizes[l + 1]!;
      const glorot = this.tanh || l === layers - 1;
      const std = glorot ? Math.sqrt(2 / (fanIn + fanOut)) : Math.sqrt(2 / fanIn);
      const off = this.weightOffsets[l]!;
      for (let j = 0; j < fanIn * fanOut; j++) p[off + j] = rng.normal() * std;
    }
    return p;
  }

  /** @throws {EduFedError} code MODEL when `params`, `x` or `out` have the wrong length. */
  predict(params: Float32Array, x: Float32Array, n: number, out?: Float32Array): Float32Array {
    this.checkParams(params);
    const d = this.inputDim;
    if (!Number.isInteger(n) || n < 0 || x.length < n * d) {
      throw new EduFedError('MODEL', `predict: x has ${x.length} values, fewer than n × d = ${n} × ${d}`);
    }
    const k = this.sizes[this.sizes.length - 1]!;
    const result = out ?? new Float32Array(n * k);
    if (result.length !== n * k) {
      throw new EduFedError('MODEL', `predict: out has length ${result.length}, expected ${n * k}`);
    }
    const z = this.acts[this.acts.length - 1]!;
    for (let i = 0; i < n; i++) {
      this.forward(params, x, i * d);
      if (k === 1) {
        result[i] = sigmoid(z[0]!);
        continue;
      }
      let m = -Infinity;
      for (let c = 0; c < k; c++) if (z[c]! > m) m = z[c]!;
      let s = 0;
      for (let c = 0; c < k; c++) s += Math.exp(z[c]! - m);
      for (let c = 0; c < k; c++) result[i * k + c] = Math.exp(z[c]! - m) / s;
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
    const d = this.inputDim;
    const layers = this.numLayers;
    const k = this.sizes[layers]!;
    const z = this.acts[layers]!;
    const top = this.deltas[layers]!;
    const g = this.gradAcc;
    g.fill(0);
    const maxOff = x.length - d;
    let loss = 0;
    for (let i = start; i < end; i++) {
      const r = rows[i]!;
      const off = r * d;
      if (off > maxOff) throw new EduFedError('MODEL', `row index ${r} is outside x (${x.length} values of width ${d})`);
      const t = y[r]!;
      const classes = k === 1 ? 2 : k;
      if (!(Number.isInteger(t) && t >= 0 && t < classes)) {
        throw new DataError({ row: r + 1, column: 'label' }, `label ${t} is not a class index in [0, ${classes})`);
      }
      this.forward(params, x, off);
      if (k === 1) {
        const s = z[0]!;
        const e = Math.exp(-Math.abs(s));
        loss += (s > 0 ? s : 0) + Math.log1p(e) - t * s;
        top[0] = (s >= 0 ? 1 / (1 + e) : e / (1 + e)) - t;
      } else {
        let m = -Infinity;
        for (let c = 0; c < k; c++) if (z[c]! > m) m = z[c]!;
        let s = 0;
        for (let c = 0; c < k; c++) s += Math.exp(z[c]! - m);
        const lse = m + Math.log(s);
        loss += lse - z[t]!;
        for (let c = 0; c < k; c++) top[c] = Math.exp(z[c]! - lse) - (c === t ? 1 : 0);
      }
      this.backward(params);
    }
    const inv = 1 / (end - start);
    const l2 = this.l2;
    let penalty = 0;
    for (let l = 0; l < layers; l++) {
      const wOff = this.weightOffsets[l]!;
      const bOff = this.biasOffsets[l]!;
      for (let j = wOff; j < bOff; j++) {
        const w = params[j]!;
        grad[j] = g[j]! * inv + l2 * w;
        penalty += w * w;
      }
      const bEnd = bOff + this.sizes[l + 1]!;
      for (let j = bOff; j < bEnd; j++) grad[j] = g[j]! * inv;
    }
    return loss * inv + 0.5 * l2 * penalty;
  }

  /** Fills `acts` for the row of x starting at `off`; the last entry holds logits. */
  private forward(params: Float32Array, x: Float32Array, off: number): void {
    const a0 = this.acts[0]!;
    const d = this.inputDim;
    for (let j = 0; j < d; j++) a0[j] = x[off + j]!;
    const layers = this.numLayers;
    for (let l = 0; l < layers; l++) {
      const input = this.acts[l]!;
      const output = this.acts[l + 1]!;
      const fanIn = this.sizes[l]!;
      const fanOut = this.sizes[l + 1]!;
      const wOff = this.weightOffsets[l]!;
      const bOff = this.biasOffsets[l]!;
      const hidden = l < layers - 1;
      for (let o = 0; o < fanOut; o++) {
        const row = wOff + o * fanIn;
        let s = params[bOff + o]!;
        for (let j = 0; j < fanIn; j++) s += params[row + j]! * input[j]!;
        output[o] = hidden ? (this.tanh ? Math.tanh(s) : s > 0 ? s : 0) : s;
      }
    }
  }

  /** Adds this row's gradient to `gradAcc`, from `deltas[L]` (already set) down to layer 0. */
  private backward(params: Float32Array): void {
    const g = this.gradAcc;
    for (let l = this.numLayers - 1; l >= 0; l--) {
      const input = this.acts[l]!;
      const dOut = this.deltas[l + 1]!;
      const fanIn = this.sizes[l]!;
      const fanOut = this.sizes[l + 1]!;
      const wOff = this.weightOffsets[l]!;
      const bOff = this.biasOffsets[l]!;
      const dIn = l > 0 ? this.deltas[l]! : undefined;
      if (dIn !== undefined) dIn.fill(0);
      for (let o = 0; o < fanOut; o++) {
        const delta = dOut[o]!;
        // Inactive ReLU units have zero delta and add nothing; with ReLU that is often half the units.
        if (delta === 0) continue;
        const row = wOff + o * fanIn;
        g[bOff + o] = g[bOff + o]! + delta;
        for (let j = 0; j < fanIn; j++) g[row + j] = g[row + j]! + delta * input[j]!;
        if (dIn !== undefined) for (let j = 0; j < fanIn; j++) dIn[j] = dIn[j]! + delta * params[row + j]!;
      }
      if (dIn !== undefined) {
        // input holds this layer's activations a; ReLU' = [a > 0], tanh' = 1 − a².
        if (this.tanh) for (let j = 0; j < fanIn; j++) dIn[j] = dIn[j]! * (1 - input[j]! * input[j]!);
        else for (let j = 0; j < fanIn; j++) if (!(input[j]! > 0)) dIn[j] = 0;
      }
    }
  }

  private checkParams(params: Float32Array): void {
    if (params.length !== this.numParams) {
      throw new EduFedError('MODEL', `params has length ${params.length}, this MLP has ${this.numParams}`);
    }
  }
}
