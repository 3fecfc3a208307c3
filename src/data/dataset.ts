/**
 * An encoded dataset: the dense matrix a model trains on. Rows are examples, row-major.
 */
export interface Dataset {
  /** n × d features, row-major. */
  readonly x: Float32Array;
  /** n labels: 0/1 for binary, the class index for multi-class. */
  readonly y: Float32Array;
  readonly n: number;
  readonly d: number;
  /** 2 for binary tasks. */
  readonly numClasses: number;
}
