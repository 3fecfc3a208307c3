/**
 * `synthetic-lr`: the shared side-by-side workload (/work/shared/bench/synthetic-lr): 10 clients ×
 * 5,000 rows, logistic regression from zeros, FedAvg, 20 rounds, on exactly the given float64 data.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from '../src/core/errors.js';
import { metricsExact } from '../src/core/metrics.js';
import { hashString, seededRng } from '../src/core/rng.js';
import type { Dataset } from '../src/data/dataset.js';
import { createModel } from '../src/models/create-model.js';
import type { Model } from '../src/models/model.js';
import { trainLocal } from '../src/models/train.js';
import { linePlot } from '../src/plot/line-plot.js';
import { createStrategy } from '../src/strategy/create-strategy.js';
import type { ClientUpdate } from '../src/strategy/strategy.js';
import type { Benchmark, BenchContext, BenchSection } from './benchmark.js';
import { fixed, mdTable, ms } from './format.js';
import { PLOT_HEIGHT, rangeBelowLegend } from './plot-range.js';
import { CLIENTS, D, missingSyntheticFiles, readSyntheticLr, REFERENCE_ACCURACY, REFERENCE_TOLERANCE, ROUNDS, TRAIN_ROWS_PER_CLIENT } from './synthetic-lr-data.js';
import { median } from './stats.js';



/** Rows [from, to) as a float32 Dataset (the models' input type; values are rounded once from float64). */
function slice(x: Float64Array, y: Float64Array, from: number, to: number, source: string): Dataset {
  const n = to - from;
  const labels = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const v = y[from + i] as number;
    if (v !== 0 && v !== 1) throw new DataError({ file: source, row: from + i + 1 }, `label ${v} is not 0 or 1`);
    labels[i] = v;
  }
  return { x: Float32Array.from(x.subarray(from * D, to * D)), y: labels, n, d: D, numClasses: 2 };
}

interface RunResult {
  readonly accuracy: number[];
  /** Per round: all clients' local training plus aggregation. */
  readonly roundMs: number[];
  /** Per round: evaluation of the global model on the 10,000 test rows. */
  readonly evalMs: number[];
}

/** FedAvg over the clients with the same Strategy and trainLocal that a HorizontalParticipant runs. */
function federate(model: Model, clients: readonly Dataset[], test: Dataset, seed: number): RunResult {
  const strategy = createStrategy(
    { name: 'fedavg', fractionFit: 1, minFit: 1, epochs: 1, batchSize: 32, learningRate: 0.1 },
    model.layout,
  );
  const ids = clients.map((_, i) => `client-${i}`);
  const selectRng = seededRng(hashString(`${seed}|select`));
  let global = model.init(seededRng(seed));
  const accuracy: number[] = [];
  const roundMs: number[] = [];
  const evalMs: number[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const t0 = performance.now();
    const plan = strategy.configureTrain(round, ids, selectRng);
    const updates: ClientUpdate[] = plan.selected.map((id) => {
      const data = clients[ids.indexOf(id)] as Dataset;
      const rng = seededRng(hashString(`${seed}|${id}|${round}`));
      const r = trainLocal(model, global, data, plan.instructions, rng, { anchor: global });
      return { participantId: id, params: r.params, numExamples: r.numExamples };
    });
    global = strategy.aggregateTrain(round, global, updates);
    const t1 = performance.now();
    const probs = model.predict(global, test.x, test.n);
    accuracy.push(metricsExact(probs, test.y, test.n, 2).accuracy);
    const t2 = performance.now();
    roundMs.push(t1 - t0);
    evalMs.push(t2 - t1);
  }
  return { accuracy, roundMs, evalMs };
}

async function run(ctx: BenchContext): Promise<BenchSection> {
  const dir = ctx.syntheticDir;
  const missing = missingSyntheticFiles(dir);
  if (missing.length > 0) {
    return { body: `Skipped: ${missing.join(', ')} not found in \`${dir}\` (give the folder with \`--synthetic-dir DIR\`).`, targets: [] };
  }
  const nTrain = CLIENTS * TRAIN_ROWS_PER_CLIENT;
  const tLoad = performance.now();
  const { trainX, trainY, testX, testY } = readSyntheticLr(dir);
  const clients = Array.from({ length: CLIENTS }, (_, i) => slice(trainX, trainY, i * TRAIN_ROWS_PER_CLIENT, (i + 1) * TRAIN_ROWS_PER_CLIENT, 'train_y.f64'));
  const test = slice(testX, testY, 0, testY.length, 'test_y.f64');
  const loadMs = performance.now() - tLoad;
  const firstRow = [trainX[0], trainX[1], trainX[2]].map((v) => (v ?? NaN).toFixed(5)).join(', ');
  let positives = 0;
  for (const v of trainY) positives += v;

  const model = createModel({ kind: 'logistic' }, D, 2);
  const seeds = ctx.quick ? [1, 2] : [1, 2, 3, 4, 5];
  const runs = seeds.map((s) => federate(model, clients, test, s));
  const finals = runs.map((r) => r.accuracy[ROUNDS - 1] as number);
  const meanFinal = finals.reduce((a, b) => a + b, 0) / finals.length;
  const sd = Math.sqrt(finals.reduce((a, b) => a + (b - meanFinal) ** 2, 0) / Math.max(1, finals.length - 1));
  const allRoundMs = runs.flatMap((r) => r.roundMs);
  const medRound = median(allRoundMs);
  const medEval = median(runs.flatMap((r) => r.evalMs));
  const within = Math.abs(meanFinal - REFERENCE_ACCURACY) <= REFERENCE_TOLERANCE;
  ctx.log(`  final accuracy ${finals.map((a) => a.toFixed(4)).join(', ')}; median round ${medRound.toFixed(1)} ms`);

  const plotFile = 'synthetic-lr-accuracy.svg';
  const meanPerRound = Array.from({ length: ROUNDS }, (_, j) => runs.reduce((a, r) => a + (r.accuracy[j] as number), 0) / runs.length);
  const lowPerRound = Array.from({ length: ROUNDS }, (_, j) => Math.min(...runs.map((r) => r.accuracy[j] as number)));
  const highPerRound = Array.from({ length: ROUNDS }, (_, j) => Math.max(...runs.map((r) => r.accuracy[j] as number)));
  const plotSeries = [
    { name: `EduFed FedAvg, mean of ${seeds.length} shuffle seeds`, points: meanPerRound.map((a, j) => [j + 1, a] as const) },
    { name: 'lowest of the seeds', points: lowPerRound.map((a, j) => [j + 1, a] as const) },
    { name: 'highest of the seeds', points: highPerRound.map((a, j) => [j + 1, a] as const) },
    { name: `reference: final accuracy ${REFERENCE_ACCURACY} (Python framework, round ${ROUNDS})`, points: [[1, REFERENCE_ACCURACY], [ROUNDS, REFERENCE_ACCURACY]] as const },
  ];
  writeFileSync(
    join(ctx.plotsDir, plotFile),
    linePlot(plotSeries, {
      title: `synthetic-lr: test accuracy per FedAvg round (${CLIENTS} clients × ${TRAIN_ROWS_PER_CLIENT} rows)`,
      xLabel: 'round',
      yLabel: 'test accuracy (10,000 rows)',
      width: 720,
      height: PLOT_HEIGHT,
      yRange: rangeBelowLegend([...lowPerRound, ...highPerRound, REFERENCE_ACCURACY], plotSeries.length),
    }),
  );

  const show = [1, 2, 5, 10, 15, 20].filter((r) => r <= ROUNDS);
  const body = [
    `Data: \`${dir}\` (not copied into the repo; ${(((nTrain + testY.length) * (D + 1) * 8) / 1e6).toFixed(0)} MB of raw float64), loaded in ${ms(loadMs)}. Check: first training`,
    `row starts ${firstRow} (meta.json: -1.20832, -0.00445, 0.65647); training positive rate ${(positives / nTrain).toFixed(5)} (meta.json: 0.52538).`,
    '',
    `Protocol (the README's): ${CLIENTS} clients, client i holds training rows [5000 i, 5000 (i + 1)); logistic regression, 50 weights`,
    `+ bias from zeros; each round every client runs 1 local epoch of mini-batch SGD (batch 32, η = 0.1, mean BCE gradient,`,
    `its own shuffle); FedAvg weighted by examples; ${ROUNDS} rounds; the global model is scored on the 10,000 test rows after`,
    'every round.',
    '',
    'How it runs here: the simulation API (`simulateHorizontal`) takes raw tables and always applies the federated',
    'standardisation and its own per-participant train/test split, which would change both the model and the test rows.',
    'So this benchmark drives the pure core directly: the same `createStrategy({ name: \'fedavg\', ... })` object and the same',
    '`trainLocal` that each `HorizontalParticipant` calls, on the data exactly as given (no standardisation), in one',
    'process, without the coordinator\'s messages, update screening and evaluation summaries. The only change to the inputs',
    'is the rounding of features from float64 to float32 (the models\' input type; the kernels compute in float64).',
    `Shuffles come from EduFed's seeded generator, not numpy's, so ${seeds.length} shuffle seeds are run to show the spread.`,
    '',
    mdTable(
      ['round', ...show.map(String)],
      runs.map((r, i) => [`accuracy, seed ${seeds[i] ?? i}`, ...show.map((s) => fixed(r.accuracy[s - 1], 4))]),
    ),
    '',
    mdTable(
      ['measure', 'value'],
      [
        ['final accuracy (round 20), mean ± sd over seeds', `${meanFinal.toFixed(4)} ± ${sd.toFixed(4)} (${finals.map((a) => a.toFixed(4)).join(', ')})`],
        ['reference (Python framework, same protocol)', `${REFERENCE_ACCURACY} ± ${REFERENCE_TOLERANCE}`],
        ['generating model\'s own test accuracy (meta.json)', '0.9152'],
        ['round time (10 clients × 5,000 rows training + FedAvg aggregation), median', ms(medRound)],
        ['round time range (all seeds, all rounds)', `${ms(Math.min(...allRoundMs))} – ${ms(Math.max(...allRoundMs))}`],
        ['evaluation on 10,000 test rows, median', ms(medEval)],
        ['training throughput in a round', `${Math.round(nTrain / (medRound / 1000)).toLocaleString('en-US')} samples/s`],
      ],
    ),
    '',
    `Result: mean final accuracy ${meanFinal.toFixed(4)} is ${within ? '**within**' : '**outside**'} the reference ${REFERENCE_ACCURACY} ± ${REFERENCE_TOLERANCE}.`,
    '',
    `![synthetic-lr accuracy per round](${ctx.plotsLink}/${plotFile})`,
  ].join('\n');
  return {
    body,
    targets: [
      {
        target: `synthetic-lr final accuracy ${REFERENCE_ACCURACY} ± ${REFERENCE_TOLERANCE} (reference framework)`,
        measured: `${meanFinal.toFixed(4)} ± ${sd.toFixed(4)} over ${seeds.length} seeds; ${ms(medRound)} per round`,
        met: within,
      },
    ],
  };
}

/** The `synthetic-lr` benchmark. */
export const syntheticLrBenchmark: Benchmark = { name: 'synthetic-lr', title: 'Shared workload: synthetic-lr (side by side)', run };
