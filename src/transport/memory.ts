/**
 * An in-process transport for simulations and tests: same interfaces and the same request,
 * timeout, cancel and disconnect semantics as the gRPC transport, without sockets. Delivery is
 * asynchronous (next macrotask), as on a network.
 *
 * By default tensors are copied on every hop, so a participant that trains in place never touches
 * the coordinator's arrays; `{ encode: true }` instead sends every envelope through
 * {@link encodeEnvelope}/{@link decodeEnvelope}, exercising the wire codec and the size cap.
 */
import { COORDINATOR_ID, type CoordinatorTransport, type ParticipantLink, type RequestHandler } from './channel.js';
import { messageRecord, type AuditSink } from './audit.js';
import { CoordinatorLink } from './coordinator-link.js';
import { decodeEnvelope, encodeEnvelope, type Envelope } from './envelope.js';
import { TransportError } from './errors.js';
import { DEFAULT_MAX_ENVELOPE_BYTES } from './frame.js';
import { LinkRegistry } from './link-registry.js';
import { silentLogger, type TransportLogger } from './logger.js';
import { RequestResponder } from './responder.js';

/** Options of {@link MemoryTransport}. */
export interface MemoryTransportOptions {
  /** Round-trip every envelope through the binary codec (default false). */
  readonly encode?: boolean;
  /** Largest encoded envelope accepted when encoding (default 256 MiB). */
  readonly maxEnvelopeBytes?: number;
  /** Coordinator-side record of every envelope; setting it implies `encode`, since records hash the wire bytes. */
  readonly audit?: AuditSink;
  readonly logger?: TransportLogger;
}

/** Options of one in-memory participant. */
export interface MemoryParticipantOptions {
  /** Participant-side record of every envelope; implies encoding for this participant's envelopes. */
  readonly audit?: AuditSink;
}

/** A participant connected to a {@link MemoryTransport}. */
export interface MemoryParticipant {
  readonly participantId: string;
  readonly connected: boolean;
  /** Drops the connection as a crash or network loss would: pending requests reject with `disconnected`. */
  disconnect(reason?: string): void;
}

function copyEnvelope(e: Envelope): Envelope {
  return { ...e, tensors: e.tensors.map((t) => ({ name: t.name, shape: [...t.shape], data: t.data.slice() })) };
}

/** In-memory {@link CoordinatorTransport} plus a way for participants to connect to it. */
export class MemoryTransport implements CoordinatorTransport {
  private readonly registry: LinkRegistry;
  private readonly maxEnvelopeBytes: number;
  private readonly logger: TransportLogger;
  private readonly responders = new Map<string, RequestResponder>();
  private closed = false;

  constructor(private readonly options: MemoryTransportOptions = {}) {
    this.logger = options.logger ?? silentLogger;
    this.registry = new LinkRegistry(this.logger);
    this.maxEnvelopeBytes = options.maxEnvelopeBytes ?? DEFAULT_MAX_ENVELOPE_BYTES;
  }

  onConnect(cb: (link: ParticipantLink) => void): void {
    this.registry.onConnect(cb);
  }

  onDisconnect(cb: (participantId: string, reason: string) => void): void {
    this.registry.onDisconnect(cb);
  }

  /** The links connected now. */
  connectedLinks(): ParticipantLink[] {
    return this.registry.all();
  }

  /**
   * Connects a participant answering with `handler`; a participant already connected under the same
   * id is disconnected first.
   * @throws TransportError (`closed`) after {@link close}; (`protocol`) for an empty id.
   */
  connect(participantId: string, handler: RequestHandler, options: MemoryParticipantOptions = {}): MemoryParticipant {
    if (this.closed) throw new TransportError('closed', 'the in-memory transport is closed', { participant: participantId });
    if (typeof participantId !== 'string' || participantId.length === 0 || participantId === COORDINATOR_ID) {
      throw new TransportError('protocol', `invalid participant id ${JSON.stringify(participantId)}`);
    }
    const coordinatorAudit = this.options.audit;
    const participantAudit = options.audit;
    const encode = this.options.encode === true || coordinatorAudit !== undefined || participantAudit !== undefined;
    const hop = (e: Envelope, down: boolean): Envelope => {
      if (!encode) return copyEnvelope(e);
      const bytes = encodeEnvelope(e);
      if (bytes.length > this.maxEnvelopeBytes) {
        throw new TransportError('too-large', `envelope "${e.kind}" is ${bytes.length} bytes, above the maximum of ${this.maxEnvelopeBytes}`, {
          participant: participantId,
        });
      }
      coordinatorAudit?.(messageRecord(down ? 'sent' : 'received', participantId, e, bytes));
      participantAudit?.(messageRecord(down ? 'received' : 'sent', COORDINATOR_ID, e, bytes));
      return decodeEnvelope(bytes);
    };

    let responder: RequestResponder | undefined;
    const link = new CoordinatorLink(participantId, (e) => {
      const delivered = hop(e, true);
      setImmediate(() => {
        if (link.connected) responder?.handle(delivered);
      });
    });
    responder = new RequestResponder(
      participantId,
      handler,
      (e) => {
        const delivered = hop(e, false);
        setImmediate(() => {
          if (link.connected && !link.deliver(delivered)) {
            this.logger.warn('dropped an answer no request is waiting for', { participant: participantId, kind: delivered.kind });
          }
        });
      },
      this.logger,
    );
    this.responders.get(participantId)?.stop('replaced by a newer connection');
    this.responders.set(participantId, responder);
    this.registry.add(link);
    const registry = this.registry;
    const stopResponder = (reason: string): void => responder?.stop(reason);
    return {
      participantId,
      get connected() {
        return link.connected;
      },
      disconnect(reason = 'disconnected by the participant') {
        stopResponder(reason);
        registry.remove(link, new TransportError('disconnected', reason, { participant: participantId }));
      },
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const r of this.responders.values()) r.stop('the coordinator transport was closed');
    this.responders.clear();
    for (const link of this.registry.all()) {
      this.registry.remove(link, new TransportError('closed', 'the coordinator transport was closed', { participant: link.participantId }));
    }
  }
}
