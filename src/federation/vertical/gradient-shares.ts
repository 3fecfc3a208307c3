/**
 * The gradient X_kᵀd of a feature holder k, computed in additive shares over Z_2^64 so that k
 * learns only its gradient and the label holder C never sees X_k (SecureML, Mohassel & Zhang,
 * IEEE S&P 2017, with the dealer-given correlations of its client-aided variant).
 *
 * Once per job, the dealer gives k a random matrix R_k (as a PRG seed); k sends C the masked
 * E_k = enc(X_k) − R_k. Per batch B, the dealer gives C a random vector s and C the share
 * t_C = R_k[B]ᵀ s − t_k, and gives k the share t_k; C holds the residuals d (fixed point) and sends
 * k the masked d' = enc(d) − s together with its share. Then
 *
 *   k:  R_k[B]ᵀ d' + t_k     =  R_k[B]ᵀ enc(d) − R_k[B]ᵀ s + t_k
 *   C:  E_k[B]ᵀ enc(d) + t_C  =  enc(X_k)[B]ᵀ enc(d) − R_k[B]ᵀ enc(d) + R_k[B]ᵀ s − t_k
 *
 * and the two add up to enc(X_k)[B]ᵀ enc(d) exactly (mod 2^64), which decodes with 2f fractional
 * bits to X_kᵀd up to the fixed-point rounding of X_k and d.
 *
 * What each sees: C sees E_k and t_C, each uniform (one-time padded by R_k and t_k); k sees d',
 * uniform (padded by s), and C's share, which is its own gradient minus its own share; the dealer
 * sees seeds only. Collusion of the dealer with C reveals X_k; of the dealer with k reveals d.
 */
import type { RingMatrix } from './ring-kernel.js';
import { ringAdd, ringSub } from './ring.js';

/** Feature holder, setup: E = enc(X) − R (ring vectors of the same length). */
export function maskFeatureMatrix(encodedX: Uint32Array, r: Uint32Array): Uint32Array {
  return ringSub(encodedX, r);
}

/** Dealer, per batch: t_C = R[batch]ᵀ s − t_k. */
export function dealerShare(r: RingMatrix, batch: ArrayLike<number>, s: Uint32Array, tK: Uint32Array): Uint32Array {
  const u = r.gatherMulT(batch, s);
  return ringSub(u, tK, u);
}

/** Label holder, per batch: d' = enc(d) − s to send, and its share E[batch]ᵀ enc(d) + t_C. */
export function labelHolderShares(
  e: RingMatrix,
  batch: ArrayLike<number>,
  encodedResidual: Uint32Array,
  s: Uint32Array,
  tC: Uint32Array,
): { readonly maskedResidual: Uint32Array; readonly share: Uint32Array } {
  const share = e.gatherMulT(batch, encodedResidual);
  ringAdd(share, tC, share);
  return { maskedResidual: ringSub(encodedResidual, s), share };
}

/** Feature holder, per batch: R[batch]ᵀ d' + t_k + C's share = enc(X)[batch]ᵀ enc(d), its gradient sum (2f fraction bits). */
export function featureHolderGradient(
  r: RingMatrix,
  batch: ArrayLike<number>,
  maskedResidual: Uint32Array,
  tK: Uint32Array,
  labelHolderShare: Uint32Array,
): Uint32Array {
  const g = r.gatherMulT(batch, maskedResidual);
  ringAdd(g, tK, g);
  return ringAdd(g, labelHolderShare, g);
}
