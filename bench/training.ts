/**
 * `training`: local SGD throughput (samples per second on one core) of the models' hand-written
 * kernels, through `trainLocal`, the exact step a participant runs each round.
 */
import { seededRng } from '../src/core/rng.js';
import type { Dataset } from '../src/data/dataset.js';
import { createModel } from '../src/models/create-model.js';
import type { ModelSpec } from '../src/models/model.js';
import { trainLocal } from '../src/models/train.js';
import type { Benchmark, BenchContext, BenchSection, TargetResult } from './benchmark.js';
import { count, fixed, mdTable, verdict } from './format.js';
import { median, timeRepeats } from './stats.js';

const D = 50;
const REPEATS = 5;
/** The target for logistic regression. */
const TARGET_SAMPLES_PER_S = 1_000_000;

/** n rows of N(0, 1) features with labels drawn from a random linear model over `numClasses` classes. */
function syntheticDataset(n: number, d: number, numClasses: number, seed: number): Dataset {
  const rng = seededRng(seed);
  const outputs = numClasses === 2 ? 1 : numClasses;
  const w = Float64Array.from({ length: outputs * d }, () => rng.normal());
  const x = new Float32Array(n * d);
  const y = new Float32Array(n);
  const logits = new Float64Array(outputs);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) x[i * d + j] = rng.normal();
    for (let c = 0; c < outputs; c++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += (w[c * d + j] as number) * (x[i * d + j] as number);
      logits[c] = s / Math.sqrt(d) + rng.normal();
    }
    if (numClasses === 2) {
      y[i] = (logits[0] as number) > 0 ? 1 : 0;
    } else {
      let best = 0;
      for (let c = 1; c < outputs; c++) if ((logits[c] as number) > (logits[best] as number)) best = c;
      y[i] = best;
    }
  }
  return { x, y, n, d, numClasses };
}

interface Case {
  readonly label: string;
  readonly spec: ModelSpec;
  readonly numClasses: number;
  readonly batch: number;
  /** Whether the ≥ 1M samples/s target applies. */
  readonly targeted: boolean;
}

const CASES: readonly Case[] = [
  { label: 'logistic, binary', spec: { kind: 'logistic' }, numClasses: 2, batch: 32, targeted: true },
  { label: 'logistic, binary', spec: { kind: 'logistic' }, numClasses: 2, batch: 64, targeted: true },
  { label: 'logistic, multinomial k = 4', spec: { kind: 'logistic' }, numClasses: 4, batch: 32, targeted: false },
  { label: 'MLP, hidden [32], ReLU, binary', spec: { kind: 'mlp', hidden: [32] }, numClasses: 2, batch: 32, targeted: false },
];

async function run(ctx: BenchContext): Promise<BenchSection> {
  const n = ctx.quick ? 10_000 : 50_000;
  const rows: string[][] = [];
  const missed: string[] = [];
  const targets: TargetResult[] = [];
  for (const c of CASES) {
    const data = syntheticDataset(n, D, c.numClasses, 7 + c.numClasses);
    const model = createModel(c.spec, D, c.numClasses);
    const init = model.init(seededRng(1));
    const instr = { epochs: 1, batchSize: c.batch, learningRate: 0.05 };
    let seed = 100;
    const times = timeRepeats(() => {
      trainLocal(model, init, data, instr, seededRng(seed++));
    }, REPEATS);
    const med = median(times);
    const rate = n / (med / 1000);
    const spread = `${count(n / (Math.max(...times) / 1000))} – ${count(n / (Math.min(...times) / 1000))}`;
    ctx.log(`  ${c.label}, batch ${c.batch}: ${count(rate)} samples/s`);
    const target = c.targeted ? `${verdict(rate >= TARGET_SAMPLES_PER_S)} (≥ 1,000,000)` : '—';
    if (c.targeted) {
      if (rate < TARGET_SAMPLES_PER_S) missed.push(`${c.label}, batch ${c.batch}`);
      targets.push({ target: `LR training ≥ 1M samples/s per core (batch ${c.batch})`, measured: `${count(rate)} samples/s`, met: rate >= TARGET_SAMPLES_PER_S });
    }
    rows.push([c.label, String(c.batch), count(model.numParams), count(rate), spread, fixed(med, 1), target]);
  }
  const lines = [
    `Local training throughput of \`trainLocal\` (src/models/train.ts): one epoch of mini-batch SGD over`,
    `${count(n)} synthetic rows of d = ${D} float32 features (N(0, 1), labels from a random linear model),`,
    `including the per-epoch shuffle, the gradient kernel and the parameter update. One process, one`,
    `thread, so the rate is per core. Each row: one warm-up epoch, then the median of ${REPEATS} timed epochs`,
    `(the range shows slowest – fastest).`,
    '',
    mdTable(['model', 'batch', 'params', 'samples/s (median)', 'range', 'ms / epoch', 'target'], rows),
    '',
    missed.length === 0
      ? 'Target (issue 2: logistic regression ≥ 1M samples/s per core): **met** at both batch sizes.'
      : `Target (issue 2: logistic regression ≥ 1M samples/s per core): **missed** for ${missed.join('; ')}.`,
  ];
  return { body: lines.join('\n'), targets };
}

/** The `training` benchmark. */
export const trainingBenchmark: Benchmark = { name: 'training', title: 'Local training throughput', run };
