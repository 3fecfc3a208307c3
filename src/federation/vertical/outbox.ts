/**
 * A party's outgoing messages, for transports where only the coordinator asks (EduFed's gRPC
 * links: participants answer requests, they never push). The party's `send` puts messages here;
 * the participant's handler for a long-poll request (say `vertical.pull`) answers with
 * {@link Outbox.next}, and the coordinator delivers incoming messages with ordinary requests.
 * Messages leave in the order the party sent them.
 */
import { EduFedError } from '../../core/errors.js';
import type { Send, VerticalMessage } from './protocol.js';

/** A FIFO of a party's outgoing messages with waiting readers. */
export class Outbox {
  private readonly queue: VerticalMessage[] = [];
  private readonly readers: { resolve: (m: VerticalMessage) => void; reject: (e: unknown) => void }[] = [];

  /** The `send` function to give the party's role object. */
  readonly send: Send = (message) => {
    const reader = this.readers.shift();
    if (reader !== undefined) reader.resolve(message);
    else this.queue.push(message);
  };

  /**
   * The oldest unread message, waiting for one if none is queued.
   * @throws {EduFedError} code PROTOCOL when `signal` aborts the wait (the request was cancelled).
   */
  next(signal?: AbortSignal): Promise<VerticalMessage> {
    const queued = this.queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise<VerticalMessage>((resolve, reject) => {
      const reader = {
        resolve: (m: VerticalMessage): void => {
          signal?.removeEventListener('abort', onAbort);
          resolve(m);
        },
        reject,
      };
      const onAbort = (): void => {
        const i = this.readers.indexOf(reader);
        if (i >= 0) this.readers.splice(i, 1);
        reject(new EduFedError('PROTOCOL', 'outbox read cancelled'));
      };
      if (signal?.aborted === true) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.readers.push(reader);
    });
  }

  /** Messages sent and not yet read. */
  get size(): number {
    return this.queue.length;
  }
}
