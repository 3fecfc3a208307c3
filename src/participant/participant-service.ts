/**
 * The participant process: loads the platform's data, serves the horizontal role over gRPC/TLS
 * (reconnecting with backoff after any disconnect, a coordinator restart included), and records
 * every message it sends or receives in its local ledger.
 */
import { connectParticipant, type ParticipantConnection, type ParticipantConnectionState } from '../transport/grpc-client.js';
import type { TransportLogger } from '../transport/logger.js';
import { readTlsMaterial } from '../transport/pki.js';
import type { RequestHandler } from '../transport/channel.js';
import type { ParticipantConfig } from './config.js';
import { loadDataSource } from './data-source.js';
import { horizontalHandler } from './horizontal-handler.js';
import { HorizontalParticipant } from './horizontal-participant.js';
import { ParticipantLedger } from './ledger.js';
import { SecureRoles } from './secure-roles.js';
import { VerticalRoles } from './vertical-roles.js';

/** A running participant. */
export interface ParticipantService {
  readonly connection: ParticipantConnection;
  readonly ledger: ParticipantLedger;
  readonly rows: number;
  close(): Promise<void>;
}

/** Loads data, opens the ledger and connects to the coordinator. */
export function startParticipant(
  config: ParticipantConfig,
  logger: TransportLogger,
  onState?: (s: ParticipantConnectionState) => void,
  /** Wraps the request handler (fault-injection tests use it to misbehave through the real stack). */
  wrapHandler: (h: RequestHandler) => RequestHandler = (h) => h,
): ParticipantService {
  const { raw, schema } = loadDataSource(config.data, config.filter);
  const ledger = new ParticipantLedger(config.ledger);
  const role = new HorizontalParticipant(config.id, raw, {
    seed: config.seed,
    ...(config.policy !== undefined ? { policy: config.policy } : {}),
    // The platform's own DP budget lives in its ledger, so it survives restarts.
    privacyRecord: { load: (jobId) => ledger.privacySpent(jobId), save: (r) => ledger.recordPrivacy(r) },
  });
  // Secure aggregation runs as a mod in front of the horizontal handler; its training goes through the same role.
  const secure = new SecureRoles(role).mod(horizontalHandler(role));
  // Vertical jobs (PSI, alignment, training) are answered by their own mod in front of the rest.
  const serve = new VerticalRoles(config.id, raw, schema, (jobId, header, decision) => ledger.recordJobConfig(jobId, header, decision)).mod(secure);
  const handler: RequestHandler = async (e, ctx) => {
    const reply = await serve(e, ctx);
    if (e.kind === 'horizontal.stats') {
      // The job as this platform saw it, and whether it took part.
      const refused = reply.kind === 'horizontal.error';
      const header = reply.header;
      const reason = refused && typeof header === 'object' && header !== null && 'message' in header ? String(header.message) : undefined;
      ledger.recordJobConfig(e.jobId, e.header, { accepted: !refused, ...(reason !== undefined ? { reason } : {}) });
    }
    return reply;
  };
  const tls = readTlsMaterial(config.tls);
  const connection = connectParticipant({
    address: config.coordinator,
    tls: { ...tls, ...(config.serverName !== undefined ? { serverName: config.serverName } : {}) },
    participantId: config.id,
    handler: wrapHandler(handler),
    logger,
    audit: (r) => ledger.record(r),
    ...(onState !== undefined ? { onState } : {}),
  });
  return {
    connection,
    ledger,
    rows: raw.rows.length,
    async close() {
      await connection.close();
      ledger.close();
    },
  };
}
