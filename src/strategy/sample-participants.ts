/**
 * Client selection of FedAvg (McMahan et al. 2017, "Communication-Efficient Learning of Deep
 * Networks from Decentralized Data", Algorithm 1): m = max(⌈C·K⌉, 1) of the K available
 * participants, uniformly without replacement.
 */
import type { Rng } from '../core/rng.js';

/**
 * m = min(K, max(⌈C·K⌉, minFit, 1)). A relative tolerance of 1e-9 absorbs binary rounding in C·K,
 * so that C = 0.07 with K = 100 selects 7 rather than ⌈7.000000000000001⌉ = 8.
 */
export function sampleSize(available: number, fraction: number, minFit: number): number {
  if (available <= 0) return 0;
  const product = fraction * available;
  const m = Math.ceil(product - 1e-9 * Math.max(1, product));
  return Math.min(available, Math.max(m, minFit, 1));
}

/**
 * m items chosen uniformly without replacement (a partial Fisher-Yates shuffle: m draws from `rng`),
 * in the order drawn. When m ≥ the number of items, returns them all in their given order and
 * draws nothing, so full participation does not disturb the generator.
 */
export function sampleWithoutReplacement<T>(items: readonly T[], m: number, rng: Rng): T[] {
  const pool = [...items];
  if (m >= pool.length) return pool;
  for (let i = 0; i < m; i++) {
    const j = i + rng.int(pool.length - i);
    const t = pool[i] as T;
    pool[i] = pool[j] as T;
    pool[j] = t;
  }
  pool.length = Math.max(0, m);
  return pool;
}
