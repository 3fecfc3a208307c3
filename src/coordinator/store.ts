/**
 * The coordinator's durable state in SQLite: participants, jobs, completed rounds with their
 * metrics, global-model checkpoints with SHA-256 checksums, flags, and the audit log of every
 * message. A completed round and its checkpoint are written in one transaction, so a coordinator
 * killed at any moment restarts from the last completed round with the identical global model, and
 * the (job, round) primary key makes counting a round twice impossible.
 *
 * Durability: WAL journal with `synchronous = NORMAL` by default, which survives any process crash
 * (SIGKILL included); after an OS crash or power loss the newest transactions may be lost but the
 * file stays consistent. `synchronous: 'full'` trades speed for surviving power loss too.
 *
 * Speed: new files use 64 KiB pages, which halves the cost of writing a large checkpoint; audit
 * entries are by default queued and written in one transaction at most every 25 ms (and always
 * with the next completed round, before any audit read, and on close), because one commit per
 * message would cost more than the round itself with many participants.
 */
import { createHash } from 'node:crypto';
import { endianness } from 'node:os';
import Database from 'better-sqlite3';
import { DataError, ConfigError, EduFedError } from '../core/errors.js';
import type { EncoderSpec } from '../data/encoder.js';
import type { HorizontalJobConfig } from '../federation/horizontal/job-config.js';
import type { ResumeState, RoundRecord } from './horizontal-workflow.js';
import type { VerticalJobConfig } from './vertical-config.js';
import { WriteQueue } from '../core/write-queue.js';
import { applyMigrations, COORDINATOR_MIGRATIONS } from './migrations.js';

/** Workflows a job can run; only 'horizontal' exists today. */
export type JobKind = 'horizontal' | 'vertical' | 'transfer' | 'analytics';
/** Life cycle of a job. */
export type JobStatus = 'pending' | 'running' | 'done' | 'failed';
/** Connection state of a participant as last seen by the coordinator. */
export type ParticipantStatus = 'connected' | 'disconnected' | 'revoked';

const JOB_KINDS: readonly JobKind[] = ['horizontal', 'vertical', 'transfer', 'analytics'];
const JOB_STATUSES: readonly JobStatus[] = ['pending', 'running', 'done', 'failed'];
const PARTICIPANT_STATUSES: readonly ParticipantStatus[] = ['connected', 'disconnected', 'revoked'];

/** Options of {@link CoordinatorStore}. */
export interface StoreOptions {
  /** Checkpoints kept per job (the newest ones); default 3. */
  readonly keepCheckpoints?: number;
  /** How long a write waits for another connection's lock before failing; default 5000 ms. */
  readonly busyTimeoutMs?: number;
  /** SQLite `synchronous` level; default 'normal' (see the module comment). */
  readonly synchronous?: 'normal' | 'full';
  /** Clock in ms since the Unix epoch; default Date.now. */
  readonly now?: () => number;
  /**
   * 'batched' (default): audit entries are queued and written together within `auditFlushMs`, so
   * a process crash can lose the entries of its last few milliseconds; 'immediate': one commit per entry.
   */
  readonly auditWrites?: 'batched' | 'immediate';
  /** Longest time a queued audit entry waits to be written; default 25 ms. */
  readonly auditFlushMs?: number;
  /** Receives errors of deferred audit writes (the entries stay queued and are retried); default: print to stderr. */
  readonly onError?: (err: unknown) => void;
}

/** A participant as the coordinator knows it. Times are ms since the Unix epoch. */
export interface ParticipantInfo {
  readonly id: string;
  readonly certFingerprint: string | null;
  readonly certSerial: string | null;
  readonly firstSeen: number;
  readonly lastSeen: number;
  readonly status: ParticipantStatus;
  readonly flaggedCount: number;
  readonly lastFlagReason: string | null;
}

/** A flag raised against a participant for an invalid message. */
export interface FlagInfo {
  readonly participantId: string;
  readonly jobId: string | null;
  readonly round: number | null;
  readonly reason: string;
  /** ms since the Unix epoch. */
  readonly at: number;
}

/** A job row. Times are ms since the Unix epoch, null until the event happens. */
export interface JobInfo {
  readonly id: string;
  readonly kind: JobKind;
  /** The configuration the job was created with (a {@link HorizontalJobConfig} for kind 'horizontal'). */
  readonly config: HorizontalJobConfig;
  readonly status: JobStatus;
  readonly createdAt: number;
  readonly startedAt: number | null;
  readonly finishedAt: number | null;
  readonly stopReason: string | null;
  readonly error: string | null;
  readonly hasEncoder: boolean;
  /** The last completed round, 0 when none. */
  readonly lastRound: number;
}

/** A completed round as stored: the full record plus its flattened metrics (NaN stored as null). */
export interface RoundRow {
  readonly jobId: string;
  readonly round: number;
  readonly record: RoundRecord;
  readonly accuracy: number | null;
  readonly auc: number | null;
  readonly f1: number | null;
  readonly logLoss: number | null;
  readonly trainLoss: number | null;
  readonly wallMs: number;
  readonly received: number;
  readonly dropped: number;
  readonly completedAt: number;
}

/** Metadata of a stored checkpoint (no tensors). */
export interface CheckpointInfo {
  readonly jobId: string;
  readonly round: number;
  readonly numParams: number;
  /** SHA-256 (hex) of the little-endian float32 bytes of the parameters. */
  readonly sha256: string;
  readonly createdAt: number;
}

/**
 * One message, as recorded in the audit log: metadata only, never the content. Shaped like the
 * transport's `MessageRecord`, so a record from the transport's audit hook can be passed as is.
 */
export interface AuditEntry {
  /** ms since the Unix epoch when the message was sent or received; default now. */
  readonly at?: number;
  /** Message kind (e.g. the protocol step: 'train', 'train-result'). */
  readonly kind: string;
  readonly sender: string;
  readonly receiver: string;
  /** The job; absent or '' for messages outside any job. */
  readonly jobId?: string;
  readonly round?: number;
  /** Size of the message as encoded on the wire. */
  readonly bytes: number;
  /** SHA-256 of the encoded message, 64 lower-case hex digits. */
  readonly sha256: string;
  /** Pairs a reply with its request. */
  readonly correlationId?: string;
}

/** A stored audit entry. */
export interface AuditRow {
  readonly id: number;
  readonly at: number;
  readonly kind: string;
  readonly sender: string;
  readonly receiver: string;
  readonly jobId: string | null;
  readonly round: number | null;
  readonly bytes: number;
  readonly sha256: string;
  readonly correlationId: string | null;
}

/** Selects audit rows; newest first. */
export interface AuditFilter {
  readonly jobId?: string;
  readonly round?: number;
  /** Default 100. */
  readonly limit?: number;
}

/** A round that was already recorded, or that skips one: rounds are stored once each, in order. */
export class RoundSequenceError extends EduFedError {
  readonly jobId: string;
  readonly round: number;
  readonly lastCompleted: number;
  constructor(jobId: string, round: number, lastCompleted: number) {
    super(
      'ROUND',
      round <= lastCompleted
        ? `job "${jobId}" round ${round} is already recorded (last completed round ${lastCompleted}); a round is never counted twice`
        : `job "${jobId}" round ${round} cannot be recorded: the next round is ${lastCompleted + 1}`,
    );
    this.name = 'RoundSequenceError';
    this.jobId = jobId;
    this.round = round;
    this.lastCompleted = lastCompleted;
  }
}

interface ParticipantDbRow {
  id: string;
  cert_fingerprint: string | null;
  cert_serial: string | null;
  first_seen: number;
  last_seen: number;
  status: string;
  flagged_count: number;
  last_flag_reason: string | null;
}
interface JobDbRow {
  id: string;
  kind: string;
  config: string;
  status: string;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  stop_reason: string | null;
  has_encoder: number;
  error: string | null;
  last_round: number | null;
}
interface RoundDbRow {
  job_id: string;
  round: number;
  record: string;
  accuracy: number | null;
  auc: number | null;
  f1: number | null;
  log_loss: number | null;
  train_loss: number | null;
  wall_ms: number;
  received: number;
  dropped: number;
  completed_at: number;
}
interface CheckpointDbRow {
  job_id: string;
  round: number;
  params: Buffer;
  strategy_state: Buffer;
  sha256: string;
  state_sha256: string;
  created_at: number;
}
interface AuditDbRow {
  id: number;
  ts: number;
  kind: string;
  sender: string;
  receiver: string;
  job_id: string | null;
  round: number | null;
  size_bytes: number;
  sha256: string;
  correlation_id: string | null;
}

type Params = unknown[];

const JOB_COLUMNS = `id, kind, config, status, created_at, started_at, finished_at, stop_reason, error,
  encoder IS NOT NULL AS has_encoder, (SELECT MAX(round) FROM rounds r WHERE r.job_id = jobs.id) AS last_round`;
const HEX64 = /^[0-9a-f]{64}$/;
/** Queued audit entries that trigger a write without waiting for the flush delay. */
const AUDIT_BATCH = 1024;

/**
 * The coordinator's SQLite database (a file path, or ':memory:' for tests). Every method is
 * synchronous; each write is one transaction (audit entries: one per batch). One coordinator
 * process writes a file; other connections (status readers, tests) may read it concurrently.
 * @throws DataError when the file cannot be opened, is not a database, or has a newer schema.
 */
export class CoordinatorStore {
  readonly path: string;
  readonly schemaVersion: number;
  private readonly db: Database.Database;
  private readonly keep: number;
  private readonly now: () => number;
  private readonly auditQueue: WriteQueue<unknown[]>;
  private readonly stmt: {
    readonly audit: Database.Statement<Params>;
    readonly lastRound: Database.Statement<[string], { r: number | null }>;
    readonly getJob: Database.Statement<[string], JobDbRow>;
    readonly getParticipant: Database.Statement<[string], ParticipantDbRow>;
  };

  constructor(path: string, options: StoreOptions = {}) {
    const keep = options.keepCheckpoints ?? 3;
    if (!Number.isInteger(keep) || keep < 1) throw new ConfigError('keepCheckpoints', `must be a positive integer, got ${keep}`);
    const busy = options.busyTimeoutMs ?? 5000;
    if (!Number.isInteger(busy) || busy < 0) throw new ConfigError('busyTimeoutMs', `must be a non-negative integer, got ${busy}`);
    this.path = path;
    this.keep = keep;
    this.now = options.now ?? Date.now;
    const auditFlushMs = options.auditFlushMs ?? 25;
    if (!(auditFlushMs >= 0)) throw new ConfigError('auditFlushMs', `must be a non-negative number, got ${auditFlushMs}`);
    // 'immediate' is a queue that writes every entry as it comes.
    this.auditQueue = new WriteQueue((rows) => this.db.transaction(() => this.writeAudit(rows))(), {
      delayMs: options.auditWrites === 'immediate' ? 0 : auditFlushMs,
      maxQueued: AUDIT_BATCH,
      onError: options.onError ?? ((err: unknown): void => {
        process.stderr.write(`edufed: audit log write failed (will retry): ${messageOf(err)}\n`);
      }),
    });
    try {
      this.db = new Database(path, { timeout: busy });
    } catch (err) {
      throw new DataError({ file: path }, `cannot open the coordinator database: ${messageOf(err)}`, { cause: err });
    }
    try {
      this.db.pragma(`busy_timeout = ${busy}`);
      // Only takes effect on a new, empty file; existing databases keep their page size.
      this.db.pragma('page_size = 65536');
      this.db.pragma('journal_mode = WAL');
      this.db.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
      this.db.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
      this.db.pragma('foreign_keys = ON');
      this.schemaVersion = applyMigrations(this.db, COORDINATOR_MIGRATIONS, path);
      this.stmt = {
        audit: this.db.prepare<Params>(
          'INSERT INTO audit (ts, kind, sender, receiver, job_id, round, size_bytes, sha256, correlation_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
        ),
        lastRound: this.db.prepare<[string], { r: number | null }>('SELECT MAX(round) AS r FROM rounds WHERE job_id = ?'),
        getJob: this.db.prepare<[string], JobDbRow>(`SELECT ${JOB_COLUMNS} FROM jobs WHERE id = ?`),
        getParticipant: this.db.prepare<[string], ParticipantDbRow>('SELECT * FROM participants WHERE id = ?'),
      };
    } catch (err) {
      this.db.close();
      if (err instanceof EduFedError) throw err;
      throw new DataError({ file: path }, `cannot use the coordinator database: ${messageOf(err)}`, { cause: err });
    }
  }

  // -------------------------------------------------------------------------------------------
  // Participants
  // -------------------------------------------------------------------------------------------

  /**
   * Records a participant's connection (first time or again), with its certificate's identity.
   * @throws ConfigError for an empty id.
   */
  registerParticipant(id: string, cert: { readonly fingerprint?: string; readonly serial?: string } = {}): ParticipantInfo {
    nonEmpty(id, 'participantId');
    const t = this.now();
    this.db
      .prepare<Params>(
        `INSERT INTO participants (id, cert_fingerprint, cert_serial, first_seen, last_seen, status)
         VALUES (?, ?, ?, ?, ?, 'connected')
         ON CONFLICT(id) DO UPDATE SET cert_fingerprint = excluded.cert_fingerprint, cert_serial = excluded.cert_serial,
           last_seen = excluded.last_seen, status = 'connected'`,
      )
      .run(id, cert.fingerprint ?? null, cert.serial ?? null, t, t);
    return this.participant(id);
  }

  /**
   * Marks a participant as seen now, optionally changing its status.
   * @throws ConfigError for an unknown participant or status.
   */
  touchParticipant(id: string, status?: ParticipantStatus): void {
    if (status !== undefined && !PARTICIPANT_STATUSES.includes(status)) throw new ConfigError('status', `unknown participant status "${String(status)}"`);
    const r = this.db
      .prepare<Params>('UPDATE participants SET last_seen = ?, status = COALESCE(?, status) WHERE id = ?')
      .run(this.now(), status ?? null, id);
    if (r.changes === 0) throw new ConfigError('participantId', `unknown participant "${id}"`);
  }

  /**
   * Records that a participant sent something invalid (NaN, wrong shape, absurd norm, ...) and
   * counts it against the participant. An unregistered participant is registered without a certificate.
   * @throws ConfigError for an empty id or an unknown job.
   */
  flagParticipant(participantId: string, jobId: string | undefined, round: number | undefined, reason: string): void {
    nonEmpty(participantId, 'participantId');
    const t = this.now();
    this.db.transaction(() => {
      if (jobId !== undefined) this.requireJob(jobId);
      this.db
        .prepare<Params>(
          `INSERT INTO participants (id, first_seen, last_seen, status, flagged_count, last_flag_reason)
           VALUES (?, ?, ?, 'disconnected', 1, ?)
           ON CONFLICT(id) DO UPDATE SET flagged_count = flagged_count + 1, last_flag_reason = excluded.last_flag_reason`,
        )
        .run(participantId, t, t, reason);
      this.db
        .prepare<Params>('INSERT INTO flags (participant_id, job_id, round, reason, ts) VALUES (?, ?, ?, ?, ?)')
        .run(participantId, jobId ?? null, round ?? null, reason, t);
    })();
  }

  /** Every known participant, by id. */
  listParticipants(): ParticipantInfo[] {
    return this.db.prepare<[], ParticipantDbRow>('SELECT * FROM participants ORDER BY id').all().map(participantFromRow);
  }

  /** One participant, or undefined. */
  getParticipant(id: string): ParticipantInfo | undefined {
    const row = this.stmt.getParticipant.get(id);
    return row === undefined ? undefined : participantFromRow(row);
  }

  /** The flags raised against a participant, oldest first. */
  listFlags(participantId: string): FlagInfo[] {
    return this.db
      .prepare<[string], { job_id: string | null; round: number | null; reason: string; ts: number }>(
        'SELECT job_id, round, reason, ts FROM flags WHERE participant_id = ? ORDER BY id',
      )
      .all(participantId)
      .map((r) => ({ participantId, jobId: r.job_id, round: r.round, reason: r.reason, at: r.ts }));
  }

  // -------------------------------------------------------------------------------------------
  // Jobs
  // -------------------------------------------------------------------------------------------

  /**
   * Stores a new job in status 'pending'.
   * @throws ConfigError when a job with this id already exists or the id is empty.
   */
  createJob(config: HorizontalJobConfig | VerticalJobConfig, kind: JobKind = 'horizontal'): JobInfo {
    nonEmpty(config.jobId, 'jobId');
    if (!JOB_KINDS.includes(kind)) throw new ConfigError('kind', `unknown job kind "${String(kind)}"`);
    const text = toJson(config);
    this.db.transaction(() => {
      if (this.stmt.getJob.get(config.jobId) !== undefined) throw new ConfigError('jobId', `job "${config.jobId}" already exists`);
      this.db
        .prepare<Params>("INSERT INTO jobs (id, kind, config, status, created_at) VALUES (?, ?, ?, 'pending', ?)")
        .run(config.jobId, kind, text, this.now());
    }).immediate();
    return this.job(config.jobId);
  }

  /**
   * Moves a job to `status`. 'running' sets the start time (once); 'done' and 'failed' set the
   * finish time, the stop reason and the error message.
   * @throws ConfigError for an unknown job or status.
   */
  setJobStatus(jobId: string, status: JobStatus, details: { readonly stopReason?: string; readonly error?: string } = {}): void {
    if (!JOB_STATUSES.includes(status)) throw new ConfigError('status', `unknown job status "${String(status)}"`);
    const t = this.now();
    const finished = status === 'done' || status === 'failed';
    const r = this.db
      .prepare<Params>(
        `UPDATE jobs SET status = ?,
           started_at = CASE WHEN ? = 'running' THEN COALESCE(started_at, ?) ELSE started_at END,
           finished_at = ?, stop_reason = COALESCE(?, stop_reason), error = ?
         WHERE id = ?`,
      )
      .run(status, status, t, finished ? t : null, details.stopReason ?? null, details.error ?? null, jobId);
    if (r.changes === 0) throw new ConfigError('jobId', `unknown job "${jobId}"`);
  }

  /**
   * Stores the preprocessing agreed for a job (needed to resume it).
   * @throws ConfigError for an unknown job.
   */
  saveEncoder(jobId: string, encoder: EncoderSpec): void {
    const r = this.db.prepare<Params>('UPDATE jobs SET encoder = ? WHERE id = ?').run(toJson(encoder), jobId);
    if (r.changes === 0) throw new ConfigError('jobId', `unknown job "${jobId}"`);
  }

  /** The encoder stored for a job, or undefined. */
  getEncoder(jobId: string): EncoderSpec | undefined {
    const row = this.db.prepare<[string], { encoder: string | null }>('SELECT encoder FROM jobs WHERE id = ?').get(jobId);
    return row?.encoder == null ? undefined : fromJson<EncoderSpec>(row.encoder);
  }

  /** Jobs, newest first, optionally only those in one status (e.g. 'running' ones to resume after a restart). */
  listJobs(filter: { readonly status?: JobStatus } = {}): JobInfo[] {
    const rows =
      filter.status === undefined
        ? this.db.prepare<[], JobDbRow>(`SELECT ${JOB_COLUMNS} FROM jobs ORDER BY created_at DESC, id`).all()
        : this.db.prepare<[string], JobDbRow>(`SELECT ${JOB_COLUMNS} FROM jobs WHERE status = ? ORDER BY created_at DESC, id`).all(filter.status);
    return rows.map(jobFromRow);
  }

  /** One job, or undefined. */
  getJob(jobId: string): JobInfo | undefined {
    const row = this.stmt.getJob.get(jobId);
    return row === undefined ? undefined : jobFromRow(row);
  }

  // -------------------------------------------------------------------------------------------
  // Rounds and checkpoints
  // -------------------------------------------------------------------------------------------

  /**
   * Records a completed round and the global model after it, in one transaction: the round row,
   * the checkpoint (parameters and strategy state, with SHA-256), and the pruning of checkpoints
   * beyond the newest `keepCheckpoints`. Either all of it is stored or none.
   * @throws RoundSequenceError when the round is already recorded or is not the next one;
   *   ConfigError for an unknown job or a record whose round is not a positive integer.
   */
  completeRound(jobId: string, record: RoundRecord, params: Float32Array, strategyState: Readonly<Record<string, Float32Array>>): void {
    const round = record.round;
    if (!Number.isInteger(round) || round < 1) throw new ConfigError('record.round', `must be a positive integer, got ${round}`);
    const paramBytes = float32ToLe(params);
    const stateBytes = encodeTensorRecord(strategyState);
    const t = this.now();
    const m = record.metrics;
    this.db.transaction(() => {
      this.writeAudit(this.auditQueue.peek());
      this.requireJob(jobId);
      const last = this.stmt.lastRound.get(jobId)?.r ?? 0;
      if (round !== last + 1) throw new RoundSequenceError(jobId, round, last);
      this.db
        .prepare<Params>(
          `INSERT INTO rounds (job_id, round, record, accuracy, auc, f1, log_loss, train_loss, wall_ms, received, dropped, completed_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          jobId,
          round,
          toJson(record),
          finite(m.accuracy),
          finite(m.auc),
          finite(m.f1),
          finite(m.logLoss),
          finite(record.trainLoss),
          Number.isFinite(record.wallMs) ? record.wallMs : 0,
          record.received.length,
          record.dropped.length,
          t,
        );
      this.db
        .prepare<Params>(
          'INSERT INTO checkpoints (job_id, round, params, strategy_state, sha256, state_sha256, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
        )
        .run(jobId, round, paramBytes, stateBytes, sha256Hex(paramBytes), sha256Hex(stateBytes), t);
      this.db
        .prepare<Params>('DELETE FROM checkpoints WHERE job_id = ? AND round <= ?')
        .run(jobId, round - this.keep);
    }).immediate();
    this.auditQueue.clear();
  }

  /**
   * The state to resume a job from: its newest checkpoint, verified against its SHA-256, with the
   * history of completed rounds up to it and the job's encoder. Undefined when no round completed.
   * @throws DataError when the checkpoint is corrupted (checksum mismatch or malformed bytes) or the
   *   job has checkpoints but no stored encoder.
   */
  loadResume(jobId: string): ResumeState | undefined {
    return this.db.transaction((): ResumeState | undefined => {
      const cp = this.db
        .prepare<[string], CheckpointDbRow>('SELECT * FROM checkpoints WHERE job_id = ? ORDER BY round DESC LIMIT 1')
        .get(jobId);
      if (cp === undefined) return undefined;
      const where = `checkpoint of job "${jobId}" round ${cp.round}`;
      if (sha256Hex(cp.params) !== cp.sha256) {
        throw new DataError({ file: this.path }, `${where} is corrupted: the parameters' SHA-256 does not match the stored ${cp.sha256}`);
      }
      if (sha256Hex(cp.strategy_state) !== cp.state_sha256) {
        throw new DataError({ file: this.path }, `${where} is corrupted: the strategy state's SHA-256 does not match the stored ${cp.state_sha256}`);
      }
      const params = leToFloat32(cp.params, `${where}: parameters`, this.path);
      const strategyState = decodeTensorRecord(cp.strategy_state, `${where}: strategy state`, this.path);
      const encoder = this.getEncoder(jobId);
      if (encoder === undefined) throw new DataError({ file: this.path }, `job "${jobId}" has a checkpoint but no stored encoder; it cannot be resumed`);
      const history = this.listRounds(jobId)
        .filter((r) => r.round <= cp.round)
        .map((r) => r.record);
      if (history.length !== cp.round) {
        throw new DataError({ file: this.path }, `${where}: ${history.length} round records found, expected ${cp.round}`);
      }
      return { round: cp.round, params, strategyState, history, encoder };
    })();
  }

  /** Completed rounds of a job, in order. */
  listRounds(jobId: string): RoundRow[] {
    return this.db
      .prepare<[string], RoundDbRow>('SELECT * FROM rounds WHERE job_id = ? ORDER BY round')
      .all(jobId)
      .map((r) => ({
        jobId: r.job_id,
        round: r.round,
        record: fromJson<RoundRecord>(r.record),
        accuracy: r.accuracy,
        auc: r.auc,
        f1: r.f1,
        logLoss: r.log_loss,
        trainLoss: r.train_loss,
        wallMs: r.wall_ms,
        received: r.received,
        dropped: r.dropped,
        completedAt: r.completed_at,
      }));
  }

  /** Metadata of the checkpoints kept for a job, newest first. */
  listCheckpoints(jobId: string): CheckpointInfo[] {
    return this.db
      .prepare<[string], { round: number; n: number; sha256: string; created_at: number }>(
        'SELECT round, length(params) / 4 AS n, sha256, created_at FROM checkpoints WHERE job_id = ? ORDER BY round DESC',
      )
      .all(jobId)
      .map((r) => ({ jobId, round: r.round, numParams: r.n, sha256: r.sha256, createdAt: r.created_at }));
  }

  // -------------------------------------------------------------------------------------------
  // Audit log
  // -------------------------------------------------------------------------------------------

  /**
   * Appends one message's metadata to the audit log: queued and written within `auditFlushMs`,
   * or at once with `auditWrites: 'immediate'`.
   * @throws ConfigError for a malformed SHA-256 or a negative size (checked at once in both modes).
   */
  audit(entry: AuditEntry): void {
    this.auditQueue.push(this.auditValues(entry));
  }

  /** Appends several entries in one transaction. @throws ConfigError as {@link audit}, before writing any. */
  auditMany(entries: readonly AuditEntry[]): void {
    const values = entries.map((e) => this.auditValues(e));
    this.auditQueue.push(...values);
    this.flushAudit();
  }

  /** Writes queued audit entries now, in one transaction. A failed write keeps them queued. */
  flushAudit(): void {
    if (this.db.open) this.auditQueue.flush();
  }

  /** Number of audit entries, optionally of one job. */
  auditCount(filter: { readonly jobId?: string } = {}): number {
    this.flushAudit();
    const row =
      filter.jobId === undefined
        ? this.db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM audit').get()
        : this.db.prepare<[string], { n: number }>('SELECT COUNT(*) AS n FROM audit WHERE job_id = ?').get(filter.jobId);
    return row?.n ?? 0;
  }

  /** Audit entries, newest first. @throws ConfigError for a limit that is not a positive integer. */
  listAudit(filter: AuditFilter = {}): AuditRow[] {
    const limit = filter.limit ?? 100;
    if (!Number.isInteger(limit) || limit < 1) throw new ConfigError('limit', `must be a positive integer, got ${limit}`);
    this.flushAudit();
    const conds: string[] = [];
    const args: unknown[] = [];
    if (filter.jobId !== undefined) {
      conds.push('job_id = ?');
      args.push(filter.jobId);
    }
    if (filter.round !== undefined) {
      conds.push('round = ?');
      args.push(filter.round);
    }
    const where = conds.length > 0 ? `WHERE ${conds.join(' AND ')}` : '';
    return this.db
      .prepare<Params, AuditDbRow>(`SELECT * FROM audit ${where} ORDER BY id DESC LIMIT ?`)
      .all(...args, limit)
      .map((r) => ({
        id: r.id,
        at: r.ts,
        kind: r.kind,
        sender: r.sender,
        receiver: r.receiver,
        jobId: r.job_id,
        round: r.round,
        bytes: r.size_bytes,
        sha256: r.sha256,
        correlationId: r.correlation_id,
      }));
  }

  /** Writes queued audit entries and closes the database; the store must not be used afterwards. */
  close(): void {
    this.auditQueue.cancel();
    if (!this.db.open) return;
    try {
      this.flushAudit();
    } finally {
      this.db.close();
    }
  }

  /** Inserts audit rows inside the caller's transaction. */
  private writeAudit(rows: readonly unknown[][]): void {
    for (const v of rows) this.stmt.audit.run(...v);
  }

  private auditValues(e: AuditEntry): unknown[] {
    if (!HEX64.test(e.sha256)) throw new ConfigError('sha256', `expected 64 lower-case hex digits, got "${e.sha256.slice(0, 70)}"`);
    if (!Number.isSafeInteger(e.bytes) || e.bytes < 0) throw new ConfigError('bytes', `must be a non-negative integer, got ${e.bytes}`);
    const jobId = e.jobId === undefined || e.jobId === '' ? null : e.jobId;
    return [e.at ?? this.now(), e.kind, e.sender, e.receiver, jobId, e.round ?? null, e.bytes, e.sha256, e.correlationId ?? null];
  }

  private requireJob(jobId: string): void {
    if (this.stmt.getJob.get(jobId) === undefined) throw new ConfigError('jobId', `unknown job "${jobId}"`);
  }

  private participant(id: string): ParticipantInfo {
    const row = this.stmt.getParticipant.get(id);
    if (row === undefined) throw new ConfigError('participantId', `unknown participant "${id}"`);
    return participantFromRow(row);
  }

  private job(id: string): JobInfo {
    const row = this.stmt.getJob.get(id);
    if (row === undefined) throw new ConfigError('jobId', `unknown job "${id}"`);
    return jobFromRow(row);
  }
}

// ---------------------------------------------------------------------------------------------
// Row mapping and encodings
// ---------------------------------------------------------------------------------------------

function participantFromRow(r: ParticipantDbRow): ParticipantInfo {
  return {
    id: r.id,
    certFingerprint: r.cert_fingerprint,
    certSerial: r.cert_serial,
    firstSeen: r.first_seen,
    lastSeen: r.last_seen,
    status: PARTICIPANT_STATUSES.find((s) => s === r.status) ?? 'disconnected',
    flaggedCount: r.flagged_count,
    lastFlagReason: r.last_flag_reason,
  };
}

function jobFromRow(r: JobDbRow): JobInfo {
  return {
    id: r.id,
    kind: JOB_KINDS.find((k) => k === r.kind) ?? 'horizontal',
    config: fromJson<HorizontalJobConfig>(r.config),
    status: JOB_STATUSES.find((s) => s === r.status) ?? 'failed',
    createdAt: r.created_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    stopReason: r.stop_reason,
    error: r.error,
    hasEncoder: r.has_encoder === 1,
    lastRound: r.last_round ?? 0,
  };
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function nonEmpty(s: string, field: string): void {
  if (typeof s !== 'string' || s.length === 0) throw new ConfigError(field, 'must be a non-empty string');
}

function finite(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

/** SHA-256 of bytes, lower-case hex. */
function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

// JSON cannot hold NaN or ±Infinity (metrics are NaN when undefined), so they travel tagged.
const NON_FINITE_TAG = '$nonFinite';

function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    typeof v === 'number' && !Number.isFinite(v) ? { [NON_FINITE_TAG]: String(v) } : v,
  );
}

/** Parses JSON this store wrote itself (the database is trusted as the store's own output). */
function fromJson<T>(text: string): T {
  const parsed: T = JSON.parse(text, (_key, v: unknown) => {
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
      const keys = Object.keys(v);
      if (keys.length === 1 && keys[0] === NON_FINITE_TAG) {
        const s: unknown = Object.values(v)[0];
        return s === 'Infinity' ? Infinity : s === '-Infinity' ? -Infinity : NaN;
      }
    }
    return v;
  });
  return parsed;
}

const LITTLE_ENDIAN = endianness() === 'LE';

function swap32(b: Uint8Array): void {
  for (let i = 0; i + 3 < b.length; i += 4) {
    const b0 = b[i]!;
    const b1 = b[i + 1]!;
    b[i] = b[i + 3]!;
    b[i + 1] = b[i + 2]!;
    b[i + 2] = b1;
    b[i + 3] = b0;
  }
}

/** Raw little-endian bytes of a float32 array (bit-exact, NaN payloads included). */
function float32ToLe(a: Float32Array): Buffer {
  const out = Buffer.from(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  if (!LITTLE_ENDIAN) swap32(out);
  return out;
}

function leToFloat32(bytes: Uint8Array, what: string, file: string): Float32Array {
  if (bytes.length % 4 !== 0) throw new DataError({ file }, `${what}: ${bytes.length} bytes is not a whole number of float32 values`);
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  if (!LITTLE_ENDIAN) swap32(copy);
  return new Float32Array(copy.buffer);
}

/**
 * Strategy state as bytes: u32 count, then per entry u32 name length, UTF-8 name, u32 element
 * count, little-endian float32 values. All integers little-endian; entries in key order.
 */
function encodeTensorRecord(rec: Readonly<Record<string, Float32Array>>): Buffer {
  const names = Object.keys(rec).sort();
  const parts: Buffer[] = [];
  const u32 = (n: number): Buffer => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(n);
    return b;
  };
  parts.push(u32(names.length));
  for (const name of names) {
    const values = rec[name];
    if (!(values instanceof Float32Array)) throw new ConfigError(`strategyState.${name}`, 'must be a Float32Array');
    const nameBytes = Buffer.from(name, 'utf8');
    parts.push(u32(nameBytes.length), nameBytes, u32(values.length), float32ToLe(values));
  }
  return Buffer.concat(parts);
}

function decodeTensorRecord(bytes: Buffer, what: string, file: string): Record<string, Float32Array> {
  const fail = (msg: string): never => {
    throw new DataError({ file }, `${what}: ${msg}`);
  };
  let at = 0;
  const u32 = (): number => {
    if (at + 4 > bytes.length) fail(`truncated at byte ${at}`);
    const v = bytes.readUInt32LE(at);
    at += 4;
    return v;
  };
  const out: Record<string, Float32Array> = {};
  const count = u32();
  for (let i = 0; i < count; i++) {
    const nameLen = u32();
    if (at + nameLen > bytes.length) fail(`truncated name at byte ${at}`);
    const name = bytes.toString('utf8', at, at + nameLen);
    at += nameLen;
    const n = u32();
    if (at + n * 4 > bytes.length) fail(`truncated values of "${name}" at byte ${at}`);
    out[name] = leToFloat32(bytes.subarray(at, at + n * 4), what, file);
    at += n * 4;
  }
  if (at !== bytes.length) fail(`${bytes.length - at} unexpected trailing bytes`);
  return out;
}
