/**
 * `edufed status`: reads a coordinator's HTTP JSON API and prints its participants, its jobs and,
 * for one job, its last rounds. Every response is validated before use: it comes over the network.
 */
import { parseArgs } from 'node:util';
import { ConfigError, ValidationError } from '../core/errors.js';
import { isRecord, num, record, str, type JsonRecord } from '../core/validate.js';
import { flagNumber, flagString } from './args.js';
import { formatTable } from './format-table.js';

const HELP = `edufed status --api URL [flags]

Shows a running coordinator's participants and jobs, read from its HTTP API.

Flags:
  --api URL     the coordinator's HTTP API, e.g. http://127.0.0.1:8080 (required)
  --job ID      also show this job's configuration summary and its last rounds
  --rounds N    how many of the job's last rounds to show (default 10)
  --json        print the responses as one JSON document instead of tables
`;

/** Where the command writes; process.stdout by default. */
export interface StatusOutput {
  write(chunk: string): unknown;
}

/** Request deadline; the API is local and small, so anything slower means a stuck coordinator. */
const TIMEOUT_MS = 10_000;

/**
 * Runs the status command; returns the exit code.
 * @throws ConfigError for a missing or malformed --api, an unreachable API, or an unknown --job;
 *   ValidationError when the API answers something that is not the expected JSON.
 */
export async function statusCommand(argv: readonly string[], out: StatusOutput = process.stdout): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      api: { type: 'string' },
      job: { type: 'string' },
      rounds: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help === true) {
    out.write(HELP);
    return 0;
  }
  const base = apiBase(flagString(values, 'api'));
  const jobId = flagString(values, 'job');
  const lastRounds = flagNumber(values, 'rounds', 10, { integer: true, min: 1, max: 10_000 });

  const [healthJson, participantsJson, jobsJson] = await Promise.all([
    getJson(base, '/api/health'),
    getJson(base, '/api/participants'),
    getJson(base, '/api/jobs'),
  ]);
  const health = parseHealth(healthJson);
  const participants = parseParticipants(participantsJson);
  const jobs = parseJobs(jobsJson);
  let job: { detail: unknown; rounds: unknown } | undefined;
  if (jobId !== undefined) {
    const path = `/api/jobs/${encodeURIComponent(jobId)}`;
    const [detail, rounds] = await Promise.all([getJson(base, path, jobId), getJson(base, `${path}/rounds?last=${lastRounds}`, jobId)]);
    job = { detail, rounds };
  }

  if (values.json === true) {
    const doc: Record<string, unknown> = { api: base, health: healthJson, participants: participantsJson, jobs: jobsJson };
    if (job !== undefined) {
      parseJobDetail(job.detail);
      parseRounds(job.rounds);
      doc.job = job.detail;
      doc.rounds = job.rounds;
    }
    out.write(`${JSON.stringify(doc, null, 2)}\n`);
    return 0;
  }

  const jobCounts = (['running', 'pending', 'done', 'failed'] as const)
    .map((s) => `${health.jobs[s]} ${s}`)
    .join(', ');
  out.write(`Coordinator ${base}: schema v${health.schemaVersion}, ${health.participants} participants; jobs: ${jobCounts}\n\n`);
  out.write('Participants\n');
  out.write(
    participants.length === 0
      ? '(none)\n'
      : `${formatTable(
          ['id', 'status', 'last seen (UTC)', 'flagged', 'last flag reason'],
          participants.map((p) => [p.id, p.status, when(p.lastSeen), p.flaggedCount, p.lastFlagReason ?? '']),
        )}\n`,
  );
  out.write('\nJobs\n');
  out.write(
    jobs.length === 0
      ? '(none)\n'
      : `${formatTable(
          ['id', 'kind', 'status', 'round', 'strategy', 'model', 'created (UTC)', 'stop reason / error'],
          jobs.map((j) => [j.id, j.kind, j.status, `${j.lastRound}/${j.maxRounds}`, j.strategy, j.model, when(j.createdAt), j.error ?? j.stopReason ?? '']),
        )}\n`,
  );
  if (job !== undefined) {
    const d = parseJobDetail(job.detail);
    const rounds = parseRounds(job.rounds);
    const withEpsilon = rounds.some((r) => r.epsilon !== undefined);
    out.write(`\nJob ${d.id}: ${d.status}, round ${d.lastRound}/${d.maxRounds}, ${d.strategy}, ${d.model}`);
    if (d.checkpoint !== undefined) out.write(`; checkpoint of round ${d.checkpoint.round} (sha256 ${d.checkpoint.sha256.slice(0, 12)}…)`);
    out.write('\n');
    if (d.error !== null) out.write(`error: ${d.error}\n`);
    if (d.stopReason !== null) out.write(`stopped: ${d.stopReason}\n`);
    out.write(
      rounds.length === 0
        ? '(no completed rounds)\n'
        : `${formatTable(
            ['round', 'accuracy', 'auc', 'f1', 'log loss', 'train loss', 'in', 'dropped', ...(withEpsilon ? ['ε'] : []), 'wall ms'],
            rounds.map((r) => [
              r.round, nan(r.accuracy), nan(r.auc), nan(r.f1), nan(r.logLoss), nan(r.trainLoss), r.received, r.dropped,
              ...(withEpsilon ? [r.epsilon ?? NaN] : []),
              Math.round(r.wallMs),
            ]),
          )}\n`,
    );
    const drops = rounds.flatMap((r) => r.droppedDetail.map((x) => `  round ${r.round}: ${x.participantId}${x.flagged ? ' (flagged)' : ''}: ${x.reason}`));
    if (drops.length > 0) out.write(`Dropped:\n${drops.join('\n')}\n`);
  }
  return 0;
}

function apiBase(api: string | undefined): string {
  if (api === undefined) throw new ConfigError('--api', 'is required, e.g. --api http://127.0.0.1:8080');
  let url: URL;
  try {
    url = new URL(api);
  } catch {
    throw new ConfigError('--api', `"${api}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError('--api', `"${api}" must be an http or https URL`);
  return url.href.replace(/\/+$/, '');
}

async function getJson(base: string, path: string, jobId?: string): Promise<unknown> {
  const url = `${base}${path}`;
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS), headers: { accept: 'application/json' } });
  } catch (err) {
    const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : err instanceof Error ? err.message : String(err);
    throw new ConfigError('--api', `cannot reach the coordinator API at ${url}: ${cause}`, { cause: err });
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ValidationError(undefined, `${url} answered HTTP ${res.status} with a body that is not JSON`);
  }
  if (res.status === 404 && jobId !== undefined) throw new ConfigError('--job', `the coordinator at ${base} has no job "${jobId}"`);
  if (!res.ok) {
    const message = isRecord(body) && typeof body.error === 'string' ? body.error : 'no error message';
    throw new ConfigError('--api', `${url} answered HTTP ${res.status}: ${message}`);
  }
  return body;
}

// ---------------------------------------------------------------------------------------------
// Validation of API responses
// ---------------------------------------------------------------------------------------------

interface Health {
  readonly schemaVersion: number;
  readonly participants: number;
  readonly jobs: { readonly pending: number; readonly running: number; readonly done: number; readonly failed: number };
}
interface Participant {
  readonly id: string;
  readonly status: string;
  readonly lastSeen: number;
  readonly flaggedCount: number;
  readonly lastFlagReason: string | null;
}
interface JobSummary {
  readonly id: string;
  readonly kind: string;
  readonly status: string;
  readonly createdAt: number;
  readonly lastRound: number;
  readonly maxRounds: number;
  readonly strategy: string;
  readonly model: string;
  readonly stopReason: string | null;
  readonly error: string | null;
}
interface JobDetail extends Omit<JobSummary, 'createdAt' | 'kind'> {
  readonly checkpoint: { readonly round: number; readonly sha256: string } | undefined;
}
interface Round {
  readonly round: number;
  readonly accuracy: number | null;
  readonly auc: number | null;
  readonly f1: number | null;
  readonly logLoss: number | null;
  readonly trainLoss: number | null;
  readonly wallMs: number;
  readonly received: number;
  readonly dropped: number;
  readonly droppedDetail: readonly { readonly participantId: string; readonly reason: string; readonly flagged: boolean }[];
  /** ε spent up to this round, for DP jobs. */
  readonly epsilon: number | undefined;
}

function array(obj: JsonRecord, key: string, where: string): unknown[] {
  const v = obj[key];
  if (!Array.isArray(v)) throw new ValidationError(undefined, `${where}.${key}: expected an array`);
  return v;
}

function nullableNum(obj: JsonRecord, key: string, where: string): number | null {
  return obj[key] === null ? null : num(obj, key, where);
}

function nullableStr(obj: JsonRecord, key: string, where: string): string | null {
  return obj[key] === null || obj[key] === undefined ? null : str(obj, key, where);
}

function count(obj: JsonRecord, key: string, where: string): number {
  return num(obj, key, where, { integer: true, min: 0 });
}

function parseHealth(v: unknown): Health {
  const h = record(v, 'health');
  const jobs = record(h.jobs, 'health.jobs');
  return {
    schemaVersion: count(h, 'schemaVersion', 'health'),
    participants: count(h, 'participants', 'health'),
    jobs: {
      pending: count(jobs, 'pending', 'health.jobs'),
      running: count(jobs, 'running', 'health.jobs'),
      done: count(jobs, 'done', 'health.jobs'),
      failed: count(jobs, 'failed', 'health.jobs'),
    },
  };
}

function parseParticipants(v: unknown): Participant[] {
  return array(record(v, 'participants response'), 'participants', 'participants response').map((x, i) => {
    const where = `participants[${i}]`;
    const p = record(x, where);
    return {
      id: str(p, 'id', where),
      status: str(p, 'status', where),
      lastSeen: num(p, 'lastSeen', where),
      flaggedCount: count(p, 'flaggedCount', where),
      lastFlagReason: nullableStr(p, 'lastFlagReason', where),
    };
  });
}

function parseJobs(v: unknown): JobSummary[] {
  return array(record(v, 'jobs response'), 'jobs', 'jobs response').map((x, i) => {
    const where = `jobs[${i}]`;
    const j = record(x, where);
    return {
      id: str(j, 'id', where),
      kind: str(j, 'kind', where),
      status: str(j, 'status', where),
      createdAt: num(j, 'createdAt', where),
      lastRound: count(j, 'lastRound', where),
      maxRounds: count(j, 'maxRounds', where),
      strategy: str(j, 'strategy', where),
      model: str(j, 'model', where),
      stopReason: nullableStr(j, 'stopReason', where),
      error: nullableStr(j, 'error', where),
    };
  });
}

function parseJobDetail(v: unknown): JobDetail {
  const d = record(v, 'job response');
  const j = record(d.job, 'job');
  const config = record(j.config, 'job.config');
  const checkpoints = array(d, 'checkpoints', 'job response');
  const newest = checkpoints[0] === undefined ? undefined : record(checkpoints[0], 'checkpoints[0]');
  return {
    id: str(j, 'id', 'job'),
    status: str(j, 'status', 'job'),
    lastRound: count(j, 'lastRound', 'job'),
    maxRounds: count(config, 'rounds', 'job.config'),
    strategy: str(record(config.strategy, 'job.config.strategy'), 'name', 'job.config.strategy'),
    model: str(record(config.model, 'job.config.model'), 'kind', 'job.config.model'),
    stopReason: nullableStr(j, 'stopReason', 'job'),
    error: nullableStr(j, 'error', 'job'),
    checkpoint: newest === undefined ? undefined : { round: count(newest, 'round', 'checkpoints[0]'), sha256: str(newest, 'sha256', 'checkpoints[0]') },
  };
}

function parseRounds(v: unknown): Round[] {
  return array(record(v, 'rounds response'), 'rounds', 'rounds response').map((x, i) => {
    const where = `rounds[${i}]`;
    const r = record(x, where);
    const rec = record(r.record, `${where}.record`);
    const droppedDetail = array(rec, 'dropped', `${where}.record`).map((y, k) => {
      const w = `${where}.record.dropped[${k}]`;
      const dr = record(y, w);
      if (typeof dr.flagged !== 'boolean') throw new ValidationError(undefined, `${w}.flagged: expected a boolean`);
      return { participantId: str(dr, 'participantId', w), reason: str(dr, 'reason', w), flagged: dr.flagged };
    });
    return {
      round: count(r, 'round', where),
      accuracy: nullableNum(r, 'accuracy', where),
      auc: nullableNum(r, 'auc', where),
      f1: nullableNum(r, 'f1', where),
      logLoss: nullableNum(r, 'logLoss', where),
      trainLoss: nullableNum(r, 'trainLoss', where),
      wallMs: num(r, 'wallMs', where),
      received: count(r, 'received', where),
      dropped: count(r, 'dropped', where),
      droppedDetail,
      epsilon: rec['privacy'] !== undefined ? num(record(rec['privacy'], `${where}.record.privacy`), 'epsilon', `${where}.record.privacy`) : undefined,
    };
  });
}

function nan(x: number | null): number {
  return x ?? NaN;
}

function when(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? '?' : d.toISOString().replace('T', ' ').slice(0, 19);
}
