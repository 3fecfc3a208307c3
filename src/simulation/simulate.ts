/**
 * Simulation: the coordinator's workflow and every participant's role object in one process, joined
 * by an in-memory transport. The same objects run in deployment; only the transport differs.
 */
import type { RawTable } from '../data/table.js';
import { abortable, type ParticipantCaller } from '../federation/horizontal/caller.js';
import type { HorizontalJobConfig } from '../federation/horizontal/job-config.js';
import { runHorizontalJob, type JobEvent, type JobResult } from '../coordinator/horizontal-workflow.js';
import { HorizontalParticipant } from '../participant/horizontal-participant.js';
import { compareModels, type Comparison } from './report.js';
import { SecureRoles } from '../participant/secure-roles.js';
import type { ParticipantPolicy } from '../participant/policy.js';
import type { SecureCalls } from '../federation/secure-calls.js';

/** Options of a simulation run. */
export interface SimulationOptions {
  readonly onEvent?: (e: JobEvent) => void;
  /** Compute the centralized and local-only baselines and δ (default true). */
  readonly compare?: boolean;
  readonly onBaselineProgress?: (what: string) => void;
  /**
   * Optional wrapper around each in-memory call, e.g. to round-trip messages through the wire codec
   * or to inject failures in tests.
   */
  readonly wrapCaller?: (id: string, call: ParticipantCaller) => ParticipantCaller;
  /** Each simulated platform's own policy, by participant id (e.g. its privacy budget). */
  readonly policies?: Readonly<Record<string, ParticipantPolicy>>;
}

/** A finished simulation. */
export interface SimulationResult {
  readonly job: JobResult;
  readonly comparison: Comparison | undefined;
  readonly timings: { readonly federatedMs: number; readonly totalMs: number };
  readonly participants: readonly HorizontalParticipant[];
}

/** Runs a horizontal job over participants that each hold their own rows. */
export async function simulateHorizontal(
  config: HorizontalJobConfig,
  parts: readonly { readonly id: string; readonly raw: RawTable }[],
  options: SimulationOptions = {},
): Promise<SimulationResult> {
  const t0 = performance.now();
  const participants = parts.map((p) => {
    const policy = options.policies?.[p.id];
    return new HorizontalParticipant(p.id, p.raw, { seed: config.seed, ...(policy !== undefined ? { policy } : {}) });
  });
  const callers = new Map<string, ParticipantCaller>();
  for (const p of participants) {
    const direct: ParticipantCaller = (req) => p.handle(config.jobId, req);
    const inner = options.wrapCaller !== undefined ? options.wrapCaller(p.id, direct) : direct;
    // Deadlines and cancellation apply in simulation as over the network.
    callers.set(p.id, (req, opts) => abortable(inner(req, opts), opts.signal, opts.timeoutMs));
  }
  const roles = new Map(participants.map((p) => [p.id, new SecureRoles(p)]));
  const roleOf = (id: string): SecureRoles => {
    const r = roles.get(id);
    if (r === undefined) throw new Error(`participant "${id}" is not part of this simulation`);
    return r;
  };
  const secureCalls: SecureCalls = {
    secAgg: (id, req, o) => abortable(roleOf(id).secAgg(config.jobId, req), o.signal, o.timeoutMs),
    ckks: (id, req, o) => abortable(roleOf(id).ckks(config.jobId, req), o.signal, o.timeoutMs),
  };
  const job = await runHorizontalJob(config, () => callers, { ...(options.onEvent !== undefined ? { onEvent: options.onEvent } : {}), secureCalls });
  const federatedMs = performance.now() - t0;
  let comparison: Comparison | undefined;
  // A job stopped before its first round (a privacy budget, say) has no model to compare.
  if (options.compare !== false && job.rounds.length > 0) {
    const joined = participants.filter((p) => job.participants.includes(p.id));
    const data = joined.map((p) => {
      const local = p.localData(config.jobId);
      return { id: p.id, train: local.train, test: local.test, federatedParams: p.effectiveParams(config.jobId, job.params) };
    });
    comparison = compareModels(job.model, data, config.strategy, job.rounds.length, config.seed, options.onBaselineProgress);
  }
  return { job, comparison, timings: { federatedMs, totalMs: performance.now() - t0 }, participants };
}
