/**
 * The in-process harness of the `privacy-*` benchmarks: the coordinator's workflow
 * (`runHorizontalJob`) and every participant's role objects (`HorizontalParticipant` and its
 * `SecureRoles`) in one process, wired as `simulateHorizontal` wires them, plus participants that
 * crash in the middle of a round, which `simulateHorizontal` has no hook for (its `wrapCaller`
 * does not reach the secure protocols' local training).
 */
import { runHorizontalJob, type JobResult } from '../src/coordinator/horizontal-workflow.js';
import { jobFromFlags } from '../src/cli/job-flags.js';
import { EduFedError } from '../src/core/errors.js';
import type { RawTable } from '../src/data/table.js';
import { abortable, type ParticipantCaller } from '../src/federation/horizontal/caller.js';
import type { HorizontalJobConfig } from '../src/federation/horizontal/job-config.js';
import type { HorizontalReply, HorizontalRequest } from '../src/federation/horizontal/protocol.js';
import type { SecureCalls } from '../src/federation/secure-calls.js';
import { HorizontalParticipant } from '../src/participant/horizontal-participant.js';
import { SecureRoles } from '../src/participant/secure-roles.js';

/**
 * A participant that trains as usual, then fails before its update leaves: a platform crashing
 * mid-round. Under SecAgg+ this is a dropout at the collect stage, after it shared its keys, so the
 * coordinator must reconstruct its mask key from its neighbours' shares.
 */
class CrashingParticipant extends HorizontalParticipant {
  override async handle(jobId: string, req: HorizontalRequest): Promise<HorizontalReply> {
    const reply = await super.handle(jobId, req);
    if (req.step !== 'train' || reply.step !== 'train-result') return reply;
    return { step: 'error', from: 'participant', to: 'coordinator', payload: { code: 'PARTICIPANT', message: `${this.id} crashed after local training (benchmark dropout)` } };
  }
}

/** Options of {@link runInProcess}. */
export interface InProcessOptions {
  /** Participants that crash after local training in every round. */
  readonly crashing?: ReadonlySet<string>;
}

/** A finished in-process job and the CPU time this process spent on each of its rounds. */
export interface InProcessRun {
  readonly job: JobResult;
  /**
   * CPU time (user + system, every thread of this process) of each round in `job.rounds`, over the
   * same span as its `wallMs`. Less sensitive than wall time to other processes sharing the machine.
   */
  readonly roundCpuMs: readonly number[];
}

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/**
 * Runs a horizontal job (plain, SecAgg+ or CKKS, with or without DP, as its configuration says)
 * over in-process participants, each holding its own rows.
 * @throws what `runHorizontalJob` throws (RoundError when a round ends below quorum or a secure round aborts).
 */
export async function runInProcess(
  config: HorizontalJobConfig,
  parts: readonly { readonly id: string; readonly raw: RawTable }[],
  options: InProcessOptions = {},
): Promise<InProcessRun> {
  const crashing = options.crashing ?? new Set<string>();
  const participants = parts.map((p) =>
    crashing.has(p.id) ? new CrashingParticipant(p.id, p.raw, { seed: config.seed }) : new HorizontalParticipant(p.id, p.raw, { seed: config.seed }),
  );
  const callers = new Map<string, ParticipantCaller>();
  const roles = new Map<string, SecureRoles>();
  for (const p of participants) {
    callers.set(p.id, (req, opts) => abortable(p.handle(config.jobId, req), opts.signal, opts.timeoutMs));
    roles.set(p.id, new SecureRoles(p));
  }
  const roleOf = (id: string): SecureRoles => {
    const r = roles.get(id);
    if (r === undefined) throw new EduFedError('PARTICIPANT', `participant "${id}" is not part of this benchmark`);
    return r;
  };
  const secureCalls: SecureCalls = {
    secAgg: (id, req, o) => abortable(roleOf(id).secAgg(config.jobId, req), o.signal, o.timeoutMs),
    ckks: (id, req, o) => abortable(roleOf(id).ckks(config.jobId, req), o.signal, o.timeoutMs),
  };
  // The workflow asks for the participants before the statistics, at the start of every round, and
  // before the final evaluation: consecutive asks bracket the rounds as `wallMs` does.
  const marks: number[] = [];
  const job = await runHorizontalJob(
    config,
    () => {
      marks.push(cpuMs());
      return callers;
    },
    { secureCalls },
  );
  const roundCpuMs = job.rounds.map((_, i) => (marks[i + 2] ?? Number.NaN) - (marks[i + 1] ?? Number.NaN));
  return { job, roundCpuMs };
}

/**
 * The job `edufed simulate` runs with no flags but `--rounds` (13 OULAD regions, logistic regression,
 * FedAvg, E = 1, batch 32, η = 0.1, seed 42), built by the CLI's own flag parser so the two never drift.
 */
export function simulateDefaults(schema: HorizontalJobConfig['schema'], rounds: number): HorizontalJobConfig {
  return jobFromFlags({ rounds: String(rounds) }, schema, 'simulate-42');
}
