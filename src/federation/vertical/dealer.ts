/**
 * The arbiter as dealer of correlated randomness for `secure-lr` (see `gradient-shares.ts`): a
 * mask matrix R_k per feature holder (given as a seed), and per epoch a seed of s for the label
 * holder, a seed of t_k for each feature holder, and the matching shares t_C = R_k[B]ᵀ s − t_k.
 * Its work per epoch is one ring product per batch and feature holder, the same as each party's.
 *
 * Trust: the dealer knows every R_k and s, so it must not collude with the parties, and must
 * never see E_k = X_k − R_k or d' = d − s; those travel sealed between the parties.
 */
import { randomBytes as nodeRandomBytes } from 'node:crypto';
import { ValidationError } from '../../core/errors.js';
import type { FeatureHolderMaterial, LabelHolderMaterial } from './protocol.js';
import type { BatchSchedule } from './batch-schedule.js';
import { RingMatrix } from './ring-kernel.js';
import { ringRandom, ringSlice, RING_WORDS } from './ring.js';
import { dealerShare } from './gradient-shares.js';

/** A source of fresh secret bytes (the OS CSPRNG by default; injectable for reproducible tests). */
export type RandomBytes = (n: number) => Uint8Array;

/** The default {@link RandomBytes}: `crypto.randomBytes`. */
export const secureRandomBytes: RandomBytes = (n) => new Uint8Array(nodeRandomBytes(n));

/** A feature holder's mask as the dealer knows it. */
interface DealtMask {
  readonly party: string;
  readonly seed: Uint8Array;
  readonly r: RingMatrix;
}

/** The dealer's state for one job. */
export class Dealer {
  private readonly seeds = new Map<string, Uint8Array>();
  private readonly masks: DealtMask[] = [];
  private readonly randomBytes: RandomBytes;
  private readonly nTrain: number;
  private readonly maxBatch: number;

  constructor(nTrain: number, maxBatch: number, randomBytes: RandomBytes = secureRandomBytes) {
    this.nTrain = nTrain;
    this.maxBatch = maxBatch;
    this.randomBytes = randomBytes;
  }

  /** Draws feature holder `party`'s mask seed, to be sent to that party only (before its width is known). */
  dealSeed(party: string): Uint8Array {
    const seed = this.randomBytes(32);
    this.seeds.set(party, seed);
    return seed.slice();
  }

  /**
   * Expands `party`'s mask R (nTrain × cols) once its feature count is known.
   * @throws {ValidationError} if no seed was dealt to `party` or `cols` is not a positive integer.
   */
  expandMask(party: string, cols: number): void {
    const seed = this.seeds.get(party);
    if (seed === undefined) throw new ValidationError(party, 'dealer: no mask seed was dealt to this party');
    if (!Number.isSafeInteger(cols) || cols < 1) throw new ValidationError(party, `dealer: feature count must be a positive integer, got ${String(cols)}`);
    const r = new RingMatrix(this.nTrain, cols, this.maxBatch);
    r.words.set(ringRandom(seed, this.nTrain * cols));
    this.masks.push({ party, seed, r });
  }

  /**
   * The material of one epoch, for the batches of `order` (the epoch's positions, drawn from the
   * shared schedule): the label holder's, and each feature holder's by id.
   */
  epochMaterial(schedule: BatchSchedule, order: Uint32Array): { readonly labelHolder: LabelHolderMaterial; readonly featureHolders: ReadonlyMap<string, FeatureHolderMaterial> } {
    const sSeed = this.randomBytes(32);
    const s = ringRandom(sSeed, this.nTrain);
    const featureHolders = new Map<string, FeatureHolderMaterial>();
    const shares = this.masks.map(({ party, r }) => {
      const tSeed = this.randomBytes(32);
      featureHolders.set(party, { role: 'feature-holder', tSeed });
      const t = ringRandom(tSeed, schedule.batches * r.cols);
      const tC = new Uint32Array(t.length);
      for (let j = 0; j < schedule.batches; j++) {
        const { start, end } = schedule.range(j);
        const tK = ringSlice(t, j * r.cols, (j + 1) * r.cols);
        tC.set(dealerShare(r, order.subarray(start, end), ringSlice(s, start, end), tK), j * r.cols * RING_WORDS);
      }
      return { party, tC };
    });
    return { labelHolder: { role: 'label-holder', sSeed, shares }, featureHolders };
  }

  /** Forgets every mask (end of job). */
  wipe(): void {
    for (const seed of this.seeds.values()) seed.fill(0);
    this.seeds.clear();
    for (const m of this.masks) m.r.wipe();
    this.masks.length = 0;
  }
}
