/**
 * The plaintext pieces of logistic regression split by columns: each party's partial logits,
 * the label holder's residuals and loss, a party's gradient sum, and the SGD step. Each mirrors
 * `LogisticRegression` and `trainLocal` (`models/`) operation for operation (float64 sums,
 * float32 parameters, the step w ← w − η·(g/b + l2·w)), so the vertical model tracks the
 * centralized one to rounding.
 */

/** z_i = Σ_j w_j · x[i, j] for rows `positions[start..end)` of a row-major n × d matrix. */
export function partialLogits(x: Float32Array, d: number, w: Float32Array, positions: ArrayLike<number>, start: number, end: number): Float64Array {
  const z = new Float64Array(end - start);
  for (let i = start; i < end; i++) {
    const off = positions[i]! * d;
    let s = 0;
    for (let j = 0; j < d; j++) s += w[j]! * x[off + j]!;
    z[i - start] = s;
  }
  return z;
}

/** Σ_i r_i · x[positions[i], ·] for rows `positions[start..end)`: a party's gradient sum. */
export function gradientSum(x: Float32Array, d: number, positions: ArrayLike<number>, start: number, end: number, r: ArrayLike<number>): Float64Array {
  const g = new Float64Array(d);
  for (let i = start; i < end; i++) {
    const off = positions[i]! * d;
    const ri = r[i - start]!;
    for (let j = 0; j < d; j++) g[j] = g[j]! + ri * x[off + j]!;
  }
  return g;
}

/**
 * Residuals d_i = σ(z_i) − y_i and the summed log-loss, computed as `LogisticRegression` does
 * (softplus form, no overflow).
 */
export function residuals(z: Float64Array, y: ArrayLike<number>): { readonly residual: Float64Array; readonly lossSum: number } {
  const residual = new Float64Array(z.length);
  let lossSum = 0;
  for (let i = 0; i < z.length; i++) {
    const zi = z[i]!;
    const t = y[i]!;
    const e = Math.exp(-Math.abs(zi));
    lossSum += (zi > 0 ? zi : 0) + Math.log1p(e) - t * zi;
    const p = zi >= 0 ? 1 / (1 + e) : e / (1 + e);
    residual[i] = p - t;
  }
  return { residual, lossSum };
}

/**
 * One SGD step on float32 parameters from a gradient sum over `rows` rows:
 * w_j ← w_j − η·(g_j / rows + l2·w_j), rounding both the gradient and the result to float32, as
 * `trainLocal` does. `l2` applies to weights only; pass 0 for a bias.
 */
export function sgdStep(w: Float32Array, gSum: ArrayLike<number>, rows: number, learningRate: number, l2: number, offset = 0, count = gSum.length): void {
  const inv = 1 / rows;
  for (let j = 0; j < count; j++) {
    const wj = w[offset + j]!;
    const g = Math.fround(gSum[j]! * inv + l2 * wj);
    w[offset + j] = wj - learningRate * g;
  }
}

