/**
 * The abstract channel between the coordinator and the participants. Federation code is written
 * against these interfaces only; the in-memory transport (simulation, tests) and the gRPC/TLS
 * transport (separate processes) both implement them.
 *
 * Direction: the coordinator asks, a participant answers. Participants dial out (they may sit
 * behind NAT), so a "request" travels down a connection the participant opened.
 */
import type { Envelope } from './envelope.js';

export type { Envelope, Tensor } from './envelope.js';

/** The sender/receiver name of the coordinator in every envelope. */
export const COORDINATOR_ID = 'coordinator';

/** Kinds starting with this prefix belong to the transport itself; workflows may not use them. */
export const RESERVED_KIND_PREFIX = 'edufed.transport.';
/** A participant's first message on a new connection. */
export const HELLO_KIND = 'edufed.transport.hello';
/** The coordinator's acceptance of a hello. */
export const WELCOME_KIND = 'edufed.transport.welcome';
/** A participant's answer when its handler failed; header is `{ code, message }`. */
export const ERROR_KIND = 'edufed.transport.error';
/** The coordinator no longer wants the answer to `correlationId` (timeout or abort). */
export const CANCEL_KIND = 'edufed.transport.cancel';

/** What a request or a response carries besides the fields the transport fills in. */
export type EnvelopeBody = Omit<Envelope, 'correlationId' | 'sender' | 'receiver'>;

/** Options of one request. */
export interface RequestOptions {
  /** Reject with a `timeout` TransportError when no answer came within this many milliseconds. */
  timeoutMs?: number;
  /** Reject with an `aborted` TransportError when this signal fires. */
  signal?: AbortSignal;
}

/** Coordinator's handle on one connected participant. */
export interface ParticipantLink {
  /** The participant's id, taken from its certificate (gRPC) or its registration (memory). */
  readonly participantId: string;
  /**
   * Sends a request and resolves with the participant's answer.
   * @throws TransportError: `timeout`, `aborted`, `disconnected` (the link dropped; every pending
   *   request of the link rejects at once), `remote` (the participant's handler failed), `too-large`
   *   or `protocol` (the request cannot be sent), `closed`.
   */
  request(e: EnvelopeBody, options?: RequestOptions): Promise<Envelope>;
  /** False once the link has dropped; a reconnecting participant gets a new link. */
  readonly connected: boolean;
}

/** Coordinator side of a transport. */
export interface CoordinatorTransport {
  /**
   * Called for each participant that connects (and is admitted). Registering a callback also calls
   * it at once for the links already connected. A participant that reconnects gets a new link;
   * its old one is disconnected first.
   */
  onConnect(cb: (link: ParticipantLink) => void): void;
  /** Called when a participant's link drops, with a human-readable reason. */
  onDisconnect(cb: (participantId: string, reason: string) => void): void;
  /** Disconnects every participant (their pending requests reject with `closed`) and stops listening. */
  close(): Promise<void>;
}

/** What a participant's handler is given besides the request. */
export interface RequestContext {
  /** Fires when the coordinator cancels the request or the connection drops. */
  readonly signal: AbortSignal;
}

/**
 * Participant side: a handler answering the coordinator's requests. A thrown error is sent back
 * as a value (kind {@link ERROR_KIND}) and rejects the coordinator's request with reason `remote`.
 */
export type RequestHandler = (e: Envelope, context: RequestContext) => Promise<EnvelopeBody>;
