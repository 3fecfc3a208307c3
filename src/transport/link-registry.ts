/**
 * The coordinator's table of connected participants, shared by every transport: one current link
 * per participant id, connect/disconnect callbacks (a late `onConnect` subscriber is told about
 * the links already up), and replacement of a link when its participant reconnects.
 */
import type { ParticipantLink } from './channel.js';
import type { CoordinatorLink } from './coordinator-link.js';
import { TransportError } from './errors.js';
import type { TransportLogger } from './logger.js';

/** Connected links by participant id, with the callbacks of {@link CoordinatorTransport}. */
export class LinkRegistry {
  private readonly links = new Map<string, CoordinatorLink>();
  private readonly connectCbs: ((link: ParticipantLink) => void)[] = [];
  private readonly disconnectCbs: ((participantId: string, reason: string) => void)[] = [];

  constructor(private readonly logger: TransportLogger) {}

  /** Subscribes to new links; calls `cb` at once for the links already connected. */
  onConnect(cb: (link: ParticipantLink) => void): void {
    this.connectCbs.push(cb);
    for (const link of this.links.values()) this.call(() => cb(link));
  }

  /** Subscribes to dropped links. */
  onDisconnect(cb: (participantId: string, reason: string) => void): void {
    this.disconnectCbs.push(cb);
  }

  /** Registers a new link; a previous link of the same participant is dropped first. */
  add(link: CoordinatorLink): void {
    const old = this.links.get(link.participantId);
    if (old !== undefined) {
      this.remove(old, new TransportError('disconnected', 'replaced by a newer connection', { participant: link.participantId }));
    }
    this.links.set(link.participantId, link);
    for (const cb of this.connectCbs) this.call(() => cb(link));
  }

  /**
   * Drops a link: its pending requests reject with `error`, and the disconnect callbacks run if it
   * was the participant's current link. Idempotent.
   */
  remove(link: CoordinatorLink, error: TransportError): void {
    if (!link.connected) return;
    link.disconnect(error);
    if (this.links.get(link.participantId) !== link) return;
    this.links.delete(link.participantId);
    for (const cb of this.disconnectCbs) this.call(() => cb(link.participantId, error.message));
  }

  /** The link currently connected for a participant, if any. */
  get(participantId: string): CoordinatorLink | undefined {
    return this.links.get(participantId);
  }

  /** All connected links. */
  all(): CoordinatorLink[] {
    return [...this.links.values()];
  }

  private call(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.logger.error('a transport callback threw', { error: err instanceof Error ? err.message : String(err) });
    }
  }
}
