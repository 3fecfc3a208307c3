/**
 * Runs one real deployment for the `deployment-*` benchmarks: keys, data files and configurations
 * laid out by `prepareLocalDeployment`, then a coordinator process and participant processes talking
 * gRPC over mutual TLS on loopback. Reads the coordinator's `--events` stream, samples the processes'
 * memory and CPU time from /proc, and returns the rounds as the coordinator's database recorded them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { EDUFED_MAIN, prepareLocalDeployment } from '../src/cli/local-deployment.js';
import type { RoundRecord } from '../src/coordinator/horizontal-workflow.js';
import { CoordinatorStore } from '../src/coordinator/store.js';
import { EduFedError } from '../src/core/errors.js';
import { isRecord } from '../src/core/validate.js';
import type { Schema } from '../src/data/schema.js';
import type { HorizontalJobConfig } from '../src/federation/horizontal/job-config.js';
import type { RawPart } from '../src/simulation/partition-raw.js';

/**
 * How participants run: `processes`, one OS process each (`edufed participant --config`); `hosted`,
 * every participant's connection inside one child process (bench/deploy-worker.ts), which keeps the
 * real transport, TLS and coordinator but not the process isolation.
 */
export type ParticipantMode = 'processes' | 'hosted';

/** What to deploy. */
export interface DeploymentSpec {
  readonly parts: readonly RawPart[];
  readonly schema: Schema;
  readonly job: HorizontalJobConfig;
  readonly mode?: ParticipantMode;
  /** Kill everything and fail after this long (default 10 minutes). */
  readonly timeoutMs?: number;
  /** How long the coordinator waits for every participant to connect (default 5 minutes). */
  readonly startTimeoutMs?: number;
  /** Round after which the steady-state CPU time of the processes starts being counted (default 2). */
  readonly warmRounds?: number;
  readonly log?: (line: string) => void;
  /** Extra Node flags for the coordinator process (e.g. `--cpu-prof` to see where its time goes). */
  readonly coordinatorNodeArgs?: readonly string[];
  /** Extra environment variables for every process (e.g. GRPC_TRACE=keepalive to see dropped connections). */
  readonly env?: Readonly<Record<string, string>>;
  /** Receives the coordinator's stdout lines that are not job events (e.g. from `--trace-gc`). */
  readonly onCoordinatorLine?: (line: string) => void;
  /** Extra Node flags for the participant processes. */
  readonly participantNodeArgs?: readonly string[];
}

/** Resident memory of one process, from /proc/PID/status. */
export interface ProcessMemory {
  /** VmRSS: resident set now, KiB. */
  readonly rssKiB: number;
  /** VmHWM: peak resident set so far, KiB. */
  readonly hwmKiB: number;
  /** RssAnon, RssFile, RssShmem: the resident set by kind (heap and buffers; mapped files; shared memory), KiB. */
  readonly anonKiB: number;
  readonly fileKiB: number;
  readonly shmemKiB: number;
}

/** What one deployment measured. */
export interface DeploymentRun {
  /** Rounds as the coordinator's database holds them. */
  readonly rounds: readonly RoundRecord[];
  /** Milliseconds between consecutive round events (the first from the previous event), as seen by this process. */
  readonly roundIntervalMs: readonly number[];
  /** Coordinator VmRSS (KiB) sampled when each round's event arrived. */
  readonly coordinatorRssKiB: readonly number[];
  /** The coordinator's full memory sample at each round's event. */
  readonly coordinatorMemory: readonly (ProcessMemory | undefined)[];
  /** Memory of each participant process (hosted: of the one host process), sampled at the last round. */
  readonly participantMemory: readonly ProcessMemory[];
  /** Participant processes that were running (1 in hosted mode). */
  readonly participantProcesses: number;
  /** Mean CPU time per round after the warm-up rounds: coordinator, and all participant processes together. */
  readonly cpuPerRoundMs: { readonly coordinator: number; readonly participants: number };
  /** Keys, data files and configurations. */
  readonly prepareMs: number;
  /** From spawning the processes to the training phase (data loaded, connected, statistics agreed). */
  readonly startMs: number;
  /** From spawning to the coordinator's exit. */
  readonly totalMs: number;
  /** Messages in the coordinator's audit log for the job. */
  readonly auditMessages: number;
  /** Parameters of the final global model. */
  readonly numParams: number;
}

const HOST_WORKER = fileURLToPath(new URL('./deploy-worker.js', import.meta.url));
const USER_HZ = 100;

function statusField(text: string, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
  return m !== null ? Number(m[1]) : Number.NaN;
}

/** VmRSS and VmHWM of a process; undefined once it has gone (or off Linux). */
export function processMemory(pid: number | undefined): ProcessMemory | undefined {
  if (pid === undefined) return undefined;
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    return {
      rssKiB: statusField(text, 'VmRSS'),
      hwmKiB: statusField(text, 'VmHWM'),
      anonKiB: statusField(text, 'RssAnon'),
      fileKiB: statusField(text, 'RssFile'),
      shmemKiB: statusField(text, 'RssShmem'),
    };
  } catch {
    return undefined;
  }
}

/** User + system CPU time of a process so far, in ms; NaN once it has gone. */
export function processCpuMs(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): utime and stime are fields 14 and 15.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
    return (((f[11] ?? 0) + (f[12] ?? 0)) * 1000) / USER_HZ;
  } catch {
    return Number.NaN;
  }
}

interface Child {
  readonly name: string;
  readonly proc: ChildProcess;
  /** The last lines of its stderr, for error messages. */
  readonly tail: string[];
  /** Connections this process dropped because its peer did not answer a keepalive ping (seen with GRPC_TRACE=keepalive). */
  readonly keepaliveDrops: { count: number };
  readonly exit: Promise<number>;
}

/** What a participant's gRPC keepalive trace says when the coordinator did not answer its ping in time. */
const KEEPALIVE_DROP = 'Ping timeout passed without response';

function startChild(name: string, env: Readonly<Record<string, string>> | undefined, args: readonly string[], onStdoutLine?: (line: string) => void): Child {
  const proc = spawn(process.execPath, [...args], { stdio: ['ignore', 'pipe', 'pipe'], ...(env !== undefined ? { env: { ...process.env, ...env } } : {}) });
  const tail: string[] = [];
  const keepaliveDrops = { count: 0 };
  createInterface({ input: proc.stderr as NodeJS.ReadableStream }).on('line', (l) => {
    if (l.includes(KEEPALIVE_DROP)) keepaliveDrops.count++;
    // grpc-js trace lines ("D <time> | ...") stay out of the tail.
    if (l.startsWith('D ')) return;
    tail.push(l);
    if (tail.length > 40) tail.shift();
  });
  const out = createInterface({ input: proc.stdout as NodeJS.ReadableStream });
  if (onStdoutLine !== undefined) out.on('line', onStdoutLine);
  const exit = new Promise<number>((resolve) => proc.once('exit', (code, signal) => resolve(code ?? (signal !== null ? 128 : 1))));
  return { name, proc, tail, keepaliveDrops, exit };
}

/**
 * Deploys the job on loopback and runs it to the end.
 * @throws {EduFedError} when the coordinator fails, exits early or the run times out (with its log's last lines).
 */
export async function runDeployment(spec: DeploymentSpec): Promise<DeploymentRun> {
  const mode = spec.mode ?? 'processes';
  const warm = spec.warmRounds ?? 2;
  const log = spec.log ?? ((): void => undefined);
  const dir = mkdtempSync(join(tmpdir(), 'edufed-bench-deploy-'));
  const children: Child[] = [];
  try {
    const t0 = performance.now();
    const d = await prepareLocalDeployment(dir, spec.parts, spec.job, spec.schema, { startTimeoutMs: spec.startTimeoutMs ?? 300_000 });
    const prepareMs = performance.now() - t0;

    const tSpawn = performance.now();
    let trainingAt = Number.NaN;
    let lastEventAt = Number.NaN;
    const intervals: number[] = [];
    const coordinatorRss: number[] = [];
    const coordinatorMemory: (ProcessMemory | undefined)[] = [];
    let participantMemory: ProcessMemory[] = [];
    let cpuWarm: { c: number; p: number; round: number } | undefined;
    let cpuLast: { c: number; p: number; round: number } | undefined;
    const participantPids = (): (number | undefined)[] => children.slice(1).map((c) => c.proc.pid);
    const cpuNow = (round: number): { c: number; p: number; round: number } => ({
      c: processCpuMs(coordinator.proc.pid),
      p: participantPids().reduce<number>((s, pid) => s + processCpuMs(pid), 0),
      round,
    });
    const onLine = (line: string): void => {
      let e: unknown;
      try {
        e = JSON.parse(line);
      } catch {
        spec.onCoordinatorLine?.(line);
        return;
      }
      if (!isRecord(e)) return;
      const now = performance.now();
      if (e['type'] === 'phase' && e['phase'] === 'training') {
        trainingAt = now;
        lastEventAt = now;
      }
      if (e['type'] !== 'round' || !isRecord(e['record'])) return;
      const round = Number(e['record']['round']);
      const maxRounds = Number(e['maxRounds']);
      intervals.push(now - lastEventAt);
      lastEventAt = now;
      const mem = processMemory(coordinator.proc.pid);
      coordinatorMemory.push(mem);
      coordinatorRss.push(mem?.rssKiB ?? Number.NaN);
      if (round === warm) cpuWarm = cpuNow(round);
      if (round === maxRounds) {
        cpuLast = cpuNow(round);
        participantMemory = participantPids().flatMap((pid) => processMemory(pid) ?? []);
      }
      if (round % 10 === 0 || round === maxRounds) log(`    round ${round}/${maxRounds}: ${Math.round(Number(e['record']['wallMs']))} ms`);
    };
    const coordinator = startChild('coordinator', spec.env, [...(spec.coordinatorNodeArgs ?? []), EDUFED_MAIN, 'coordinator', '--config', d.coordinatorConfig, '--events'], onLine);
    children.push(coordinator);
    if (mode === 'processes') {
      for (const p of d.participants) children.push(startChild(p.id, spec.env, [...(spec.participantNodeArgs ?? []), EDUFED_MAIN, 'participant', '--config', p.config]));
    } else {
      children.push(startChild('participant host', spec.env, [...(spec.participantNodeArgs ?? []), HOST_WORKER, ...d.participants.map((p) => p.config)]));
    }
    const timeoutMs = spec.timeoutMs ?? 600_000;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const code = await Promise.race([coordinator.exit, timedOut]);
    clearTimeout(timer);
    const totalMs = performance.now() - tSpawn;
    if (code !== 0) {
      const why = code === 'timeout' ? `did not finish within ${timeoutMs / 1000} s` : `exited with code ${code}`;
      const troubled = children.slice(1).find((c) => c.tail.some((l) => / (ERROR|WARN) /.test(l))) ?? children[1];
      const theirs = troubled !== undefined ? `\n${troubled.name}'s last log lines:\n${troubled.tail.slice(-8).join('\n')}` : '';
      const participantDrops = children.slice(1).reduce((n, c) => n + c.keepaliveDrops.count, 0);
      const coordinatorDrops = coordinator.keepaliveDrops.count;
      const keepalive = participantDrops + coordinatorDrops > 0
        ? `\nkeepalive ping unanswered in time: ${participantDrops} participant connection(s) dropped by the participant side, ${coordinatorDrops} by the coordinator side`
        : '';
      throw new EduFedError('INTERNAL', `the coordinator ${why}${keepalive}; its last log lines:\n${coordinator.tail.slice(-8).join('\n')}${theirs}`);
    }
    const store = new CoordinatorStore(d.database);
    const rounds = store.listRounds(spec.job.jobId).map((r) => r.record);
    const auditMessages = store.auditCount({ jobId: spec.job.jobId });
    const numParams = store.loadResume(spec.job.jobId)?.params.length ?? 0;
    store.close();
    const steady = cpuWarm !== undefined && cpuLast !== undefined && cpuLast.round > cpuWarm.round ? cpuLast.round - cpuWarm.round : 0;
    return {
      rounds,
      roundIntervalMs: intervals,
      coordinatorRssKiB: coordinatorRss,
      coordinatorMemory,
      participantMemory,
      participantProcesses: children.length - 1,
      cpuPerRoundMs: {
        coordinator: steady > 0 && cpuWarm !== undefined && cpuLast !== undefined ? (cpuLast.c - cpuWarm.c) / steady : Number.NaN,
        participants: steady > 0 && cpuWarm !== undefined && cpuLast !== undefined ? (cpuLast.p - cpuWarm.p) / steady : Number.NaN,
      },
      prepareMs,
      startMs: trainingAt - tSpawn,
      totalMs,
      auditMessages,
      numParams,
    };
  } finally {
    for (const c of children) if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGTERM');
    const grace = setTimeout(() => {
      for (const c of children) if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
    }, 5000);
    await Promise.all(children.map((c) => c.exit));
    clearTimeout(grace);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Coordination overhead of each round: its wall time minus the slowest participant's local training. */
export function overheadMs(r: RoundRecord): number {
  return r.wallMs - r.maxTrainMs;
}

/** The q-quantile (0 ≤ q ≤ 1) by linear interpolation between order statistics; NaN for an empty list. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = s[lo] as number;
  return a + ((s[hi] as number) - a) * (pos - lo);
}

/** Rounds `from`..`to` (1-based, inclusive) of a run. */
export function roundsBetween(rounds: readonly RoundRecord[], from: number, to = Number.POSITIVE_INFINITY): RoundRecord[] {
  return rounds.filter((r) => r.round >= from && r.round <= to);
}
