/**
 * A small fully connected network trained from an outside gradient: the bottom and top models of
 * a split neural network (Vepakomma et al., "Split learning for health", 2018). Unlike
 * `models/mlp.ts`, which owns its loss, this network's `backward` takes ∂loss/∂output from
 * whoever holds the rest of the model and can return ∂loss/∂input to pass further down.
 *
 * Hidden layers use ReLU; the output layer is linear. Weights are He-normal for ReLU layers and
 * Glorot-normal for the output layer, biases zero; the update is plain SGD.
 */
import { ConfigError } from '../../core/errors.js';
import type { Rng } from '../../core/rng.js';

/** Fully connected ReLU layers and a linear output, over row-major batches. */
export class DenseNet {
  /** Unit counts per layer boundary: [input, ...hidden, output]. */
  readonly sizes: readonly number[];
  /** Weights of layer l, [out_l, in_l] row-major, then its biases. */
  private readonly weights: Float64Array[];
  private readonly biases: Float64Array[];
  /** Activations of the last forward batch: acts[0] the input, acts[l + 1] the output of layer l. */
  private acts: Float64Array[] = [];
  private rows = 0;

  /**
   * @throws {ConfigError} for a layer width that is not a positive integer.
   */
  constructor(sizes: readonly number[], rng: Rng) {
    sizes.forEach((s, i) => {
      if (!Number.isSafeInteger(s) || s < 1) throw new ConfigError(`layer width ${i}`, `must be a positive integer, got ${String(s)}`);
    });
    if (sizes.length < 2) throw new ConfigError('sizes', 'a network needs an input and an output width');
    this.sizes = [...sizes];
    const layers = sizes.length - 1;
    this.weights = [];
    this.biases = [];
    for (let l = 0; l < layers; l++) {
      const fanIn = sizes[l]!;
      const fanOut = sizes[l + 1]!;
      const std = l === layers - 1 ? Math.sqrt(2 / (fanIn + fanOut)) : Math.sqrt(2 / fanIn);
      const w = new Float64Array(fanIn * fanOut);
      for (let j = 0; j < w.length; j++) w[j] = rng.normal() * std;
      this.weights.push(w);
      this.biases.push(new Float64Array(fanOut));
    }
  }

  /** Input width. */
  get inputDim(): number {
    return this.sizes[0]!;
  }

  /** Output width. */
  get outputDim(): number {
    return this.sizes[this.sizes.length - 1]!;
  }

  /** Number of parameters. */
  get numParams(): number {
    let n = 0;
    for (let l = 0; l < this.weights.length; l++) n += this.weights[l]!.length + this.biases[l]!.length;
    return n;
  }

  /** Outputs (rows × outputDim, row-major) of `rows` input rows; remembers the activations for {@link backward}. */
  forward(x: ArrayLike<number>, rows: number): Float64Array {
    const layers = this.weights.length;
    const input = Float64Array.from({ length: rows * this.inputDim }, (_, i) => x[i]!);
    const acts: Float64Array[] = [input];
    for (let l = 0; l < layers; l++) {
      const fanIn = this.sizes[l]!;
      const fanOut = this.sizes[l + 1]!;
      const w = this.weights[l]!;
      const b = this.biases[l]!;
      const a = acts[l]!;
      const out = new Float64Array(rows * fanOut);
      const hidden = l < layers - 1;
      for (let i = 0; i < rows; i++) {
        for (let o = 0; o < fanOut; o++) {
          let s = b[o]!;
          const wo = o * fanIn;
          const ai = i * fanIn;
          for (let j = 0; j < fanIn; j++) s += w[wo + j]! * a[ai + j]!;
          out[i * fanOut + o] = hidden && s < 0 ? 0 : s;
        }
      }
      acts.push(out);
    }
    this.acts = acts;
    this.rows = rows;
    return acts[layers]!;
  }

  /**
   * Back-propagates ∂loss/∂output of the last forward batch, takes one SGD step with learning rate
   * `lr`, and returns ∂loss/∂input (computed with the weights before the step).
   * @throws {ConfigError} if `dOut` does not match the last forward batch.
   */
  backward(dOut: Float64Array, lr: number): Float64Array {
    const rows = this.rows;
    const layers = this.weights.length;
    if (dOut.length !== rows * this.outputDim) {
      throw new ConfigError('dOut', `has ${dOut.length} values, the last forward batch needs ${rows} × ${this.outputDim}`);
    }
    let delta = dOut;
    for (let l = layers - 1; l >= 0; l--) {
      const fanIn = this.sizes[l]!;
      const fanOut = this.sizes[l + 1]!;
      const w = this.weights[l]!;
      const b = this.biases[l]!;
      const a = this.acts[l]!;
      const dIn = new Float64Array(rows * fanIn);
      const gw = new Float64Array(w.length);
      const gb = new Float64Array(fanOut);
      for (let i = 0; i < rows; i++) {
        for (let o = 0; o < fanOut; o++) {
          const g = delta[i * fanOut + o]!;
          if (g === 0) continue;
          gb[o] = gb[o]! + g;
          const wo = o * fanIn;
          const ai = i * fanIn;
          for (let j = 0; j < fanIn; j++) {
            gw[wo + j] = gw[wo + j]! + g * a[ai + j]!;
            dIn[ai + j] = dIn[ai + j]! + g * w[wo + j]!;
          }
        }
      }
      if (l > 0) for (let j = 0; j < dIn.length; j++) if (!(a[j]! > 0)) dIn[j] = 0;
      for (let j = 0; j < w.length; j++) w[j] = w[j]! - lr * gw[j]!;
      for (let o = 0; o < fanOut; o++) b[o] = b[o]! - lr * gb[o]!;
      delta = dIn;
    }
    return delta;
  }
}
