/**
 * The coordinator's read-only HTTP JSON API (status, participants, jobs, rounds, metrics, audit
 * metadata), on node:http without a framework. Bound to 127.0.0.1 unless told otherwise; no CORS
 * headers unless an origin is configured; errors are JSON bodies with the right status code and
 * never carry a stack trace. Read by `edufed status` and, later, the dashboard.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { ConfigError } from '../core/errors.js';
import type { AuditFilter, AuditRow, CheckpointInfo, CoordinatorStore, JobInfo, JobKind, JobStatus, ParticipantInfo, RoundRow } from './store.js';

/** The store methods the API reads; {@link CoordinatorStore} provides them. */
export type ApiSource = Pick<
  CoordinatorStore,
  'schemaVersion' | 'listParticipants' | 'listJobs' | 'getJob' | 'listRounds' | 'listCheckpoints' | 'listAudit' | 'auditCount'
>;

/** Options of {@link startHttpApi}. */
export interface HttpApiOptions {
  /** TCP port; 0 picks a free one (see the returned url). */
  readonly port: number;
  /** Interface to bind; default 127.0.0.1 (loopback only). */
  readonly host?: string;
  /** The one browser origin allowed to read the API (CORS); none by default. */
  readonly corsOrigin?: string;
  /** Receives unexpected errors; the client only sees a bare 500. */
  readonly onError?: (err: unknown) => void;
}

/** A running API server. */
export interface HttpApi {
  /** Base URL, e.g. http://127.0.0.1:8080 */
  readonly url: string;
  /** Stops accepting requests and closes open connections. */
  close(): Promise<void>;
}

/** Response of GET /api/health. */
export interface ApiHealth {
  readonly status: 'ok';
  readonly schemaVersion: number;
  /** Server time, ms since the Unix epoch. */
  readonly time: number;
  readonly participants: number;
  readonly jobs: Readonly<Record<JobStatus, number>>;
}

/** A job in GET /api/jobs: its row without the full configuration. */
export interface ApiJobSummary {
  readonly id: string;
  readonly kind: JobKind;
  readonly status: JobStatus;
  readonly createdAt: number;
  readonly startedAt: number | null;
  readonly finishedAt: number | null;
  readonly lastRound: number;
  readonly maxRounds: number;
  readonly strategy: string;
  readonly model: string;
  readonly stopReason: string | null;
  readonly error: string | null;
}

/** Response of GET /api/jobs. */
export interface ApiJobs {
  readonly jobs: readonly ApiJobSummary[];
}

/** Response of GET /api/participants. */
export interface ApiParticipants {
  readonly participants: readonly ParticipantInfo[];
}

/** Response of GET /api/jobs/:id. */
export interface ApiJobDetail {
  readonly job: JobInfo;
  readonly checkpoints: readonly CheckpointInfo[];
  readonly auditEntries: number;
}

/** Response of GET /api/jobs/:id/rounds (metric NaNs appear as null). */
export interface ApiRounds {
  readonly jobId: string;
  readonly rounds: readonly RoundRow[];
}

/** Response of GET /api/jobs/:id/metrics: one array per series, aligned on `round`; null where undefined. */
export interface ApiMetrics {
  readonly jobId: string;
  readonly round: readonly number[];
  readonly accuracy: readonly (number | null)[];
  readonly auc: readonly (number | null)[];
  readonly f1: readonly (number | null)[];
  readonly logLoss: readonly (number | null)[];
  readonly trainLoss: readonly (number | null)[];
  readonly wallMs: readonly number[];
  readonly received: readonly number[];
  readonly dropped: readonly number[];
}

/** Response of GET /api/audit. */
export interface ApiAudit {
  readonly total: number;
  readonly entries: readonly AuditRow[];
}

/** Error body of every non-2xx response. */
export interface ApiErrorBody {
  readonly error: string;
}

/** Largest `limit` (audit) and `last` (rounds) a client may ask for. */
export const MAX_PAGE = 10_000;

class HttpError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

type Query = URLSearchParams;
type Handler = (params: readonly string[], query: Query) => unknown;

/** Routes: path pattern (segments, ':' marks a parameter) → handler. */
function routes(store: ApiSource): readonly (readonly [readonly string[], Handler])[] {
  const job = (id: string): JobInfo => {
    const j = store.getJob(id);
    if (j === undefined) throw new HttpError(404, `no job "${id}"`);
    return j;
  };
  return [
    [['api', 'health'], (): ApiHealth => {
      const jobs: Record<JobStatus, number> = { pending: 0, running: 0, done: 0, failed: 0 };
      for (const j of store.listJobs()) jobs[j.status]++;
      return { status: 'ok', schemaVersion: store.schemaVersion, time: Date.now(), participants: store.listParticipants().length, jobs };
    }],
    [['api', 'participants'], (): ApiParticipants => ({ participants: store.listParticipants() })],
    [['api', 'jobs'], (): ApiJobs => ({ jobs: store.listJobs().map(summaryOf) })],
    [['api', 'jobs', ':id'], ([id = '']): ApiJobDetail => ({
      job: job(id),
      checkpoints: store.listCheckpoints(id),
      auditEntries: store.auditCount({ jobId: id }),
    })],
    [['api', 'jobs', ':id', 'rounds'], ([id = ''], q): ApiRounds => {
      job(id);
      const last = intParam(q, 'last');
      const rounds = store.listRounds(id);
      return { jobId: id, rounds: last === undefined ? rounds : rounds.slice(-last) };
    }],
    [['api', 'jobs', ':id', 'metrics'], ([id = '']): ApiMetrics => {
      job(id);
      const rounds = store.listRounds(id);
      return {
        jobId: id,
        round: rounds.map((r) => r.round),
        accuracy: rounds.map((r) => r.accuracy),
        auc: rounds.map((r) => r.auc),
        f1: rounds.map((r) => r.f1),
        logLoss: rounds.map((r) => r.logLoss),
        trainLoss: rounds.map((r) => r.trainLoss),
        wallMs: rounds.map((r) => r.wallMs),
        received: rounds.map((r) => r.received),
        dropped: rounds.map((r) => r.dropped),
      };
    }],
    [['api', 'audit'], (_p, q): ApiAudit => {
      const jobId = q.get('job') ?? undefined;
      const limit = intParam(q, 'limit') ?? 100;
      const filter: AuditFilter = jobId !== undefined ? { jobId, limit } : { limit };
      return { total: store.auditCount(jobId !== undefined ? { jobId } : {}), entries: store.listAudit(filter) };
    }],
  ];
}

function summaryOf(j: JobInfo): ApiJobSummary {
  return {
    id: j.id,
    kind: j.kind,
    status: j.status,
    createdAt: j.createdAt,
    startedAt: j.startedAt,
    finishedAt: j.finishedAt,
    lastRound: j.lastRound,
    maxRounds: j.config.rounds,
    strategy: j.config.strategy.name,
    model: j.config.model.kind,
    stopReason: j.stopReason,
    error: j.error,
  };
}

function intParam(q: Query, name: string): number | undefined {
  const s = q.get(name);
  if (s === null) return undefined;
  const n = Number(s);
  if (!/^\d+$/.test(s) || !Number.isSafeInteger(n) || n < 1 || n > MAX_PAGE) {
    throw new HttpError(400, `query parameter "${name}" must be an integer from 1 to ${MAX_PAGE}`);
  }
  return n;
}

function match(pattern: readonly string[], segments: readonly string[]): string[] | undefined {
  if (pattern.length !== segments.length) return undefined;
  const params: string[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i] ?? '';
    const s = segments[i] ?? '';
    if (p.startsWith(':')) params.push(s);
    else if (p !== s) return undefined;
  }
  return params;
}

/**
 * Starts the HTTP JSON API over `store`. Endpoints (GET or HEAD): /api/health, /api/participants,
 * /api/jobs, /api/jobs/:id, /api/jobs/:id/rounds[?last=N], /api/jobs/:id/metrics,
 * /api/audit[?limit=N&job=ID]. Unknown paths answer 404, other methods 405, bad query values 400.
 * @throws ConfigError when the port cannot be bound (in use, not permitted) or is out of range.
 */
export function startHttpApi(store: ApiSource, options: HttpApiOptions): Promise<HttpApi> {
  const host = options.host ?? '127.0.0.1';
  if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535) {
    return Promise.reject(new ConfigError('port', `must be an integer from 0 to 65535, got ${options.port}`));
  }
  const table = routes(store);
  const onError = options.onError ?? ((): void => undefined);

  const send = (req: IncomingMessage, res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): void => {
    const text = JSON.stringify(body);
    const headers: Record<string, string | number> = {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(text),
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      ...extra,
    };
    if (options.corsOrigin !== undefined) {
      headers['access-control-allow-origin'] = options.corsOrigin;
      headers.vary = 'Origin';
    }
    res.writeHead(status, headers);
    res.end(req.method === 'HEAD' ? undefined : text);
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      let segments: string[];
      try {
        segments = url.pathname.split('/').filter((s) => s.length > 0).map((s) => decodeURIComponent(s));
      } catch {
        throw new HttpError(400, 'malformed percent-encoding in the path');
      }
      for (const [pattern, handler] of table) {
        const params = match(pattern, segments);
        if (params === undefined) continue;
        if (req.method !== 'GET' && req.method !== 'HEAD') {
          send(req, res, 405, { error: `method ${req.method ?? ''} not allowed; use GET` } satisfies ApiErrorBody, { allow: 'GET, HEAD' });
          return;
        }
        send(req, res, 200, handler(params, url.searchParams));
        return;
      }
      throw new HttpError(404, `no such endpoint: ${url.pathname}`);
    } catch (err) {
      if (err instanceof HttpError) {
        send(req, res, err.status, { error: err.message } satisfies ApiErrorBody);
      } else {
        onError(err);
        send(req, res, 500, { error: 'internal error' } satisfies ApiErrorBody);
      }
    }
  };

  const server = createServer(handle);
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  server.keepAliveTimeout = 5_000;
  return new Promise<HttpApi>((resolve, reject) => {
    const fail = (err: Error): void => {
      reject(new ConfigError('port', `cannot serve the HTTP API on ${host}:${options.port}: ${err.message}`, { cause: err }));
    };
    server.once('error', fail);
    server.listen(options.port, host, () => {
      server.off('error', fail);
      server.on('error', onError);
      const addr = server.address();
      if (addr === null || typeof addr === 'string') {
        server.close();
        reject(new ConfigError('host', `"${host}" is not a TCP address`));
        return;
      }
      const shownHost = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
      resolve({
        url: `http://${shownHost}:${addr.port}`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
