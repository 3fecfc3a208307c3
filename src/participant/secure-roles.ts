/**
 * A participant's secure-aggregation roles (SecAgg+ and CKKS), bound to its horizontal role for
 * local training: the typed entry points the simulation calls directly, and the envelope-level mod
 * that deployment stacks in front of the horizontal handler (after Flower's client mods).
 */
import { CkksClient, CKKS_KIND_PREFIX, decodeCkksRequest, encodeCkksReply, type CkksReply, type CkksRequest } from '../federation/ckks/index.js';
import type { TrainRequest } from '../federation/horizontal/protocol.js';
import {
  decodeRequest as decodeSecAggRequest,
  encodeReply as encodeSecAggReply,
  isSecAggKind,
  SecAggPlusClient,
  type SecAggReply,
  type SecAggRequest,
} from '../federation/secagg/index.js';
import type { RequestHandler } from '../transport/channel.js';
import type { HorizontalParticipant } from './horizontal-participant.js';

/** The secure-aggregation roles of one participant. */
export class SecureRoles {
  private readonly secAggClient: SecAggPlusClient;
  private readonly ckksClient: CkksClient;

  constructor(private readonly role: HorizontalParticipant) {
    this.secAggClient = new SecAggPlusClient(role.id);
    this.ckksClient = new CkksClient(role.id);
  }

  /** Answers a SecAgg+ request; local training goes through the horizontal role. Never throws. */
  secAgg(jobId: string, req: SecAggRequest): Promise<SecAggReply> {
    return this.secAggClient.handle(jobId, req, (train: TrainRequest) => this.role.handle(jobId, train));
  }

  /** Answers a CKKS request; local training goes through the horizontal role. Never throws. */
  ckks(jobId: string, req: CkksRequest): Promise<CkksReply> {
    return this.ckksClient.handle(jobId, req, (train: TrainRequest) => this.role.handle(jobId, train));
  }

  /** The mod: SecAgg+ and CKKS requests are answered here, everything else goes to `next`. */
  mod(next: RequestHandler): RequestHandler {
    return async (e, ctx) => {
      if (isSecAggKind(e.kind)) return encodeSecAggReply(e.jobId, e.round, await this.secAgg(e.jobId, decodeSecAggRequest(e)));
      if (e.kind.startsWith(CKKS_KIND_PREFIX)) return encodeCkksReply(e.jobId, e.round, await this.ckks(e.jobId, decodeCkksRequest(e)));
      return next(e, ctx);
    };
  }
}
