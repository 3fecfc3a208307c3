/**
 * Rows waiting to be written together: one transaction per batch instead of one commit per row,
 * for the coordinator's audit log and a participant's ledger. A batch is written when the queue is
 * full, when the delay since the first queued row has passed, or on demand (before reads, on close).
 */

/** Options of a {@link WriteQueue}. */
export interface WriteQueueOptions {
  /** Longest time a queued row waits, in ms; 0 writes every push at once. */
  readonly delayMs: number;
  /** Queue length that triggers a write without waiting for the delay. */
  readonly maxQueued: number;
  /** Receives errors of delayed writes (the rows stay queued and are retried on the next write). */
  readonly onError: (err: unknown) => void;
}

/** A queue of rows written in batches by `write`. Not safe to use after the underlying store closes: call {@link cancel} first. */
export class WriteQueue<T> {
  private rows: T[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly write: (rows: readonly T[]) => void,
    private readonly options: WriteQueueOptions,
  ) {}

  /** Rows waiting to be written. */
  get pending(): number {
    return this.rows.length;
  }

  /** Queues rows and writes them at once or schedules the write. @throws whatever `write` throws, for an immediate write */
  push(...rows: T[]): void {
    this.rows.push(...rows);
    if (this.options.delayMs === 0 || this.rows.length >= this.options.maxQueued) {
      this.flush();
      return;
    }
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      try {
        this.flush();
      } catch (err) {
        this.options.onError(err);
      }
    }, this.options.delayMs);
  }

  /** Writes the queued rows now; a failed write keeps them queued and throws. */
  flush(): void {
    this.cancel();
    if (this.rows.length === 0) return;
    this.write(this.rows);
    this.rows = [];
  }

  /** The queued rows, for a caller that writes them inside its own transaction and then calls {@link clear}. */
  peek(): readonly T[] {
    return this.rows;
  }

  /** Forgets the queued rows (after a caller's transaction wrote them). */
  clear(): void {
    this.rows = [];
  }

  /** Cancels a scheduled write. */
  cancel(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
