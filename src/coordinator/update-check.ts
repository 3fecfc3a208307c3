/**
 * Screening of model updates before aggregation: a malformed, non-finite, wrong-shape or absurd-norm
 * update never reaches the strategy. Pure.
 */

/** Why an update was refused, or null if it is acceptable. */
export function checkUpdate(params: Float32Array, expectedLength: number, maxNorm: number): string | null {
  if (params.length !== expectedLength) return `wrong shape: ${params.length} parameters, expected ${expectedLength}`;
  let sq = 0;
  for (let i = 0; i < params.length; i++) {
    const v = params[i] as number;
    if (!Number.isFinite(v)) return `non-finite value ${v} at index ${i}`;
    sq += v * v;
  }
  const norm = Math.sqrt(sq);
  if (norm > maxNorm) return `absurd L2 norm ${norm.toExponential(3)} (limit ${maxNorm.toExponential(3)})`;
  return null;
}
