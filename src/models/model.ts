/**
 * The model contract. Parameters are one flat Float32Array; `layout` names its blocks so that
 * strategies (FedPer's personal layers) and privacy mods can address parts of it.
 */
import type { Rng } from '../core/rng.js';

/** A named, contiguous block of the flat parameter vector. */
export interface ParamBlock {
  readonly name: string;
  readonly offset: number;
  readonly length: number;
  readonly shape: readonly number[];
}

/** Serializable description of a model architecture; `createModel` builds it. */
export type ModelSpec =
  | { readonly kind: 'logistic'; readonly l2?: number }
  | {
      readonly kind: 'mlp';
      readonly hidden: readonly number[];
      readonly activation?: 'relu' | 'tanh';
      readonly l2?: number;
    };

/** A differentiable classifier over dense Float32 features. Pure: no state beyond its shape. */
export interface Model {
  readonly spec: ModelSpec;
  readonly inputDim: number;
  /** 2 means binary (one sigmoid output); k > 2 means softmax over k classes. */
  readonly numClasses: number;
  readonly numParams: number;
  readonly layout: readonly ParamBlock[];
  /** Fresh parameters, deterministic given the generator. */
  init(rng: Rng): Float32Array;
  /**
   * Class probabilities for n rows of x: binary → n values P(y = 1); k classes → n × k, row-major.
   * Writes into `out` when given (length must match).
   */
  predict(params: Float32Array, x: Float32Array, n: number, out?: Float32Array): Float32Array;
  /**
   * Mean loss (cross-entropy plus 0.5·l2·‖w‖², if l2 is set) over the rows `rows[start..end)`,
   * and its gradient, written (not added) into `grad`.
   */
  lossAndGrad(
    params: Float32Array,
    x: Float32Array,
    y: Float32Array,
    rows: Uint32Array,
    start: number,
    end: number,
    grad: Float32Array,
  ): number;
}
