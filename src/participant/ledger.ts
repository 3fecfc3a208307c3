/**
 * A participant's own record, in a local SQLite file, of every message it exchanged with the
 * coordinator (kind, peer, job, round, time, size, SHA-256; never the content) and of every job
 * configuration it was offered, with its decision. It lets a platform check what left its premises
 * and compare that, message by message, with the coordinator's audit log.
 */
import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import { ConfigError, DataError, EduFedError } from '../core/errors.js';
import { applyMigrations } from '../coordinator/migrations.js';
import { WriteQueue } from '../core/write-queue.js';

/** The ledger database, version by version (append only). */
export const LEDGER_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE messages (
    id             INTEGER PRIMARY KEY,
    at             INTEGER NOT NULL,
    direction      TEXT NOT NULL CHECK (direction IN ('sent', 'received')),
    peer           TEXT NOT NULL,
    kind           TEXT NOT NULL,
    sender         TEXT NOT NULL,
    receiver       TEXT NOT NULL,
    job_id         TEXT,
    round          INTEGER,
    size_bytes     INTEGER NOT NULL,
    sha256         TEXT NOT NULL,
    correlation_id TEXT
  ) STRICT;
  CREATE INDEX messages_by_job ON messages(job_id, round);

  CREATE TABLE job_configs (
    id       INTEGER PRIMARY KEY,
    at       INTEGER NOT NULL,
    job_id   TEXT NOT NULL,
    config   TEXT NOT NULL,
    sha256   TEXT NOT NULL,
    accepted INTEGER NOT NULL CHECK (accepted IN (0, 1)),
    reason   TEXT
  ) STRICT;
  CREATE INDEX job_configs_by_job ON job_configs(job_id);
  `,
  `
  CREATE TABLE privacy_spent (
    id       INTEGER PRIMARY KEY,
    at       INTEGER NOT NULL,
    job_id   TEXT NOT NULL,
    round    INTEGER NOT NULL,
    unit     TEXT NOT NULL CHECK (unit IN ('learner', 'local')),
    q        REAL NOT NULL,
    sigma    REAL NOT NULL,
    steps    INTEGER NOT NULL,
    epsilon  REAL NOT NULL,
    delta    REAL NOT NULL,
    UNIQUE (job_id, round, unit)
  ) STRICT;
  `,
];

/** One round of differential privacy this platform applied itself, and its ε so far. */
export interface PrivacySpentRecord {
  readonly jobId: string;
  readonly round: number;
  readonly unit: 'learner' | 'local';
  /** Sampling rate, noise multiplier and steps of the round (what the accountant composes). */
  readonly q: number;
  readonly sigma: number;
  readonly steps: number;
  /** ε(δ) spent in the job up to and including this round. */
  readonly epsilon: number;
  readonly delta: number;
}

/**
 * One message that crossed the link. Shaped like the transport's `MessageRecord`, so a record from
 * the transport's audit hook can be passed as is.
 */
export interface LedgerEntry {
  readonly direction: 'sent' | 'received';
  /** The other side (normally 'coordinator'). */
  readonly peer: string;
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
  /** ms since the Unix epoch; default now. */
  readonly at?: number;
  readonly correlationId?: string;
}

/** A stored ledger entry. */
export interface LedgerRow {
  readonly id: number;
  readonly at: number;
  readonly direction: 'sent' | 'received';
  readonly peer: string;
  readonly kind: string;
  readonly sender: string;
  readonly receiver: string;
  readonly jobId: string | null;
  readonly round: number | null;
  readonly bytes: number;
  readonly sha256: string;
  readonly correlationId: string | null;
}

/** Selects ledger entries. */
export interface LedgerFilter {
  readonly direction?: 'sent' | 'received';
  readonly jobId?: string;
  readonly round?: number;
  readonly kind?: string;
  /** Only the newest `limit` entries (still returned oldest first). */
  readonly limit?: number;
}

/** A job configuration the participant was offered, and what it decided. */
export interface JobConfigRecord {
  readonly id: number;
  readonly at: number;
  readonly jobId: string;
  /** The configuration as received (JSON). */
  readonly config: unknown;
  /** SHA-256 of the configuration's JSON text. */
  readonly sha256: string;
  readonly accepted: boolean;
  /** Why it was refused (policy), or null. */
  readonly reason: string | null;
}

/** Totals of one direction of traffic. */
export interface TrafficTotals {
  readonly count: number;
  readonly bytes: number;
}

/** What the ledger holds, in numbers. */
export interface LedgerSummary {
  readonly sent: TrafficTotals;
  readonly received: TrafficTotals;
  /** Per message kind and direction. */
  readonly byKind: readonly { readonly kind: string; readonly direction: 'sent' | 'received'; readonly count: number; readonly bytes: number }[];
  /** Jobs that any message or offered configuration belonged to, sorted. */
  readonly jobs: readonly string[];
  readonly jobConfigs: { readonly accepted: number; readonly refused: number };
  /** Time of the first and last message (ms since the Unix epoch), null when empty. */
  readonly firstAt: number | null;
  readonly lastAt: number | null;
}

/** Options of {@link ParticipantLedger}. */
export interface LedgerOptions {
  /** Default 5000 ms. */
  readonly busyTimeoutMs?: number;
  /** Clock in ms since the Unix epoch; default Date.now. */
  readonly now?: () => number;
  /**
   * Longest time a recorded message waits in memory before it is written, in ms (default 25).
   * Queued messages are written in one transaction, before any read and on close; 0 writes each at once.
   */
  readonly flushMs?: number;
  /** Receives errors of deferred writes (the entries stay queued and are retried); default: print to stderr. */
  readonly onError?: (err: unknown) => void;
}

/** Queued messages that trigger a write without waiting for the flush delay. */
const MAX_QUEUED = 512;

interface MessageDbRow {
  id: number;
  at: number;
  direction: string;
  peer: string;
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
const HEX64 = /^[0-9a-f]{64}$/;

/**
 * The participant's ledger (a file path, or ':memory:' for tests), WAL mode. Message records are
 * queued and written together within `flushMs` (one commit per message would cost more than the
 * message itself); every read, {@link ParticipantLedger.flush} and close write the queue first.
 * @throws DataError when the file cannot be opened, is not a database, or has a newer schema.
 */
export class ParticipantLedger {
  readonly path: string;
  private readonly db: Database.Database;
  private readonly now: () => number;
  private readonly insert: Database.Statement<Params>;
  private readonly queue: WriteQueue<Params>;

  constructor(path: string, options: LedgerOptions = {}) {
    const busy = options.busyTimeoutMs ?? 5000;
    if (!Number.isInteger(busy) || busy < 0) throw new ConfigError('busyTimeoutMs', `must be a non-negative integer, got ${busy}`);
    const flushMs = options.flushMs ?? 25;
    if (!(flushMs >= 0 && Number.isFinite(flushMs))) throw new ConfigError('flushMs', `must be a non-negative number, got ${flushMs}`);
    this.queue = new WriteQueue((rows) => this.writeRows(rows), {
      delayMs: flushMs,
      maxQueued: MAX_QUEUED,
      onError: options.onError ?? ((err: unknown): void => {
        process.stderr.write(`edufed: participant ledger write failed (will retry): ${messageOf(err)}\n`);
      }),
    });
    this.path = path;
    this.now = options.now ?? Date.now;
    try {
      this.db = new Database(path, { timeout: busy });
    } catch (err) {
      throw new DataError({ file: path }, `cannot open the participant ledger: ${messageOf(err)}`, { cause: err });
    }
    try {
      this.db.pragma(`busy_timeout = ${busy}`);
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
      applyMigrations(this.db, LEDGER_MIGRATIONS, path);
      this.insert = this.db.prepare<Params>(
        `INSERT INTO messages (at, direction, peer, kind, sender, receiver, job_id, round, size_bytes, sha256, correlation_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      );
    } catch (err) {
      this.db.close();
      if (err instanceof EduFedError) throw err;
      throw new DataError({ file: path }, `cannot use the participant ledger: ${messageOf(err)}`, { cause: err });
    }
  }

  /**
   * Appends one message's metadata (queued; written within `flushMs`).
   * @throws ConfigError for an unknown direction, a malformed SHA-256 or a negative size.
   */
  record(e: LedgerEntry): void {
    if (e.direction !== 'sent' && e.direction !== 'received') throw new ConfigError('direction', `must be "sent" or "received", got "${String(e.direction)}"`);
    if (!HEX64.test(e.sha256)) throw new ConfigError('sha256', `expected 64 lower-case hex digits, got "${e.sha256.slice(0, 70)}"`);
    if (!Number.isSafeInteger(e.bytes) || e.bytes < 0) throw new ConfigError('bytes', `must be a non-negative integer, got ${e.bytes}`);
    const jobId = e.jobId === undefined || e.jobId === '' ? null : e.jobId;
    this.queue.push([e.at ?? this.now(), e.direction, e.peer, e.kind, e.sender, e.receiver, jobId, e.round ?? null, e.bytes, e.sha256, e.correlationId ?? null]);
  }

  /**
   * Writes the queued message records now, in one transaction; a failed write keeps them queued.
   * @throws DataError when the database cannot be written.
   */
  flush(): void {
    if (this.db.open) this.queue.flush();
    else this.queue.cancel();
  }

  /** Number of message records waiting to be written. */
  get pending(): number {
    return this.queue.pending;
  }

  private writeRows(rows: readonly Params[]): void {
    try {
      this.db.transaction(() => {
        for (const r of rows) this.insert.run(...r);
      })();
    } catch (err) {
      throw new DataError({ file: this.path }, `cannot write ${rows.length} message records to the participant ledger: ${messageOf(err)}`, { cause: err });
    }
  }

  /**
   * Records a job configuration the coordinator offered, and whether this platform accepted it.
   * @throws ConfigError for an empty job id or a configuration that is not JSON-serialisable.
   */
  recordJobConfig(jobId: string, config: unknown, decision: { readonly accepted: boolean; readonly reason?: string }): void {
    if (jobId.length === 0) throw new ConfigError('jobId', 'must be a non-empty string');
    let text: string | undefined;
    try {
      text = JSON.stringify(config);
    } catch (err) {
      throw new ConfigError('config', `job "${jobId}": not serialisable as JSON (${messageOf(err)})`, { cause: err });
    }
    if (text === undefined) throw new ConfigError('config', `job "${jobId}": not serialisable as JSON`);
    const hash = createHash('sha256').update(text).digest('hex');
    this.db
      .prepare<Params>('INSERT INTO job_configs (at, job_id, config, sha256, accepted, reason) VALUES (?, ?, ?, ?, ?, ?)')
      .run(this.now(), jobId, text, hash, decision.accepted ? 1 : 0, decision.reason ?? null);
  }

  /**
   * Records one round of DP this platform applied (written at once: a budget must survive a crash).
   * A round recorded again (a retried request) keeps its first record.
   */
  recordPrivacy(r: PrivacySpentRecord): void {
    this.db
      .prepare<Params>('INSERT OR IGNORE INTO privacy_spent (at, job_id, round, unit, q, sigma, steps, epsilon, delta) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(this.now(), r.jobId, r.round, r.unit, r.q, r.sigma, r.steps, r.epsilon, r.delta);
  }

  /** The DP rounds this platform applied in a job, oldest first. */
  privacySpent(jobId: string): PrivacySpentRecord[] {
    type Row = { job_id: string; round: number; unit: string; q: number; sigma: number; steps: number; epsilon: number; delta: number };
    return this.db
      .prepare<[string], Row>('SELECT job_id, round, unit, q, sigma, steps, epsilon, delta FROM privacy_spent WHERE job_id = ? ORDER BY round, id')
      .all(jobId)
      .map((r) => ({ jobId: r.job_id, round: r.round, unit: r.unit === 'local' ? 'local' : 'learner', q: r.q, sigma: r.sigma, steps: r.steps, epsilon: r.epsilon, delta: r.delta }));
  }

  /** Messages matching `filter`, oldest first. @throws ConfigError for a limit that is not a positive integer. */
  entries(filter: LedgerFilter = {}): LedgerRow[] {
    this.flush();
    const conds: string[] = [];
    const args: unknown[] = [];
    const add = (cond: string, v: unknown): void => {
      conds.push(cond);
      args.push(v);
    };
    if (filter.direction !== undefined) add('direction = ?', filter.direction);
    if (filter.jobId !== undefined) add('job_id = ?', filter.jobId);
    if (filter.round !== undefined) add('round = ?', filter.round);
    if (filter.kind !== undefined) add('kind = ?', filter.kind);
    const where = conds.length > 0 ? `WHERE ${conds.join(' AND ')}` : '';
    let sql = `SELECT * FROM messages ${where} ORDER BY id`;
    if (filter.limit !== undefined) {
      if (!Number.isInteger(filter.limit) || filter.limit < 1) throw new ConfigError('limit', `must be a positive integer, got ${filter.limit}`);
      sql = `SELECT * FROM (SELECT * FROM messages ${where} ORDER BY id DESC LIMIT ?) ORDER BY id`;
      args.push(filter.limit);
    }
    return this.db.prepare<Params, MessageDbRow>(sql).all(...args).map(rowOf);
  }

  /** Job configurations offered, oldest first, optionally of one job. */
  jobConfigs(jobId?: string): JobConfigRecord[] {
    type Row = { id: number; at: number; job_id: string; config: string; sha256: string; accepted: number; reason: string | null };
    const rows =
      jobId === undefined
        ? this.db.prepare<[], Row>('SELECT * FROM job_configs ORDER BY id').all()
        : this.db.prepare<[string], Row>('SELECT * FROM job_configs WHERE job_id = ? ORDER BY id').all(jobId);
    return rows.map((r) => {
      const config: unknown = JSON.parse(r.config);
      return { id: r.id, at: r.at, jobId: r.job_id, config, sha256: r.sha256, accepted: r.accepted === 1, reason: r.reason };
    });
  }

  /** Totals by direction and kind, jobs seen, decisions on offered jobs, and the time span. */
  summary(): LedgerSummary {
    this.flush();
    type KindRow = { kind: string; direction: string; count: number; bytes: number };
    const byKind = this.db
      .prepare<[], KindRow>('SELECT kind, direction, COUNT(*) AS count, SUM(size_bytes) AS bytes FROM messages GROUP BY kind, direction ORDER BY kind, direction')
      .all()
      .map((r) => ({ kind: r.kind, direction: directionOf(r.direction), count: r.count, bytes: r.bytes }));
    const total = (d: 'sent' | 'received'): TrafficTotals =>
      byKind.filter((k) => k.direction === d).reduce((acc, k) => ({ count: acc.count + k.count, bytes: acc.bytes + k.bytes }), { count: 0, bytes: 0 });
    const jobs = this.db
      .prepare<[], { job_id: string }>(
        'SELECT job_id FROM messages WHERE job_id IS NOT NULL UNION SELECT job_id FROM job_configs ORDER BY job_id',
      )
      .all()
      .map((r) => r.job_id);
    const decisions = this.db
      .prepare<[], { accepted: number | null; refused: number | null }>(
        'SELECT SUM(accepted) AS accepted, SUM(1 - accepted) AS refused FROM job_configs',
      )
      .get();
    const span = this.db.prepare<[], { first: number | null; last: number | null }>('SELECT MIN(at) AS first, MAX(at) AS last FROM messages').get();
    return {
      sent: total('sent'),
      received: total('received'),
      byKind,
      jobs,
      jobConfigs: { accepted: decisions?.accepted ?? 0, refused: decisions?.refused ?? 0 },
      firstAt: span?.first ?? null,
      lastAt: span?.last ?? null,
    };
  }

  /** Writes the queued records and closes the database; the ledger must not be used afterwards. */
  close(): void {
    if (!this.db.open) return;
    try {
      this.flush();
    } finally {
      this.db.close();
    }
  }
}

function directionOf(s: string): 'sent' | 'received' {
  return s === 'received' ? 'received' : 'sent';
}

function rowOf(r: MessageDbRow): LedgerRow {
  return {
    id: r.id,
    at: r.at,
    direction: directionOf(r.direction),
    peer: r.peer,
    kind: r.kind,
    sender: r.sender,
    receiver: r.receiver,
    jobId: r.job_id,
    round: r.round,
    bytes: r.size_bytes,
    sha256: r.sha256,
    correlationId: r.correlation_id,
  };
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
