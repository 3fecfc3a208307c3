/**
 * Adapts transport links to the horizontal workflow: the set of connected participants, each as a
 * {@link ParticipantCaller} that encodes the request, sends it, and validates the reply at the edge.
 */
import type { CoordinatorTransport, ParticipantLink } from '../transport/channel.js';
import { decodeReply, encodeRequest } from '../federation/horizontal/codec.js';
import type { ParticipantCaller, ParticipantCallers } from '../federation/horizontal/caller.js';
import { decodeCkksReply, encodeCkksRequest } from '../federation/ckks/index.js';
import { decodeReply as decodeSecAggReply, encodeRequest as encodeSecAggRequest } from '../federation/secagg/index.js';
import type { SecureCalls } from '../federation/secure-calls.js';
import { TransportError } from '../transport/errors.js';

/** One link as a caller for job `jobId`. */
export function linkCaller(link: ParticipantLink, jobId: string): ParticipantCaller {
  return async (req, options) => {
    const reply = await link.request(encodeRequest(jobId, req), {
      timeoutMs: options.timeoutMs,
      ...(options.signal !== undefined ? { signal: options.signal } : {}),
    });
    return decodeReply(reply, link.participantId);
  };
}

/** Tracks connected participants of a transport; `callers(jobId)` is the workflow's view of who is reachable now. */
export class ConnectedParticipants {
  private readonly links = new Map<string, ParticipantLink>();
  private readonly waiters: (() => void)[] = [];

  constructor(transport: CoordinatorTransport, private readonly admit: (participantId: string) => boolean = () => true) {
    transport.onConnect((link) => {
      if (!this.admit(link.participantId)) return;
      this.links.set(link.participantId, link);
      this.waiters.splice(0).forEach((w) => w());
    });
    transport.onDisconnect((id) => {
      const link = this.links.get(id);
      if (link !== undefined && !link.connected) this.links.delete(id);
    });
  }

  /** Ids connected now, sorted. */
  ids(): string[] {
    return [...this.links.values()].filter((l) => l.connected).map((l) => l.participantId).sort();
  }

  /** The connected participants as callers for a job. */
  callers(jobId: string): ParticipantCallers {
    const out = new Map<string, ParticipantCaller>();
    for (const link of this.links.values()) if (link.connected) out.set(link.participantId, linkCaller(link, jobId));
    return out;
  }

  /** The connected participants' secure-aggregation roles for a job, each reply validated at the edge. */
  secureCalls(jobId: string): SecureCalls {
    const linkOf = (id: string): ParticipantLink => {
      const link = this.links.get(id);
      if (link === undefined || !link.connected) throw new TransportError('disconnected', `participant "${id}" is not connected`);
      return link;
    };
    const options = (o: { readonly timeoutMs: number; readonly signal?: AbortSignal }): { timeoutMs: number; signal?: AbortSignal } => ({
      timeoutMs: o.timeoutMs,
      ...(o.signal !== undefined ? { signal: o.signal } : {}),
    });
    return {
      secAgg: async (id, req, o) => decodeSecAggReply(await linkOf(id).request(encodeSecAggRequest(jobId, req), options(o)), id),
      ckks: async (id, req, o) => decodeCkksReply(await linkOf(id).request(encodeCkksRequest(jobId, req), options(o)), id),
    };
  }

  /** Resolves once at least `n` participants are connected, or rejects after `timeoutMs`. */
  async waitFor(n: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.ids().length < n) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`only ${this.ids().length} of ${n} participants connected within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 1000));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }
}
