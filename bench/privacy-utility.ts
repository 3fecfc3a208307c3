/**
 * `privacy-utility`: what differential privacy costs in model quality on the OULAD early-warning
 * simulation (13 regions), at learner level (DP-SGD on every platform) and at platform level
 * (DP-FedAvg, noise added by the coordinator), for ε from 0.5 to 8 at δ = 1e-5.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildOulad } from '../src/data/datasets/oulad.js';
import type { DpConfig } from '../src/federation/horizontal/privacy-config.js';
import { linePlot } from '../src/plot/line-plot.js';
import { partitionRaw } from '../src/simulation/partition-raw.js';
import { simulateHorizontal } from '../src/simulation/simulate.js';
import type { Benchmark, BenchContext, BenchSection, TargetResult } from './benchmark.js';
import { simulateDefaults } from './privacy-harness.js';
import { count, fixed, mdTable, verdict } from './format.js';
import { PLOT_HEIGHT, rangeBelowLegend } from './plot-range.js';

const DELTA = 1e-5;
const EPSILONS = [0.5, 1, 2, 4, 8] as const;
const REPEATS = 5;
/** Issue targets: learner-level AUC drop at ε = 8 and at ε = 1. */
const TARGET_DROP: ReadonlyMap<number, number> = new Map([
  [8, 0.01],
  [1, 0.03],
]);

/** One DP setting: a row family of the table and a line of the plot. */
interface Setting {
  readonly key: string;
  readonly label: string;
  readonly dp: (epsilon: number) => DpConfig;
}

const SETTINGS: readonly Setting[] = [
  {
    key: 'learner',
    label: 'learner-level: DP-SGD, clipNorm 1 (default)',
    dp: (e) => ({ unit: 'learner', clipNorm: 1, targetEpsilon: e, delta: DELTA }),
  },
  {
    key: 'platform',
    label: 'platform-level: DP-FedAvg central, clipNorm 1 (default)',
    dp: (e) => ({ unit: 'platform', noise: 'central', clipNorm: 1, targetEpsilon: e, delta: DELTA }),
  },
  {
    key: 'platform-0.1',
    label: 'platform-level: DP-FedAvg central, clipNorm 0.1 (tuned)',
    dp: (e) => ({ unit: 'platform', noise: 'central', clipNorm: 0.1, targetEpsilon: e, delta: DELTA }),
  },
];


interface Outcome {
  readonly accuracy: number;
  readonly auc: number;
  /** ε spent by the end of the job (the largest over platforms for learner-level DP). */
  readonly epsilon: number;
  /** Smallest and largest σ of the job's ledger entries. */
  readonly sigma: readonly [number, number];
  /** Smallest and largest sampling rate and steps per round of the ledger entries. */
  readonly q: readonly [number, number];
  readonly steps: readonly [number, number];
  readonly rounds: number;
  readonly numParams: number;
}

const range = (xs: readonly number[]): [number, number] => (xs.length > 0 ? [Math.min(...xs), Math.max(...xs)] : [Number.NaN, Number.NaN]);

function l2Distance(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += ((a[i] as number) - (b[i] as number)) ** 2;
  return Math.sqrt(s);
}

interface Point {
  readonly setting: Setting;
  readonly epsilon: number;
  readonly runs: readonly Outcome[];
}

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
/** Sample standard deviation (n − 1); 0 for one value. */
function sd(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
}

const pm = (xs: readonly number[]): string => `${fixed(mean(xs), 4)} ± ${fixed(sd(xs), 4)}`;

async function run(ctx: BenchContext): Promise<BenchSection> {
  const q = ctx.quick;
  const rounds = q ? 5 : 20;
  const repeats = q ? 1 : REPEATS;
  const epsilons: readonly number[] = q ? [1, 8] : EPSILONS;
  const { raw, schema } = buildOulad({ task: 'early-warning', label: 'pass' });
  const parts = partitionRaw(raw, schema, { kind: 'column', column: 'region' });
  const base = simulateDefaults(schema, rounds);

  /** Without DP: the L2 norm of every platform's update, by round (what a platform-level clip acts on). */
  const updateNorms = new Map<number, number[]>();
  const recordNorms: NonNullable<Parameters<typeof simulateHorizontal>[2]>['wrapCaller'] = (_id, call) => async (req, opts) => {
    const reply = await call(req, opts);
    if (req.step === 'train' && reply.step === 'train-result') {
      const list = updateNorms.get(req.payload.round) ?? [];
      list.push(l2Distance(reply.payload.params, req.payload.params));
      updateNorms.set(req.payload.round, list);
    }
    return reply;
  };

  const once = async (dp: DpConfig | undefined): Promise<Outcome> => {
    const sim = await simulateHorizontal(dp === undefined ? base : { ...base, privacy: { dp } }, parts, { compare: false, ...(dp === undefined ? { wrapCaller: recordNorms } : {}) });
    const last = sim.job.rounds[sim.job.rounds.length - 1];
    const entries = sim.job.rounds.flatMap((r) => r.privacy?.entries ?? []);
    return {
      accuracy: last?.metrics.accuracy ?? Number.NaN,
      auc: last?.metrics.auc ?? Number.NaN,
      epsilon: last?.privacy?.epsilon ?? Number.NaN,
      sigma: range(entries.map((e) => e.sigma)),
      q: range(entries.map((e) => e.q)),
      steps: range(entries.map((e) => e.steps)),
      rounds: sim.job.rounds.length,
      numParams: sim.job.model.numParams,
    };
  };

  // Without DP the job is deterministic (seeded splits, shuffles and initial model): one run.
  const plain = await once(undefined);
  const normsOf = (round: number): number[] => updateNorms.get(round) ?? [];
  const normRange = (round: number): string => {
    const [lo, hi] = range(normsOf(round));
    return `${fixed(lo, 3)}–${fixed(hi, 3)}`;
  };
  ctx.log(`  non-private: AUC ${plain.auc.toFixed(4)}`);
  // Clipping alone (σ = 0, ε = ∞): separates the bias of per-example clipping from the noise.
  const clipOnly = await once({ unit: 'learner', clipNorm: 1, noiseMultiplier: 0, delta: DELTA });
  ctx.log(`  DP-SGD clipping only: AUC ${clipOnly.auc.toFixed(4)}`);

  const points: Point[] = [];
  for (const setting of SETTINGS) {
    for (const epsilon of epsilons) {
      const runs: Outcome[] = [];
      for (let r = 0; r < repeats; r++) runs.push(await once(setting.dp(epsilon)));
      ctx.log(`  ${setting.key} ε = ${epsilon}: AUC ${runs.map((x) => x.auc.toFixed(4)).join(' ')}`);
      points.push({ setting, epsilon, runs });
    }
  }

  const aucs = (p: Point): number[] => p.runs.map((r) => r.auc);
  const rows = points.map((p) => {
    const drop = plain.auc - mean(aucs(p));
    const [lo, hi] = [Math.min(...p.runs.map((r) => r.sigma[0])), Math.max(...p.runs.map((r) => r.sigma[1]))];
    return [
      p.setting.label,
      String(p.epsilon),
      hi - lo < 1e-9 ? fixed(lo, 3) : `${fixed(lo, 3)}–${fixed(hi, 3)}`,
      fixed(Math.max(...p.runs.map((r) => r.epsilon)), 3),
      pm(p.runs.map((r) => r.accuracy)),
      pm(aucs(p)),
      `${drop >= 0 ? '' : '−'}${fixed(Math.abs(drop), 4)}`,
      fixed(Math.min(...aucs(p)), 4),
    ];
  });

  const targets: TargetResult[] = [];
  const targetLines: string[] = [];
  for (const [epsilon, limit] of TARGET_DROP) {
    const p = points.find((x) => x.setting.key === 'learner' && x.epsilon === epsilon);
    if (p === undefined) continue;
    const drop = plain.auc - mean(aucs(p));
    const worst = plain.auc - Math.min(...aucs(p));
    targets.push({
      target: `issue 4: learner-level DP (DP-SGD), ε = ${epsilon}, δ = 1e-5: AUC drop ≤ ${limit} (OULAD early warning, 13 regions, ${rounds} rounds)`,
      measured: `${fixed(drop, 4)} (mean of ${p.runs.length}; worst run ${fixed(worst, 4)})`,
      met: drop <= limit,
    });
    targetLines.push(`ε = ${epsilon}: mean AUC drop ${fixed(drop, 4)} ≤ ${limit}: ${verdict(drop <= limit)} (worst of ${p.runs.length} runs: ${fixed(worst, 4)}).`);
  }

  const plotFile = 'privacy-utility-auc.svg';
  const series = [
    ...SETTINGS.map((s) => ({
      name: `${s.label}, mean of ${repeats}`,
      points: points.filter((p) => p.setting === s).map((p) => [p.epsilon, mean(aucs(p))] as const),
    })),
    { name: `non-private, AUC ${plain.auc.toFixed(4)}`, points: [[epsilons[0] ?? 0.5, plain.auc], [epsilons[epsilons.length - 1] ?? 8, plain.auc]] as const },
  ];
  writeFileSync(
    join(ctx.plotsDir, plotFile),
    linePlot(series, {
      title: `OULAD early warning, 13 regions, ${rounds} rounds: test AUC vs ε (δ = 1e-5)`,
      xLabel: 'ε (whole job)',
      yLabel: 'AUC of the final global model (pooled test rows)',
      width: 720,
      height: PLOT_HEIGHT,
      yRange: rangeBelowLegend(series.flatMap((s) => s.points.map((x) => x[1])), series.length),
    }),
  );

  const platformSigma = (epsilon: number): number => points.find((p) => p.setting.key === 'platform' && p.epsilon === epsilon)?.runs[0]?.sigma[0] ?? Number.NaN;
  const learnerFirst = points.find((p) => p.setting.key === 'learner')?.runs[0];
  const d = plain.numParams;
  // Expected norm of the noise on the mean, in units of the clip: σ·√d / 13.
  const noiseNorm = (epsilon: number): string => fixed((platformSigma(epsilon) * Math.sqrt(d)) / parts.length, 1);
  const eLo = epsilons[0] ?? 1;
  const eHi = epsilons[epsilons.length - 1] ?? 8;
  const allNorms = [...updateNorms.values()].flat();
  const clippedShare = (c: number): number => allNorms.filter((x) => x > c).length / Math.max(1, allNorms.length);
  const meanAuc = (key: string, epsilon: number): number => {
    const p = points.find((x) => x.setting.key === key && x.epsilon === epsilon);
    return p !== undefined ? mean(aucs(p)) : Number.NaN;
  };
  const tunedBetter = epsilons.filter((e) => meanAuc('platform-0.1', e) > meanAuc('platform', e));
  const maxPlatformSd = Math.max(0, ...points.filter((p) => p.setting.key !== 'learner' && p.epsilon <= 2).map((p) => sd(aucs(p))));
  const body = [
    'The default `edufed simulate` job: OULAD early warning (pass at day 60), one participant per region (13), logistic',
    `regression, FedAvg with every platform every round, E = 1 local epoch, batch 32, η = 0.1, ${rounds} rounds, seed 42; AUC and`,
    'accuracy of the final global model on the pooled test rows of all platforms. DP through the job configuration',
    '(`privacy.dp`), with `targetEpsilon` ε and δ = 1e-5: the coordinator calibrates σ so that the job\'s rounds spend exactly',
    'ε (RDP accountant). Learner-level: DP-SGD on each platform (per-example clipping to clipNorm, Gaussian noise σ·clipNorm',
    'per batch; each platform\'s σ from its own n, sampling rate B/n and steps). Platform-level: DP-FedAvg with central noise',
    '(the coordinator clips each platform\'s update to clipNorm and adds noise of std σ·clipNorm/13 to their uniform mean).',
    `DP noise comes from the OS CSPRNG, so each point is ${repeats} run${repeats === 1 ? '' : 's'} (mean ± sample sd); without DP the job is deterministic`,
    '(one run). σ is the range over the job\'s ledger entries (learner-level: one per platform, each from its own n); "ε spent"',
    'is what the accountant reports after the last round (the largest over platforms for learner-level DP).',
    '',
    mdTable(
      ['setting', 'target ε', 'σ', 'ε spent', 'accuracy', 'AUC', 'AUC drop (mean)', 'worst AUC'],
      [
        ['non-private (no DP)', '∞', '—', '—', fixed(plain.accuracy, 4), fixed(plain.auc, 4), '—', fixed(plain.auc, 4)],
        ['learner-level, clipNorm 1, σ = 0 (clipping only, no privacy)', '∞', '0', '∞', fixed(clipOnly.accuracy, 4), fixed(clipOnly.auc, 4), fixed(plain.auc - clipOnly.auc, 4), fixed(clipOnly.auc, 4)],
        ...rows,
      ],
      ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
    ),
    '',
    `![AUC vs ε](${ctx.plotsLink}/${plotFile})`,
    '',
    `**Learner-level targets** (issue): ${targetLines.join(' ')} The default clipNorm (1, as \`--dp-clip\`) needed no tuning.`,
    `Nearly all of the drop is the bias of per-example clipping, not the noise: clipping alone (σ = 0) gives AUC ${fixed(clipOnly.auc, 4)}`,
    `(drop ${fixed(plain.auc - clipOnly.auc, 4)}). Per round a platform runs ${learnerFirst !== undefined ? `${learnerFirst.steps[0]} to ${learnerFirst.steps[1]}` : 'tens of'} noisy steps at sampling rate`,
    `${learnerFirst !== undefined ? `${fixed(100 * learnerFirst.q[0], 1)}–${fixed(100 * learnerFirst.q[1], 1)}%` : 'B/n'} (batch 32 of its ${learnerFirst !== undefined ? `${count(32 / learnerFirst.q[1])} to ${count(32 / learnerFirst.q[0])}` : ''} training rows), and a step's noise is divided by the batch size,`,
    `so even σ ≈ ${fixed(points.find((p) => p.setting.key === 'learner' && p.epsilon === eLo)?.runs[0]?.sigma[1], 1)} at ε = ${eLo} costs little on a ${d}-parameter model.`,
    '',
    '**Platform-level**: the job selects all 13 of 13 platforms every round, so the sampling rate is 1 and the accountant',
    `grants no amplification by subsampling: each of the ${rounds} rounds is a full Gaussian mechanism on the sum of 13 clipped`,
    `updates. The calibrated σ is ${fixed(platformSigma(eHi), 2)} at ε = ${eHi} and ${fixed(platformSigma(eLo), 1)} at ε = ${eLo}; the noise added to the mean has a standard`,
    `deviation of σ·C/13 per coordinate, so over the ${d} coordinates its norm is about σ·√${d}/13·C: ${noiseNorm(eHi)}·C at ε = ${eHi}, ${noiseNorm(eLo)}·C at`,
    `ε = ${eLo}, while the mean of the clipped updates has a norm of at most C. Without DP, a platform's update has an L2 norm of`,
    `${normRange(1)} in round 1 and ${normRange(rounds)} in round ${rounds}; C = 1 clips ${fixed(100 * clippedShare(1), 0)}% of these updates and mostly scales the noise up,`,
    `C = 0.1 clips ${fixed(100 * clippedShare(0.1), 0)}% of them: more bias, ten times less noise. The tuned clip gives AUC ${fixed(meanAuc('platform-0.1', eHi), 4)} against`,
    `${fixed(meanAuc('platform', eHi), 4)} at ε = ${eHi} and ${fixed(meanAuc('platform-0.1', eLo), 4)} against ${fixed(meanAuc('platform', eLo), 4)} at ε = ${eLo}; it is the better of the two at ε ∈ {${tunedBetter.join(', ')}}.`,
    ...(repeats > 1 ? [`At ε ≤ 2 the runs scatter widely (sample sd up to ${fixed(maxPlatformSd, 2)} in AUC): the noise, not the data, decides where the model ends.`] : []),
    `Platform-level DP near the non-private AUC (${fixed(plain.auc, 4)}) at small ε needs many more platforms (the noise on the`,
    'mean shrinks as 1/m) or sampling a fraction of them each round (amplification by subsampling), neither of which 13',
    'regions selected every round offer. Only a documented knob (clipNorm) was tuned, for this unit only; the learner-level',
    'rows use the defaults.',
  ].join('\n');
  return { body, targets };
}

/** The `privacy-utility` benchmark. */
export const privacyUtilityBenchmark: Benchmark = { name: 'privacy-utility', title: 'Privacy: utility of differential privacy on OULAD', run };
