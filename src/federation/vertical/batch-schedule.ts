/**
 * The public mini-batch order of a vertical job. Every party (and the dealer) walks the same
 * batches because the order follows from the job's seed alone; it is exactly the order
 * `trainLocal` (`models/train.ts`) uses for the same seed, row count and batch size, which is what
 * makes vertical training comparable step for step with the centralized model.
 */
import { ConfigError } from '../../core/errors.js';
import { seededRng, shuffleInPlace, type Rng } from '../../core/rng.js';

/** Mini-batches over the training positions [0, n): one reshuffle of the running order per epoch. */
export class BatchSchedule {
  /** Training positions. */
  readonly n: number;
  /** Rows per batch (the last batch of an epoch may be smaller). */
  readonly batchSize: number;
  /** Batches per epoch. */
  readonly batches: number;
  private readonly order: Uint32Array;
  private readonly rng: Rng;
  private epochsDrawn = 0;

  /**
   * @param batchSize rows per batch; 0 = the whole training set (as in `trainLocal`).
   * @throws {ConfigError} for a non-positive row count, a negative or non-integer batch size, or a non-integer seed.
   */
  constructor(n: number, batchSize: number, seed: number) {
    if (!Number.isSafeInteger(n) || n < 1) throw new ConfigError('nTrain', `must be a positive integer, got ${String(n)}`);
    if (!Number.isSafeInteger(batchSize) || batchSize < 0) {
      throw new ConfigError('batchSize', `must be a non-negative integer (0 = full batch), got ${String(batchSize)}`);
    }
    if (!Number.isInteger(seed)) throw new ConfigError('seed', `must be an integer, got ${String(seed)}`);
    this.n = n;
    this.batchSize = batchSize === 0 ? n : Math.min(batchSize, n);
    this.batches = Math.ceil(n / this.batchSize);
    this.order = new Uint32Array(n);
    for (let i = 0; i < n; i++) this.order[i] = i;
    this.rng = seededRng(seed);
  }

  /** Number of epochs whose order has been drawn so far. */
  get epoch(): number {
    return this.epochsDrawn;
  }

  /** Draws the next epoch's order (positions, batch after batch); the returned view changes at the next call. */
  nextEpoch(): Uint32Array {
    shuffleInPlace(this.order, this.rng);
    this.epochsDrawn++;
    return this.order;
  }

  /** [start, end) of batch j within an epoch's order. */
  range(j: number): { readonly start: number; readonly end: number } {
    const start = j * this.batchSize;
    return { start, end: Math.min(start + this.batchSize, this.n) };
  }
}
