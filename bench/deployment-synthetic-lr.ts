/**
 * `deployment-synthetic-lr`: the shared side-by-side workload (/work/shared/bench/synthetic-lr) run as a
 * real deployment: a coordinator and 10 participant processes over mutual TLS on loopback, each
 * participant reading its own CSV file with its own train/test split.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from '../src/core/errors.js';
import type { Schema } from '../src/data/schema.js';
import type { HorizontalJobConfig } from '../src/federation/horizontal/job-config.js';
import { linePlot } from '../src/plot/line-plot.js';
import type { RawPart } from '../src/simulation/partition-raw.js';
import type { Benchmark, BenchContext, BenchSection } from './benchmark.js';
import { runDeployment, overheadMs, quantile, roundsBetween } from './deployment-run.js';
import { fixed, mdTable, ms, verdict } from './format.js';
import { PLOT_HEIGHT, rangeBelowLegend } from './plot-range.js';
import {
  CLIENTS,
  D,
  missingSyntheticFiles,
  readSyntheticLr,
  REFERENCE_ACCURACY,
  REFERENCE_TOLERANCE,
  ROUNDS,
  TEST_ROWS as TEST_ROWS_TOTAL,
  TRAIN_ROWS_PER_CLIENT,
} from './synthetic-lr-data.js';

/** Test rows per client: the 10,000 test rows split evenly. */
const TEST_ROWS = TEST_ROWS_TOTAL / CLIENTS;
/** The issue's figures for a Python framework on this machine and workload (ms per round). */
const PYTHON_DEPLOYMENT_MS = 10_000;
const PYTHON_GRPC_MS: readonly [number, number] = [50, 70];
/** Our reading of "beat both by a wide margin": at least this many times faster than the faster Python figure. */
const MARGIN = 2;


const header = ['row', 'split', ...Array.from({ length: D }, (_, j) => `x${j}`), 'y'];

/** The schema every platform shares: two id columns, 50 features used as they are, a 0/1 label. */
export const SYNTHETIC_SCHEMA: Schema = {
  version: 1,
  name: 'synthetic-lr',
  columns: [
    { name: 'row', type: 'id' },
    { name: 'split', type: 'id' },
    ...Array.from({ length: D }, (_, j) => ({ name: `x${j}`, type: 'numeric' as const, missing: 'error' as const, scale: 'none' as const })),
    { name: 'y', type: 'label', classes: ['0', '1'], positive: ['1'] },
  ],
};

/** Client i: its 5,000 training rows and test rows [1000 i, 1000 (i + 1)), as a table with a split column. */
function clientParts(dir: string): RawPart[] {
  const { trainX, trainY, testX, testY } = readSyntheticLr(dir);
  const row = (x: Float64Array, y: Float64Array, i: number, split: string, file: string): string[] => {
    const label = y[i] as number;
    if (label !== 0 && label !== 1) throw new DataError({ file, row: i + 1 }, `label ${label} is not 0 or 1`);
    const out = [`${split}-${i}`, split];
    // Shortest round-trip decimal: the CSV carries exactly the float64 value of the file.
    for (let j = 0; j < D; j++) out.push(String(x[i * D + j]));
    out.push(String(label));
    return out;
  };
  return Array.from({ length: CLIENTS }, (_, c) => {
    const rows: string[][] = [];
    for (let i = c * TRAIN_ROWS_PER_CLIENT; i < (c + 1) * TRAIN_ROWS_PER_CLIENT; i++) rows.push(row(trainX, trainY, i, 'train', 'train_y.f64'));
    for (let i = c * TEST_ROWS; i < (c + 1) * TEST_ROWS; i++) rows.push(row(testX, testY, i, 'test', 'test_y.f64'));
    return { id: `client-${c}`, raw: { source: `client-${c}.csv`, header, rows } };
  });
}

/** The README's protocol as a job: each platform's own split, LR from zeros, FedAvg, 20 rounds. */
export function syntheticJob(): HorizontalJobConfig {
  return {
    jobId: 'synthetic-lr',
    schema: SYNTHETIC_SCHEMA,
    testFraction: 0.2,
    splitSeed: 0,
    splitColumn: 'split',
    model: { kind: 'logistic' },
    strategy: { name: 'fedavg', fractionFit: 1, minFit: 1, epochs: 1, batchSize: 32, learningRate: 0.1 },
    rounds: ROUNDS,
    seed: 1,
    roundTimeoutMs: 120_000,
  };
}

async function run(ctx: BenchContext): Promise<BenchSection> {
  const dir = ctx.syntheticDir;
  const missing = missingSyntheticFiles(dir);
  if (missing.length > 0) {
    return { body: `Skipped: ${missing.join(', ')} not found in \`${dir}\` (give the folder with \`--synthetic-dir DIR\`).`, targets: [] };
  }
  const tRead = performance.now();
  const parts = clientParts(dir);
  const readMs = performance.now() - tRead;
  const job = syntheticJob();
  const r = await runDeployment({ parts, schema: SYNTHETIC_SCHEMA, job, log: ctx.log });
  const last = r.rounds[r.rounds.length - 1];
  if (last === undefined || r.rounds.length !== ROUNDS) {
    return { body: `**The deployment ended after ${r.rounds.length} of ${ROUNDS} rounds.**`, targets: [] };
  }
  const finalAcc = last.metrics.accuracy;
  const within = Math.abs(finalAcc - REFERENCE_ACCURACY) <= REFERENCE_TOLERANCE;
  const walls = r.rounds.map((x) => x.wallMs);
  const steady = roundsBetween(r.rounds, 3);
  const steadyWalls = steady.map((x) => x.wallMs);
  const medWall = quantile(walls, 0.5);
  const medSteady = quantile(steadyWalls, 0.5);
  const overhead = steady.map(overheadMs);
  const intervals = r.roundIntervalMs.slice(2);
  const speedDeploy = PYTHON_DEPLOYMENT_MS / medWall;
  const speedGrpc = PYTHON_GRPC_MS[0] / medWall;
  const fast = speedGrpc >= MARGIN;
  ctx.log(`  final accuracy ${finalAcc.toFixed(4)} on ${last.metrics.n} rows; median round ${medWall.toFixed(1)} ms`);

  const plotFile = 'deployment-synthetic-lr-rounds.svg';
  const series = [
    { name: 'round wall time (coordinator)', points: r.rounds.map((x) => [x.round, x.wallMs] as const) },
    { name: 'slowest participant\'s local training', points: r.rounds.map((x) => [x.round, x.maxTrainMs] as const) },
    { name: 'overhead = wall − slowest training', points: r.rounds.map((x) => [x.round, overheadMs(x)] as const) },
  ];
  const yCap = Math.max(quantile(walls, 0.9), ...steadyWalls);
  writeFileSync(
    join(ctx.plotsDir, plotFile),
    linePlot(series, {
      title: `synthetic-lr deployed: ${CLIENTS} participant processes, mutual TLS, loopback`,
      xLabel: 'round',
      yLabel: 'milliseconds',
      width: 720,
      height: PLOT_HEIGHT,
      yRange: rangeBelowLegend([0, yCap], series.length),
    }),
  );

  const show = [1, 2, 5, 10, 15, 20];
  const body = [
    `Data: \`${dir}\` (read in ${ms(readMs)}; not copied into the repo). Each of the ${CLIENTS} platforms gets its own CSV file:`,
    `client i holds training rows [5000 i, 5000 (i + 1)) marked \`split = train\` and test rows [1000 i, 1000 (i + 1)) marked`,
    '`split = test`, so the 10 platforms together hold all 10,000 test rows. The schema declares `row` and `split` as `id`,',
    'x0..x49 as numeric with `"scale": "none"` (used exactly as given, no standardisation; the CSV carries each float64',
    'value\'s shortest round-trip decimal, parsed to the models\' float32) and `y` as the label. The job uses',
    '`splitColumn: \'split\'`, logistic regression from zeros, FedAvg weighted by examples (C = 1, E = 1, batch 32,',
    `η = 0.1), ${ROUNDS} rounds. A coordinator process and ${CLIENTS} \`edufed participant\` processes talk gRPC over mutual TLS on`,
    'loopback with their real SQLite database, audit log and ledgers; the final accuracy is the coordinator\'s metric merged',
    'from every platform\'s evaluation summary. Local shuffles come from EduFed\'s seeded generator, not numpy\'s, so equality',
    `to the last digit with the reference is not expected; the target is ${REFERENCE_ACCURACY} ± ${REFERENCE_TOLERANCE}.`,
    '',
    mdTable(['round', ...show.map(String)], [['test accuracy (deployed)', ...show.map((s) => fixed(r.rounds[s - 1]?.metrics.accuracy, 4))]]),
    '',
    mdTable(
      ['measure', 'value'],
      [
        [`final accuracy (round ${ROUNDS}) on ${last.metrics.n.toLocaleString('en-US')} test rows`, `**${finalAcc.toFixed(4)}** (AUC ${last.metrics.auc.toFixed(4)})`],
        ['reference (Python framework, same protocol)', `${REFERENCE_ACCURACY} ± ${REFERENCE_TOLERANCE}`],
        [`round wall time, median / p90 (rounds 1–${ROUNDS})`, `**${ms(medWall)}** / ${ms(quantile(walls, 0.9))}`],
        [`round wall time, median / p90 (rounds 3–${ROUNDS})`, `${ms(medSteady)} / ${ms(quantile(steadyWalls, 0.9))}`],
        ['slowest participant\'s local training (1 epoch, 5,000 rows), median', ms(quantile(steady.map((x) => x.maxTrainMs), 0.5))],
        [`overhead = wall − slowest training, median / p90 (rounds 3–${ROUNDS})`, `${ms(quantile(overhead, 0.5))} / ${ms(quantile(overhead, 0.9))}`],
        ['train phase (send model → last update), aggregation, evaluation phase, medians', [
          ms(quantile(steady.map((x) => x.trainPhaseMs), 0.5)),
          ms(quantile(steady.map((x) => x.aggregateMs), 0.5)),
          ms(quantile(steady.map((x) => x.evaluatePhaseMs), 0.5)),
        ].join(', ')],
        ['round to round as seen on the events stream (adds the checkpoint), median', ms(quantile(intervals, 0.5))],
        ['CPU time per round (rounds 3–20, user + system): coordinator, all 10 participants together', `${ms(r.cpuPerRoundMs.coordinator)}, ${ms(r.cpuPerRoundMs.participants)}`],
        ['start: processes spawned → training (data loaded, TLS, statistics agreed)', ms(r.startMs)],
        ['whole job, spawn to coordinator exit', ms(r.totalMs)],
        ['messages in the coordinator\'s audit log', r.auditMessages.toLocaleString('en-US')],
      ],
    ),
    '',
    'Side by side with the issue\'s figures for a Python framework measured on this machine on this exact workload',
    '(cited from the issue, not re-measured here):',
    '',
    mdTable(
      ['runtime', 'time per round', 'EduFed deployed is'],
      [
        ['Python framework, current deployment runtime (a process per message, polling sleeps)', `≈ ${ms(PYTHON_DEPLOYMENT_MS)}`, `${speedDeploy.toFixed(0)}× faster`],
        ['Python framework, older long-lived gRPC mode', `${PYTHON_GRPC_MS[0]}–${PYTHON_GRPC_MS[1]} ms`, `${speedGrpc.toFixed(1)}–${(PYTHON_GRPC_MS[1] / medWall).toFixed(1)}× faster`],
        [`EduFed, ${CLIENTS + 1} processes over mutual TLS (median round wall time)`, ms(medWall), '—'],
      ],
    ),
    '',
    `Result: final accuracy ${finalAcc.toFixed(4)} is ${within ? '**within**' : '**outside**'} ${REFERENCE_ACCURACY} ± ${REFERENCE_TOLERANCE}; a round takes ${ms(medWall)}`,
    `(median): ${speedGrpc >= 1 ? `${speedGrpc.toFixed(1)}× faster than` : `${(1 / speedGrpc).toFixed(1)}× slower than`} the older gRPC mode's best ${PYTHON_GRPC_MS[0]} ms, and ${speedDeploy.toFixed(0)}× faster than the deployment runtime.`,
    `"A wide margin" is read here as at least ${MARGIN}× faster than ${PYTHON_GRPC_MS[0]} ms: ${verdict(fast)}.`,
    '',
    `![synthetic-lr deployed: time per round](${ctx.plotsLink}/${plotFile})`,
  ].join('\n');
  return {
    body,
    targets: [
      {
        target: `synthetic-lr deployed (10 participant processes): final accuracy ${REFERENCE_ACCURACY} ± ${REFERENCE_TOLERANCE}`,
        measured: `${finalAcc.toFixed(4)} on ${last.metrics.n} test rows`,
        met: within,
      },
      {
        target: `synthetic-lr deployed: round time beats ≈ 10 s and 50–70 ms per round by a wide margin (our reading: ≥ ${MARGIN}× faster than 50 ms)`,
        measured: `${ms(medWall)} median (${speedDeploy.toFixed(0)}× and ${speedGrpc.toFixed(1)}× faster)`,
        met: fast,
      },
    ],
  };
}

/** The `deployment-synthetic-lr` benchmark. */
export const deploymentSyntheticLrBenchmark: Benchmark = {
  name: 'deployment-synthetic-lr',
  title: 'Deployment: synthetic-lr over real processes and mutual TLS',
  run,
};
