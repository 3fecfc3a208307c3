/**
 * How the coordinator reaches one participant in a horizontal job, whatever the transport: a
 * function from a request to the reply. Transports adapt to this (in-memory: a direct call to the
 * role object; gRPC: envelope encoding plus validation at the edge).
 */
import type { HorizontalReply, HorizontalRequest } from './protocol.js';

/** Sends one request to one participant and resolves with its validated reply. Rejects on timeout or disconnect. */
export type ParticipantCaller = (
  req: HorizontalRequest,
  options: { readonly timeoutMs: number; readonly round: number; readonly signal?: AbortSignal },
) => Promise<HorizontalReply>;

/** The participants of a job, by id. */
export type ParticipantCallers = ReadonlyMap<string, ParticipantCaller>;

/**
 * Bounds work that cannot cancel itself (an in-process call): rejects when `signal` fires or when
 * `timeoutMs` passes, whatever the work is doing.
 */
export function abortable<T>(work: Promise<T>, signal: AbortSignal | undefined, timeoutMs?: number): Promise<T> {
  if (signal?.aborted === true) return Promise.reject(new Error('cancelled'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => finish(() => reject(new Error('cancelled')));
    const timer = timeoutMs !== undefined ? setTimeout(() => finish(() => reject(new Error(`no reply within ${timeoutMs} ms`))), timeoutMs) : undefined;
    let done = false;
    function finish(f: () => void): void {
      if (done) return;
      done = true;
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      f();
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => finish(() => resolve(v)),
      (e: unknown) => finish(() => reject(e instanceof Error ? e : new Error(String(e)))),
    );
  });
}
