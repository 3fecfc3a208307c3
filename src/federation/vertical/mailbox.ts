/**
 * A keyed mailbox: messages that arrive before anyone waits for them are kept, and a wait for a
 * key resolves with the first message put under it. A role's protocol loop thus reads as straight
 * code (`await take('partial-logits|train/3|17|A')`) whatever order the transport delivers in.
 */
import { EduFedError } from '../../core/errors.js';

/** Waits for keyed messages; {@link Mailbox.fail} rejects every current and later wait. */
export class Mailbox<M> {
  private readonly queued = new Map<string, M[]>();
  private readonly waiting = new Map<string, { resolve: (m: M) => void; reject: (e: unknown) => void }[]>();
  private failure: EduFedError | undefined;

  /** Delivers a message under `key`, to the oldest waiter or into the queue. */
  put(key: string, message: M): void {
    if (this.failure !== undefined) return;
    const waiters = this.waiting.get(key);
    const first = waiters?.shift();
    if (first !== undefined) {
      if (waiters !== undefined && waiters.length === 0) this.waiting.delete(key);
      first.resolve(message);
      return;
    }
    const list = this.queued.get(key);
    if (list === undefined) this.queued.set(key, [message]);
    else list.push(message);
  }

  /** The next message under `key`. @throws the error given to {@link Mailbox.fail}, if any. */
  take(key: string): Promise<M> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const list = this.queued.get(key);
    const first = list?.shift();
    if (first !== undefined) {
      if (list !== undefined && list.length === 0) this.queued.delete(key);
      return Promise.resolve(first);
    }
    return new Promise<M>((resolve, reject) => {
      const waiters = this.waiting.get(key);
      if (waiters === undefined) this.waiting.set(key, [{ resolve, reject }]);
      else waiters.push({ resolve, reject });
    });
  }

  /** Rejects every pending and future wait with `error` and drops queued messages. */
  fail(error: EduFedError): void {
    if (this.failure !== undefined) return;
    this.failure = error;
    this.queued.clear();
    for (const waiters of this.waiting.values()) for (const w of waiters) w.reject(error);
    this.waiting.clear();
  }

  /** Number of queued, unread messages (for tests and leak checks). */
  get size(): number {
    let n = 0;
    for (const list of this.queued.values()) n += list.length;
    return n;
  }
}
