/**
 * Participant side of a link, shared by every transport: runs the handler for each request,
 * answers with the same correlation id, turns a handler failure into an error value, honours the
 * coordinator's cancel notices, and refuses a correlation id it has already seen.
 */
import { toErrorInfo } from '../core/errors.js';
import {
  CANCEL_KIND,
  COORDINATOR_ID,
  ERROR_KIND,
  RESERVED_KIND_PREFIX,
  type EnvelopeBody,
  type RequestHandler,
} from './channel.js';
import type { Envelope } from './envelope.js';
import type { TransportLogger } from './logger.js';

/** How many answered correlation ids are remembered to refuse replays. */
const REMEMBERED_IDS = 4096;

/** Answers the coordinator's requests on one connection. */
export class RequestResponder {
  private readonly running = new Map<string, AbortController>();
  private readonly answered = new Set<string>();
  private stopped = false;

  /**
   * @param send sends an envelope up the link; may throw a TransportError (e.g. too large).
   */
  constructor(
    private readonly participantId: string,
    private readonly handler: RequestHandler,
    private readonly send: (e: Envelope) => void,
    private readonly logger: TransportLogger,
  ) {}

  /** Handles one envelope from the coordinator: a request or a cancel notice. */
  handle(e: Envelope): void {
    if (this.stopped) return;
    if (e.kind === CANCEL_KIND) {
      this.running.get(e.correlationId)?.abort(new Error('cancelled by the coordinator'));
      return;
    }
    if (e.kind.startsWith(RESERVED_KIND_PREFIX)) {
      this.logger.warn('ignored unexpected transport message from the coordinator', { kind: e.kind });
      return;
    }
    if (e.correlationId.length === 0 || this.running.has(e.correlationId) || this.answered.has(e.correlationId)) {
      this.logger.warn('refused a request with an empty or already seen correlation id (replay?)', {
        kind: e.kind,
        correlationId: e.correlationId,
      });
      return;
    }
    const controller = new AbortController();
    this.running.set(e.correlationId, controller);
    void this.run(e, controller);
  }

  private async run(e: Envelope, controller: AbortController): Promise<void> {
    let answer: Envelope;
    try {
      const body = await this.handler(e, { signal: controller.signal });
      answer = this.wrap(e, body);
    } catch (err) {
      answer = this.errorAnswer(e, err);
    }
    this.running.delete(e.correlationId);
    this.remember(e.correlationId);
    if (controller.signal.aborted || this.stopped) return;
    try {
      this.send(answer);
    } catch (err) {
      // The answer itself could not be sent (too large, not encodable): tell the coordinator why.
      this.logger.error('could not send the answer; sending an error instead', {
        kind: answer.kind,
        error: err instanceof Error ? err.message : String(err),
      });
      try {
        this.send(this.errorAnswer(e, err));
      } catch {
        // The link is gone; the coordinator sees the disconnect.
      }
    }
  }

  private wrap(request: Envelope, body: EnvelopeBody): Envelope {
    if (typeof body !== 'object' || body === null) throw new TypeError('the handler returned no envelope body');
    if (typeof body.kind !== 'string' || body.kind.startsWith(RESERVED_KIND_PREFIX)) {
      throw new TypeError(`the handler returned the invalid kind ${JSON.stringify(body.kind)}`);
    }
    return {
      kind: body.kind,
      jobId: body.jobId,
      round: body.round,
      header: body.header,
      tensors: body.tensors,
      correlationId: request.correlationId,
      sender: this.participantId,
      receiver: COORDINATOR_ID,
    };
  }

  private errorAnswer(request: Envelope, err: unknown): Envelope {
    return {
      kind: ERROR_KIND,
      correlationId: request.correlationId,
      sender: this.participantId,
      receiver: COORDINATOR_ID,
      jobId: request.jobId,
      round: request.round,
      header: toErrorInfo(err),
      tensors: [],
    };
  }

  private remember(correlationId: string): void {
    this.answered.add(correlationId);
    if (this.answered.size > REMEMBERED_IDS) {
      const oldest = this.answered.values().next();
      if (oldest.done !== true) this.answered.delete(oldest.value);
    }
  }

  /** Aborts every running handler and drops their answers (the connection is gone). */
  stop(reason: string): void {
    this.stopped = true;
    for (const c of this.running.values()) c.abort(new Error(reason));
    this.running.clear();
  }
}
