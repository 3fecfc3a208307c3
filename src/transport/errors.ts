/**
 * The one error type the transport throws or rejects with. `reason` says what went wrong on the
 * link so the coordinator can drop a participant from a round (timeout, disconnect) without parsing
 * messages, and the stable `code` of {@link EduFedError} tells malformed data from a failing peer.
 */
import { EduFedError } from '../core/errors.js';

/**
 * Why a transport operation failed.
 * - `timeout`: no answer before the request's deadline.
 * - `disconnected`: the link went away while the request was pending (or before it was sent).
 * - `aborted`: the caller's AbortSignal fired.
 * - `remote`: the participant's handler failed and answered with an error value.
 * - `refused`: the peer's identity was refused (unknown, revoked, expired, claiming another id).
 * - `closed`: the transport was closed locally.
 * - `protocol`: malformed bytes, a bad frame sequence or an envelope that fails validation.
 * - `too-large`: an envelope above the configured maximum size.
 */
export type TransportFailure =
  | 'timeout'
  | 'disconnected'
  | 'aborted'
  | 'remote'
  | 'refused'
  | 'closed'
  | 'protocol'
  | 'too-large';

/** A transport failure; `participant` names the peer when one is known. */
export class TransportError extends EduFedError {
  readonly reason: TransportFailure;
  readonly participant: string | undefined;
  constructor(
    reason: TransportFailure,
    message: string,
    options: { participant?: string | undefined; cause?: unknown } = {},
  ) {
    const where = options.participant !== undefined ? `participant "${options.participant}": ` : '';
    super(reason === 'protocol' || reason === 'too-large' ? 'PROTOCOL' : 'PARTICIPANT', `${where}${message}`, {
      cause: options.cause,
    });
    this.name = 'TransportError';
    this.reason = reason;
    this.participant = options.participant;
  }
}
