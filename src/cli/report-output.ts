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
  }[];
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
    })),
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

/** Prints the per-round table, the comparison and the per-participant gains. */
export function printReport(report: JobReport, out: NodeJS.WritableStream): void {
  const w = (s: string): void => void out.write(`${s}\n`);
  w('');
  w(`Job ${report.config.jobId}: ${report.config.strategy.name}, ${report.config.model.kind}, ${report.participants} participants, ` +
    `${report.featureDim} features, ${report.numParams} parameters; stopped: ${report.stopReason}`);
  w('');
  const last = report.rounds.slice(-5);
  w(formatTable(
    ['round', 'in', 'dropped', 'train loss', 'accuracy', 'AUC', 'F1', 'log-loss', 'ms'],
    last.map((r) => [r.round, r.received, r.dropped.length, r.trainLoss, r.metrics.accuracy, r.metrics.auc, r.metrics.f1, r.metrics.logLoss, Math.round(r.wallMs)]),
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
