/**
 * The coordinator process: the gRPC/TLS transport, the SQLite store, the HTTP API and the job runner
 * put together. Every completed round is checkpointed in one transaction before the next starts, so
 * a coordinator killed at any moment resumes from its last completed round with the identical model.
 */
import { EduFedError, toErrorInfo } from '../core/errors.js';
import type { MessageRecord } from '../transport/audit.js';
import { startCoordinatorServer, type GrpcCoordinatorTransport } from '../transport/grpc-server.js';
import { readTlsMaterial } from '../transport/pki.js';
import type { TransportLogger } from '../transport/logger.js';
import { isVerticalJob, type CoordinatorConfig } from './config.js';
import { horizontalJob } from './horizontal-job.js';
import type { JobEvent, JobResult } from './horizontal-workflow.js';
import type { JobWorkflow } from './job-workflow.js';
import { startHttpApi, type HttpApi } from './http-api.js';
import { ConnectedParticipants } from './link-callers.js';
import { CoordinatorStore } from './store.js';
import type { ParticipantLink } from '../transport/channel.js';
import { verticalJob, type VerticalJobResult, type VerticalProgress } from './vertical-workflow.js';

/** A running coordinator. */
export interface CoordinatorService {
  readonly store: CoordinatorStore;
  readonly transport: GrpcCoordinatorTransport;
  readonly api: HttpApi | undefined;
  readonly participants: ConnectedParticipants;
  /** Runs (or resumes) the configured job to its end. */
  runJob(onEvent?: (e: JobEvent) => void): Promise<JobResult | undefined>;
  /** Runs (or reports as finished) the configured vertical job. */
  runVerticalJob(onProgress?: (p: VerticalProgress) => void): Promise<VerticalJobResult | undefined>;
  close(): Promise<void>;
}

/** Starts the coordinator's listeners and opens its database. */
export async function startCoordinator(config: CoordinatorConfig, logger: TransportLogger): Promise<CoordinatorService> {
  const store = new CoordinatorStore(config.database);
  const allowed = config.participants !== undefined ? new Set(config.participants) : undefined;
  const audit = (r: MessageRecord): void => {
    store.audit({ at: r.at, kind: r.kind, sender: r.sender, receiver: r.receiver, jobId: r.jobId, round: r.round, bytes: r.bytes, sha256: r.sha256, correlationId: r.correlationId });
  };
  const transport = await startCoordinatorServer({
    host: config.listen.host,
    port: config.listen.port,
    tls: readTlsMaterial(config.tls),
    ...(config.revocationFile !== undefined ? { revocationFile: config.revocationFile } : {}),
    ...(allowed !== undefined ? { allowParticipant: (id: string) => allowed.has(id) } : {}),
    ...(config.maxMessageBytes !== undefined ? { maxEnvelopeBytes: config.maxMessageBytes } : {}),
    logger,
    audit,
  });
  const participants = new ConnectedParticipants(transport);
  // Vertical jobs send their own envelopes (PSI relay, long polls), so they use the links directly.
  const links = new Map<string, ParticipantLink>();
  transport.onConnect((link) => links.set(link.participantId, link));
  transport.onConnect((link) => {
    store.registerParticipant(link.participantId);
    store.touchParticipant(link.participantId, 'connected');
    logger.info('participant connected', { participant: link.participantId });
  });
  transport.onDisconnect((id, reason) => {
    store.touchParticipant(id, 'disconnected');
    logger.warn('participant disconnected', { participant: id, reason });
  });
  const api = config.api !== undefined ? await startHttpApi(store, { host: config.api.host, port: config.api.port }) : undefined;

  async function runVerticalJob(onProgress?: (p: VerticalProgress) => void): Promise<VerticalJobResult | undefined> {
    const job = config.job;
    if (!isVerticalJob(job)) throw new EduFedError('INTERNAL', `job "${job.jobId}" is not vertical`);
    const existing = store.getJob(job.jobId);
    if (existing?.status === 'done') {
      logger.info('job already finished; nothing to do', { job: job.jobId });
      return undefined;
    }
    // A vertical job has no checkpoint to resume from: a failed or interrupted one starts over under a new id.
    if (existing !== undefined) throw new EduFedError('CONFIG', `vertical job "${job.jobId}" was ${existing.status}; run it again under a new id`);
    store.createJob(job, 'vertical');
    logger.info('waiting for participants', { job: job.jobId, needed: config.waitForParticipants });
    await participants.waitFor(config.waitForParticipants, config.startTimeoutMs);
    store.setJobStatus(job.jobId, 'running');
    let result: VerticalJobResult | undefined;
    const workflow = verticalJob(job, (id) => links.get(id), (r) => (result = r), onProgress);
    try {
      const { stopReason } = await workflow({ store, participants, logger });
      store.setJobStatus(job.jobId, 'done', { stopReason });
      return result;
    } catch (err) {
      store.setJobStatus(job.jobId, 'failed', { error: toErrorInfo(err).message });
      throw err instanceof EduFedError ? err : new EduFedError('INTERNAL', toErrorInfo(err).message, { cause: err });
    }
  }

  async function runJob(onEvent?: (e: JobEvent) => void): Promise<JobResult | undefined> {
    const job = config.job;
    if (isVerticalJob(job)) throw new EduFedError('CONFIG', `job "${job.jobId}" is vertical: use runVerticalJob`);
    const existing = store.getJob(job.jobId);
    if (existing?.status === 'done') {
      logger.info('job already finished; nothing to do', { job: job.jobId });
      return undefined;
    }
    if (existing === undefined) store.createJob(job, 'horizontal');
    logger.info('waiting for participants', { job: job.jobId, needed: config.waitForParticipants });
    await participants.waitFor(config.waitForParticipants, config.startTimeoutMs);
    store.setJobStatus(job.jobId, 'running');
    let result: JobResult | undefined;
    const workflow: JobWorkflow = horizontalJob(job, (r) => (result = r));
    try {
      const { stopReason } = await workflow({ store, participants, logger, ...(onEvent !== undefined ? { onEvent } : {}) });
      store.setJobStatus(job.jobId, 'done', { stopReason });
      return result;
    } catch (err) {
      store.setJobStatus(job.jobId, 'failed', { error: toErrorInfo(err).message });
      throw err instanceof EduFedError ? err : new EduFedError('INTERNAL', toErrorInfo(err).message, { cause: err });
    }
  }

  return {
    store,
    transport,
    api,
    participants,
    runJob,
    runVerticalJob,
    async close() {
      await api?.close();
      await transport.close();
      store.close();
    },
  };
}
