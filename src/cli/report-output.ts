/**
 * The report of a job, as JSON (for `--json`) and as readable tables.
 */
import type { Metrics } from '../core/metrics.js';
import type { HorizontalJobConfig } from '../federation/horizontal/job-config.js';
import type { DataSourceConfig } from '../participant/data-source.js';
import type { PartitionSpec } from '../simulation/partition-raw.js';
import type { SimulationResult } from '../simulation/simulate.js';
import type { Comparison } from '../simulation/report.js';
import { formatTable } from './format-table.js';

/** The JSON report written by `--json`. */
export interface JobReport {
  readonly edufed: string;
  readonly createdAt: string;
  readonly mode: 'simulation' | 'deployment';
  readonly config: HorizontalJobConfig;
  readonly seed: number;
  readonly data: { readonly source: DataSourceConfig; readonly partition: PartitionSpec | string };
  readonly participants: number;
  readonly featureDim: number;
  readonly numParams: number;
  readonly stopReason: string;
  readonly rounds: readonly {
    readonly round: number;
    readonly metrics: Metrics;
    readonly trainLoss: number;
    readonly selected: number;
    readonly received: number;
    readonly dropped: readonly { readonly participantId: string; readonly reason: string; readonly flagged: boolean }[];
    readonly wallMs: number;
    readonly maxTrainMs: number;
    readonly aggregateMs: number;
    readonly trainPhaseMs: number;
    readonly evaluatePhaseMs: number;
    readonly aggregation?: string;
    readonly privacy?: { readonly unit: string; readonly epsilon: number; readonly delta: number; readonly noiseMultiplier: number; readonly clipNorm: number; readonly perParticipant?: Readonly<Record<string, number>> };
  }[];
  /** ε spent by the whole job (absent without DP). */
  readonly privacy: { readonly unit: string; readonly epsilon: number; readonly delta: number; readonly perParticipant?: Readonly<Record<string, number>> } | null;
  readonly comparison: Comparison | null;
  readonly timings: Readonly<Record<string, number>>;
}

/** Assembles the report of a simulation. */
export function buildReport(args: {
  job: HorizontalJobConfig;
  sim: Pick<SimulationResult, 'job' | 'comparison' | 'timings'>;
  source: DataSourceConfig;
  partition: PartitionSpec | string;
  loadMs: number;
  mode?: 'simulation' | 'deployment';
}): JobReport {
  const { sim } = args;
  const c = sim.comparison;
  return {
    edufed: '0.1.0',
    createdAt: new Date().toISOString(),
    mode: args.mode ?? 'simulation',
    config: args.job,
    seed: args.job.seed,
    data: { source: args.source, partition: args.partition },
    participants: sim.job.participants.length,
    featureDim: sim.job.encoder.dim,
    numParams: sim.job.model.numParams,
    stopReason: sim.job.stopReason,
    rounds: sim.job.rounds.map((r) => ({
      round: r.round,
      metrics: r.metrics,
      trainLoss: r.trainLoss,
      selected: r.selected.length,
      received: r.received.length,
      dropped: r.dropped,
      wallMs: r.wallMs,
      maxTrainMs: r.maxTrainMs,
      aggregateMs: r.aggregateMs,
      trainPhaseMs: r.trainPhaseMs,
      evaluatePhaseMs: r.evaluatePhaseMs,
      ...(r.aggregation !== undefined ? { aggregation: r.aggregation } : {}),
      ...(r.privacy !== undefined
        ? {
            privacy: {
              unit: r.privacy.unit,
              epsilon: r.privacy.epsilon,
              delta: r.privacy.delta,
              noiseMultiplier: r.privacy.noiseMultiplier,
              clipNorm: r.privacy.clipNorm,
              ...(r.privacy.perParticipant !== undefined ? { perParticipant: r.privacy.perParticipant } : {}),
            },
          }
        : {}),
    })),
    privacy: privacySpent(sim.job.rounds),
    comparison: c ?? null,
    timings: {
      loadMs: args.loadMs,
      federatedMs: sim.timings.federatedMs,
      ...(c !== undefined ? { centralizedMs: c.timings.centralizedMs, localOnlyMs: c.timings.localOnlyMs } : {}),
      totalMs: sim.timings.totalMs,
      meanRoundMs: sim.job.rounds.reduce((s, r) => s + r.wallMs, 0) / Math.max(1, sim.job.rounds.length),
    },
  };
}

function privacySpent(rounds: SimulationResult['job']['rounds']): JobReport['privacy'] {
  const last = rounds[rounds.length - 1]?.privacy;
  if (last === undefined) return null;
  return { unit: last.unit, epsilon: last.epsilon, delta: last.delta, ...(last.perParticipant !== undefined ? { perParticipant: last.perParticipant } : {}) };
}

/** One sentence on how a job protected its updates and what DP it spent. */
export function privacyLine(report: Pick<JobReport, 'config' | 'privacy'>): string | undefined {
  const p = report.config.privacy;
  if (p === undefined) return undefined;
  const aggregation = p.aggregation ?? 'plain';
  const how = aggregation === 'secagg+' ? 'SecAgg+ (the coordinator saw only sums)' : aggregation === 'ckks' ? 'CKKS (the coordinator added ciphertexts)' : 'plain updates';
  const spent = report.privacy;
  if (p.dp === undefined || spent === null) return `Privacy: ${how}; no differential privacy.`;
  const unit = spent.unit === 'learner' ? 'learner-level (DP-SGD on each platform)' : spent.unit === 'platform' ? 'platform-level (DP-FedAvg)' : 'local';
  const worst = spent.perParticipant !== undefined ? ' (the largest over platforms)' : '';
  return `Privacy: ${how}; ${unit} DP spent ε = ${spent.epsilon.toFixed(3)}${worst} at δ = ${spent.delta}.`;
}

/** Prints the per-round table, the comparison and the per-participant gains. */
export function printReport(report: JobReport, out: NodeJS.WritableStream): void {
  const w = (s: string): void => void out.write(`${s}\n`);
  w('');
  w(`Job ${report.config.jobId}: ${report.config.strategy.name}, ${report.config.model.kind}, ${report.participants} participants, ` +
    `${report.featureDim} features, ${report.numParams} parameters; stopped: ${report.stopReason}`);
  const privacy = privacyLine(report);
  if (privacy !== undefined) w(privacy);
  w('');
  const last = report.rounds.slice(-5);
  const withEpsilon = report.privacy !== null;
  w(formatTable(
    ['round', 'in', 'dropped', 'train loss', 'accuracy', 'AUC', 'F1', 'log-loss', ...(withEpsilon ? ['ε'] : []), 'ms'],
    last.map((r) => [
      r.round, r.received, r.dropped.length, r.trainLoss, r.metrics.accuracy, r.metrics.auc, r.metrics.f1, r.metrics.logLoss,
      ...(withEpsilon ? [r.privacy?.epsilon ?? NaN] : []),
      Math.round(r.wallMs),
    ]),
  ));
  const c = report.comparison;
  if (c === null) return;
  w('');
  w(`Same test rows (${c.federated.n}), baselines trained for ${c.baselineEpochs} epochs:`);
  const row = (name: string, m: Metrics): (string | number)[] => [name, m.accuracy, m.auc, m.f1, m.logLoss];
  w(formatTable(['model', 'accuracy', 'AUC', 'F1', 'log-loss'], [
    row('federated', c.federated),
    row('centralized (pooled)', c.centralized),
    row('local-only', c.localOnly),
    ['δ = |fed − central|', c.delta.accuracy, c.delta.auc, c.delta.f1, c.delta.logLoss],
  ]));
  w('');
  w('Per participant (federated vs training alone, on its own test rows):');
  const shown = c.perParticipant.length > 20 ? [...c.perParticipant].sort((a, b) => a.numTrain - b.numTrain).slice(0, 20) : c.perParticipant;
  w(formatTable(
    ['participant', 'train', 'test', 'fed acc', 'local acc', 'gain', 'fed AUC', 'local AUC', 'gain'],
    shown.map((p) => [p.id, p.numTrain, p.numTest, p.federated.accuracy, p.localOnly.accuracy, p.gain.accuracy, p.federated.auc, p.localOnly.auc, p.gain.auc]),
  ));
  if (shown.length < c.perParticipant.length) w(`(the 20 smallest of ${c.perParticipant.length} participants shown; all are in --json)`);
}
