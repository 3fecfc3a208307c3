/**
 * The request/response bookkeeping of one coordinator-to-participant link, shared by every
 * transport: correlation ids, per-request deadlines and abort signals, cancel notices, and the
 * rule that a dropped link rejects all of its pending requests at once.
 */
import { randomUUID } from 'node:crypto';
import { isRecord } from '../core/validate.js';
import {
  CANCEL_KIND,
  COORDINATOR_ID,
  ERROR_KIND,
  RESERVED_KIND_PREFIX,
  type EnvelopeBody,
  type ParticipantLink,
  type RequestOptions,
} from './channel.js';
import type { Envelope } from './envelope.js';
import { TransportError } from './errors.js';

interface Pending {
  readonly resolve: (e: Envelope) => void;
  readonly reject: (err: TransportError) => void;
  readonly cleanup: () => void;
}

/** Sends one envelope down the link; throws a TransportError when it cannot be sent. */
export type SendEnvelope = (e: Envelope) => void;

/** A {@link ParticipantLink} over any way of sending envelopes; the transport feeds it the answers. */
export class CoordinatorLink implements ParticipantLink {
  private readonly pending = new Map<string, Pending>();
  private dropped: TransportError | undefined;

  constructor(
    readonly participantId: string,
    private readonly send: SendEnvelope,
  ) {}

  get connected(): boolean {
    return this.dropped === undefined;
  }

  /** Number of requests awaiting an answer. */
  get pendingCount(): number {
    return this.pending.size;
  }

  request(body: EnvelopeBody, options: RequestOptions = {}): Promise<Envelope> {
    const pid = this.participantId;
    if (this.dropped !== undefined) return Promise.reject(this.dropped);
    if (typeof body !== 'object' || body === null) {
      return Promise.reject(new TransportError('protocol', 'request: expected an envelope body', { participant: pid }));
    }
    if (typeof body.kind === 'string' && body.kind.startsWith(RESERVED_KIND_PREFIX)) {
      return Promise.reject(
        new TransportError('protocol', `request: kind "${body.kind}" is reserved for the transport`, { participant: pid }),
      );
    }
    const { timeoutMs, signal } = options;
    if (timeoutMs !== undefined && !(typeof timeoutMs === 'number' && timeoutMs > 0)) {
      return Promise.reject(new TransportError('protocol', `request: timeoutMs ${String(timeoutMs)} must be a positive number`, { participant: pid }));
    }
    if (signal?.aborted === true) {
      return Promise.reject(new TransportError('aborted', `request "${body.kind}" aborted before it was sent`, { participant: pid }));
    }
    const correlationId = randomUUID();
    const envelope: Envelope = {
      kind: body.kind,
      jobId: body.jobId,
      round: body.round,
      header: body.header,
      tensors: body.tensors,
      correlationId,
      sender: COORDINATOR_ID,
      receiver: pid,
    };
    return new Promise<Envelope>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const onAbort = (): void => {
        this.settle(correlationId)?.reject(new TransportError('aborted', `request "${body.kind}" aborted`, { participant: pid }));
        this.sendCancel(correlationId);
      };
      const cleanup = (): void => {
        if (timer !== undefined) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      this.pending.set(correlationId, { resolve, reject, cleanup });
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          this.settle(correlationId)?.reject(
            new TransportError('timeout', `no answer to "${body.kind}" within ${timeoutMs} ms`, { participant: pid }),
          );
          this.sendCancel(correlationId);
        }, timeoutMs);
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        this.send(envelope);
      } catch (err) {
        const failure =
          err instanceof TransportError
            ? err
            : new TransportError('protocol', `request "${body.kind}" could not be sent`, { participant: pid, cause: err });
        this.settle(correlationId)?.reject(failure);
      }
    });
  }

  /**
   * Hands the link an answer from the participant.
   * @returns false when no request is waiting for it (late after a timeout, duplicated or replayed).
   */
  deliver(e: Envelope): boolean {
    const p = this.settle(e.correlationId);
    if (p === undefined) return false;
    if (e.kind === ERROR_KIND) {
      const h = e.header;
      const code = isRecord(h) && typeof h['code'] === 'string' ? h['code'] : 'INTERNAL';
      const message = isRecord(h) && typeof h['message'] === 'string' ? h['message'] : 'no message';
      p.reject(new TransportError('remote', `handler failed: [${code}] ${message}`, { participant: this.participantId }));
    } else {
      p.resolve(e);
    }
    return true;
  }

  /** Marks the link dropped and rejects every pending request with `error`. Idempotent. */
  disconnect(error: TransportError): void {
    if (this.dropped !== undefined) return;
    this.dropped = error;
    for (const id of [...this.pending.keys()]) this.settle(id)?.reject(error);
  }

  private settle(correlationId: string): Pending | undefined {
    const p = this.pending.get(correlationId);
    if (p === undefined) return undefined;
    this.pending.delete(correlationId);
    p.cleanup();
    return p;
  }

  private sendCancel(correlationId: string): void {
    if (this.dropped !== undefined) return;
    try {
      this.send({
        kind: CANCEL_KIND,
        correlationId,
        sender: COORDINATOR_ID,
        receiver: this.participantId,
        jobId: '',
        round: 0,
        header: null,
        tensors: [],
      });
    } catch {
      // Best effort: the participant only loses the chance to stop work nobody waits for.
    }
  }
}
