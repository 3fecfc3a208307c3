/**
 * Small numeric kernels on typed arrays. Sums are accumulated in float64 (JavaScript numbers)
 * even when the arrays hold float32, so long reductions do not lose precision; the scalar
 * functions are written to stay finite for any finite input (no `exp` overflow).
 */

/** A dense vector of either precision. */
export type Vector = Float32Array | Float64Array;

/**
 * Dot product of `a[aOffset .. aOffset+n)` and `b[bOffset .. bOffset+n)`, accumulated in float64.
 * @throws {RangeError} if either range runs past the end of its array.
 */
export function dot(a: Vector, b: Vector, n: number = a.length, aOffset = 0, bOffset = 0): number {
  checkRange('a', a, aOffset, n);
  checkRange('b', b, bOffset, n);
  let s = 0;
  for (let i = 0; i < n; i++) s += a[aOffset + i]! * b[bOffset + i]!;
  return s;
}

/**
 * BLAS axpy: `y[yOffset+i] += alpha · x[xOffset+i]` for i < n, in place.
 * @throws {RangeError} if either range runs past the end of its array.
 */
export function axpy(alpha: number, x: Vector, y: Vector, n: number = x.length, xOffset = 0, yOffset = 0): void {
  checkRange('x', x, xOffset, n);
  checkRange('y', y, yOffset, n);
  for (let i = 0; i < n; i++) y[yOffset + i] = y[yOffset + i]! + alpha * x[xOffset + i]!;
}

/** Multiplies every element of `x` by `alpha`, in place. */
export function scale(x: Vector, alpha: number): void {
  for (let i = 0; i < x.length; i++) x[i] = x[i]! * alpha;
}

/** Euclidean norm ‖x‖₂, accumulated in float64. */
export function l2norm(x: Vector): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    s += v * v;
  }
  return Math.sqrt(s);
}

/** Logistic function 1 / (1 + e^(−z)); evaluates `exp` only of a non-positive number, so it never overflows. */
export function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

/** softplus(z) = ln(1 + e^z), computed as max(z, 0) + log1p(e^(−|z|)) so that large |z| neither overflows nor loses precision. */
export function softplus(z: number): number {
  return (z > 0 ? z : 0) + Math.log1p(Math.exp(-Math.abs(z)));
}

/** ln σ(z) = −softplus(−z); finite for every finite z. */
export function logSigmoid(z: number): number {
  return -softplus(-z);
}

/**
 * ln Σ exp(x[offset+i]) for i < n, shifted by the maximum so no term overflows.
 * Returns −∞ for an empty range or when every term is −∞.
 * @throws {RangeError} if the range runs past the end of `x`.
 */
export function logsumexp(x: Vector, n: number = x.length, offset = 0): number {
  checkRange('x', x, offset, n);
  let m = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = x[offset + i]!;
    if (v > m) m = v;
  }
  if (m === -Infinity) return -Infinity;
  if (m === Infinity) return Infinity;
  let s = 0;
  for (let i = 0; i < n; i++) s += Math.exp(x[offset + i]! - m);
  return m + Math.log(s);
}

/**
 * Replaces `x[offset .. offset+n)` by its softmax, shifting by the maximum for stability.
 * @throws {RangeError} if the range runs past the end of `x`.
 */
export function softmaxInPlace(x: Vector, n: number = x.length, offset = 0): void {
  checkRange('x', x, offset, n);
  let m = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = x[offset + i]!;
    if (v > m) m = v;
  }
  let s = 0;
  for (let i = 0; i < n; i++) {
    const e = Math.exp(x[offset + i]! - m);
    x[offset + i] = e;
    s += e;
  }
  const inv = 1 / s;
  for (let i = 0; i < n; i++) x[offset + i] = x[offset + i]! * inv;
}

function checkRange(name: string, v: Vector, offset: number, n: number): void {
  if (!Number.isInteger(offset) || !Number.isInteger(n) || offset < 0 || n < 0 || offset + n > v.length) {
    throw new RangeError(`${name}: range [${offset}, ${offset + n}) is outside an array of length ${v.length}`);
  }
}
