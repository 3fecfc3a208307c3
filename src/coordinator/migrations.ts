/**
 * Versioned SQLite schema migrations: an ordered list of SQL scripts, version n being the n-th
 * (1-based). Applied versions are recorded in `schema_migrations`; each pending script runs in its
 * own transaction, so a crash mid-upgrade leaves the database at the last fully applied version.
 * Used by the coordinator store and by the participant ledger, each with its own list.
 */
import type { Database } from 'better-sqlite3';
import { DataError } from '../core/errors.js';

/**
 * The coordinator database, version by version. Append only: never edit a released entry, add a
 * new one that alters the schema instead.
 */
export const COORDINATOR_MIGRATIONS: readonly string[] = [
  // 1: participants, jobs, rounds, checkpoints, flags, audit log.
  `
  CREATE TABLE participants (
    id               TEXT PRIMARY KEY,
    cert_fingerprint TEXT,
    cert_serial      TEXT,
    first_seen       INTEGER NOT NULL,
    last_seen        INTEGER NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('connected', 'disconnected', 'revoked')),
    flagged_count    INTEGER NOT NULL DEFAULT 0,
    last_flag_reason TEXT
  ) STRICT;

  CREATE TABLE jobs (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('horizontal', 'vertical', 'transfer', 'analytics')),
    config      TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('pending', 'running', 'done', 'failed')),
    created_at  INTEGER NOT NULL,
    started_at  INTEGER,
    finished_at INTEGER,
    stop_reason TEXT,
    encoder     TEXT,
    error       TEXT
  ) STRICT;

  CREATE TABLE rounds (
    job_id       TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    round        INTEGER NOT NULL CHECK (round >= 1),
    record       TEXT NOT NULL,
    accuracy     REAL,
    auc          REAL,
    f1           REAL,
    log_loss     REAL,
    train_loss   REAL,
    wall_ms      REAL NOT NULL,
    received     INTEGER NOT NULL,
    dropped      INTEGER NOT NULL,
    completed_at INTEGER NOT NULL,
    PRIMARY KEY (job_id, round)
  ) STRICT;

  CREATE TABLE checkpoints (
    job_id         TEXT NOT NULL,
    round          INTEGER NOT NULL,
    params         BLOB NOT NULL,
    strategy_state BLOB NOT NULL,
    sha256         TEXT NOT NULL,
    state_sha256   TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    PRIMARY KEY (job_id, round),
    FOREIGN KEY (job_id, round) REFERENCES rounds(job_id, round) ON DELETE CASCADE
  ) STRICT;

  CREATE TABLE flags (
    id             INTEGER PRIMARY KEY,
    participant_id TEXT NOT NULL REFERENCES participants(id),
    job_id         TEXT REFERENCES jobs(id) ON DELETE CASCADE,
    round          INTEGER,
    reason         TEXT NOT NULL,
    ts             INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX flags_by_participant ON flags(participant_id);

  CREATE TABLE audit (
    id         INTEGER PRIMARY KEY,
    ts         INTEGER NOT NULL,
    kind       TEXT NOT NULL,
    sender     TEXT NOT NULL,
    receiver   TEXT NOT NULL,
    job_id     TEXT,
    round      INTEGER,
    size_bytes INTEGER NOT NULL,
    sha256     TEXT NOT NULL,
    correlation_id TEXT
  ) STRICT;
  CREATE INDEX audit_by_job ON audit(job_id, round);
  `,
];

/**
 * Brings `db` up to the last version of `migrations`, and returns that version. Idempotent: applied
 * versions are skipped. The version check runs under a write lock, so two processes opening the same
 * file at once cannot both apply a script.
 * @param file names the database in errors.
 * @throws DataError when the database was written by a newer EduFed (its version exceeds the list),
 *   or when a script fails (the failing version is rolled back and named).
 */
export function applyMigrations(db: Database, migrations: readonly string[], file: string): number {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
  const current = db.prepare<[], { v: number | null }>('SELECT MAX(version) AS v FROM schema_migrations');
  const record = db.prepare<[number, number], unknown>('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)');
  const upgrade = db.transaction((): number => {
    const from = current.get()?.v ?? 0;
    if (from > migrations.length) {
      throw new DataError(
        { file },
        `database schema version ${from} is newer than this EduFed supports (${migrations.length}); upgrade EduFed or use another database file`,
      );
    }
    return from;
  });
  let version = upgrade.immediate();
  while (version < migrations.length) {
    const next = version + 1;
    const script = migrations[version] ?? '';
    const step = db.transaction((): number => {
      // Re-read under the lock: another process may have applied this version meanwhile.
      const now = current.get()?.v ?? 0;
      if (now >= next) return now;
      try {
        db.exec(script);
      } catch (err) {
        throw new DataError({ file }, `schema migration ${next} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      }
      record.run(next, Date.now());
      return next;
    });
    version = step.immediate();
  }
  return version;
}

/** The schema version recorded in `db` (0 for a database without migrations). */
export function schemaVersion(db: Database): number {
  const exists = db.prepare<[], { n: number }>("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").get();
  if (exists === undefined || exists.n === 0) return 0;
  return db.prepare<[], { v: number | null }>('SELECT MAX(version) AS v FROM schema_migrations').get()?.v ?? 0;
}
