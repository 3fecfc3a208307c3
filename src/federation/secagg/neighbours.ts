/**
 * The SecAgg+ communication graph (Bell et al., "Secure single-server aggregation with (poly)
 * logarithmic overhead", CCS 2020): each participant shares keys and masks only with its k
 * neighbours instead of with everyone, so its cost grows with k, not with the number of participants.
 *
 * The graph is a Harary graph H_{k,n} (a ring where each node links to its ⌊k/2⌋ nearest nodes on
 * each side, plus the diametrically opposite node when k is odd) over the participants in a
 * pseudo-random order. The order comes from a seeded {@link Rng} applied to the sorted ids, so the
 * same seed and the same set of ids give the same graph in any process (a resumed job agrees with
 * the interrupted one), while the coordinator cannot be steered by the order ids arrive in.
 */
import { ConfigError } from '../../core/errors.js';
import { shuffleInPlace, type Rng } from '../../core/rng.js';

/** A k-regular neighbourhood graph: `neighbours.get(id)` lists id's neighbours (sorted, without id). */
export interface NeighbourGraph {
  /** The degree every node has: min(k, n − 1), raised by one when k·n would be odd. */
  readonly degree: number;
  readonly neighbours: ReadonlyMap<string, readonly string[]>;
}

/**
 * A `k`-regular Harary-style ring over `ids`, shuffled by `rng`; `k ≥ n − 1` gives the complete
 * graph. No k-regular graph exists when k and n are both odd; the degree is then k + 1.
 * @throws ConfigError for duplicate or empty ids, or k not a non-negative integer.
 */
export function neighbourGraph(ids: readonly string[], k: number, rng: Rng): NeighbourGraph {
  if (!Number.isInteger(k) || k < 0) throw new ConfigError('k', `must be a non-negative integer, got ${k}`);
  const sorted = [...ids].sort();
  for (let i = 0; i < sorted.length; i++) {
    if (typeof sorted[i] !== 'string' || sorted[i] === '') throw new ConfigError('ids', 'participant ids must be non-empty strings');
    if (i > 0 && sorted[i] === sorted[i - 1]) throw new ConfigError('ids', `participant "${sorted[i]}" appears twice`);
  }
  const n = sorted.length;
  let degree = Math.min(k, Math.max(0, n - 1));
  // Handshake lemma: Σ degrees = degree · n must be even.
  if (degree % 2 === 1 && n % 2 === 1) degree += 1;
  const ring = shuffleInPlace(sorted.slice(), rng);
  const sets = new Map<string, Set<string>>(ring.map((id) => [id, new Set<string>()]));
  const link = (a: number, b: number): void => {
    const x = ring[((a % n) + n) % n] as string;
    const y = ring[((b % n) + n) % n] as string;
    if (x === y) return;
    sets.get(x)?.add(y);
    sets.get(y)?.add(x);
  };
  const half = Math.floor(degree / 2);
  for (let i = 0; i < n; i++) {
    for (let j = 1; j <= half; j++) link(i, i + j);
    if (degree % 2 === 1) link(i, i + n / 2);
  }
  const neighbours = new Map<string, readonly string[]>();
  for (const id of sorted) neighbours.set(id, [...(sets.get(id) ?? [])].sort());
  return { degree, neighbours };
}
