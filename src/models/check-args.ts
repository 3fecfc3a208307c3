/**
 * Argument checks shared by every model's `lossAndGrad`.
 */
import { EduFedError } from '../core/errors.js';

/** Checks the gradient buffer's length and that `rows[start..end)` is a non-empty range. @throws EduFedError code MODEL */
export function checkGradientArgs(numParams: number, grad: Float32Array, rows: Uint32Array, start: number, end: number): void {
  if (grad.length !== numParams) {
    throw new EduFedError('MODEL', `lossAndGrad: grad has length ${grad.length}, expected ${numParams}`);
  }
  if (!(Number.isInteger(start) && Number.isInteger(end) && start >= 0 && end > start && end <= rows.length)) {
    throw new EduFedError('MODEL', `lossAndGrad: row range [${start}, ${end}) is empty or outside rows (${rows.length})`);
  }
}
