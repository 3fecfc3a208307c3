/**
 * `simulation-oulad`: the issue's quality and speed figures on real OULAD data: the 13-region
 * early-warning simulation (wall time, δ), the 7-module non-IID partition under FedAvg, FedProx and
 * FedAdam side by side (table and per-round AUC plot), and the outcome task.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildOulad, type OuladTask } from '../src/data/datasets/oulad.js';
import type { HorizontalJobConfig } from '../src/federation/horizontal/job-config.js';
import { linePlot } from '../src/plot/line-plot.js';
import { partitionRaw } from '../src/simulation/partition-raw.js';
import { simulateHorizontal, type SimulationResult } from '../src/simulation/simulate.js';
import type { StrategyConfig } from '../src/strategy/create-strategy.js';
import type { Benchmark, BenchContext, BenchSection, TargetResult } from './benchmark.js';
import { count, fixed, mdTable, ms, verdict } from './format.js';
import { PLOT_HEIGHT, rangeBelowLegend } from './plot-range.js';

const LOCAL = { fractionFit: 1, minFit: 1, epochs: 1, batchSize: 32, learningRate: 0.05 } as const;
/** Non-IID: larger local batches mean fewer local steps per round, hence less client drift (as in test/oulad-simulation.test.ts). */
const MODULE_LOCAL = { ...LOCAL, batchSize: 128 } as const;
const SEED = 42;

/** Further seeds (split, shuffles) for the robustness table. */
const EXTRA_SEEDS = [43, 44] as const;

function jobConfig(schema: HorizontalJobConfig['schema'], strategy: StrategyConfig, rounds: number, jobId: string, seed: number): HorizontalJobConfig {
  return { jobId, schema, testFraction: 0.2, splitSeed: seed, model: { kind: 'logistic' }, strategy, rounds, seed };
}

interface Run {
  readonly label: string;
  readonly sim: SimulationResult;
  /** Wall time of partitioning plus the federated job (preprocessing agreement, rounds, evaluation). */
  readonly partitionMs: number;
}

async function simulate(task: OuladTask, column: string, strategy: StrategyConfig, rounds: number, label: string, seed: number = SEED): Promise<Run> {
  const { raw, schema } = buildOulad({ task, label: 'pass' });
  const t0 = performance.now();
  const parts = partitionRaw(raw, schema, { kind: 'column', column });
  const partitionMs = performance.now() - t0;
  // The job id seeds the participants' shuffles; the default seed keeps the historical id.
  const jobId = `bench-${task}-${column}-${strategy.name}${seed === SEED ? '' : `-s${seed}`}`;
  const sim = await simulateHorizontal(jobConfig(schema, strategy, rounds, jobId, seed), parts);
  return { label, sim, partitionMs };
}

function comparisonRow(r: Run): string[] {
  const c = r.sim.comparison;
  if (c === undefined) return [r.label, '—', '—', '—', '—', '—', '—', '—', '—'];
  return [
    r.label,
    fixed(c.federated.accuracy, 4),
    fixed(c.federated.auc, 4),
    fixed(c.centralized.accuracy, 4),
    fixed(c.centralized.auc, 4),
    fixed(c.localOnly.accuracy, 4),
    fixed(c.localOnly.auc, 4),
    fixed(c.delta.accuracy, 4),
    fixed(c.delta.auc, 4),
  ];
}

const COMPARISON_HEADER = ['run', 'fed acc', 'fed AUC', 'central acc', 'central AUC', 'local-only acc', 'local-only AUC', 'δ acc', 'δ AUC'];

/** Round from which the per-round AUC is checked for dips (earlier rounds are still warming up). */
const STABLE_FROM = 5;

/** Lowest per-round AUC of the global model from round `from` on. */
function lowestAucFrom(r: Run, from: number): number {
  const aucs = r.sim.job.rounds.filter((x) => x.round >= from).map((x) => x.metrics.auc);
  return aucs.length > 0 ? Math.min(...aucs) : Number.NaN;
}

function meanRoundMs(sim: SimulationResult): number {
  const r = sim.job.rounds;
  return r.reduce((s, x) => s + x.wallMs, 0) / Math.max(1, r.length);
}

/** Times `edufed simulate` end to end in a fresh Node process (start-up, data build, job, baselines, report). */
function timeCli(ctx: BenchContext, rounds: number): { ms: number; ok: boolean; note: string } {
  // The CLI compiled alongside this file (dist/bench → dist/src/cli).
  const main = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
  if (!existsSync(main)) return { ms: NaN, ok: false, note: `${main} not built` };
  const args = [main, 'simulate', '--dataset', 'oulad', '--task', 'early-warning', '--partition', 'region', '--rounds', String(rounds), '--lr', '0.05', '--batch', '32', '--seed', String(SEED), '--quiet'];
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { cwd: ctx.root, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  const wall = performance.now() - t0;
  if (r.status !== 0) return { ms: wall, ok: false, note: `exit ${String(r.status)}: ${(r.stderr ?? '').trim().split('\n')[0] ?? ''}` };
  return { ms: wall, ok: true, note: '' };
}

async function run(ctx: BenchContext): Promise<BenchSection> {
  const rounds = ctx.quick ? 5 : 20;
  const out: string[] = [];
  const targets: TargetResult[] = [];

  // 1. Region partition, early warning: the speed target and the δ ≤ 0.01 target.
  const tBuild = performance.now();
  const ew = buildOulad({ task: 'early-warning', label: 'pass' });
  const buildMs = performance.now() - tBuild;
  const region = await simulate('early-warning', 'region', { name: 'fedavg', ...LOCAL }, rounds, 'early warning, 13 regions, FedAvg');
  const rc = region.sim.comparison;
  const fedMs = region.sim.timings.federatedMs;
  const inProcessMs = buildMs + region.partitionMs + fedMs;
  ctx.log(`  region early warning: data ${buildMs.toFixed(0)} ms + partition ${region.partitionMs.toFixed(0)} ms + job ${fedMs.toFixed(0)} ms`);
  const cli = timeCli(ctx, rounds);
  ctx.log(`  CLI end to end: ${cli.ms.toFixed(0)} ms${cli.ok ? '' : ` (failed: ${cli.note})`}`);

  targets.push({
    target: `13-region, ${rounds}-round early-warning simulation < 5 s`,
    measured: `${ms(inProcessMs)} in process (data + partition + job)${cli.ok ? `; ${ms(cli.ms)} for the whole CLI run` : ''}`,
    met: inProcessMs < 5000,
  });
  out.push(
    `Task: OULAD early warning at day 60, label pass (Pass or Distinction) vs not, ${count(ew.raw.rows.length)} enrolments;`,
    `logistic regression from zeros; ${rounds} rounds, every participant every round (C = 1), E = 1 local epoch, batch 32,`,
    `η = 0.05; 80/20 stratified train/test split inside each participant (seed ${SEED}); federated preprocessing`,
    '(vocabularies and standardisation from aggregated counts and sums). Baselines on the same test rows: *centralized* =',
    `the same model trained on the pooled training rows for ${rounds} epochs; *local-only* = each participant alone for ${rounds}`,
    'epochs, scored on its own test rows. δ = |federated − centralized|. Metrics are exact, pooled over all test rows.',
    '',
    `### Region partition (13 participants), ${rounds} rounds`,
    '',
    mdTable(
      ['phase', 'wall time'],
      [
        ['build the OULAD task from data/oulad (cold, in this process)', ms(buildMs)],
        ['partition by region', ms(region.partitionMs)],
        [`federated job: stats → encoder, setup, ${rounds} rounds of train + aggregate + evaluate`, ms(fedMs)],
        ['**data + partition + federated job**', `**${ms(inProcessMs)}**`],
        [`mean round (train 13 participants, aggregate, evaluate)`, ms(meanRoundMs(region.sim))],
        ['baselines for the report (centralized + 13 local-only)', rc !== undefined ? ms(rc.timings.centralizedMs + rc.timings.localOnlyMs) : '—'],
        [`\`edufed simulate\` end to end in a fresh process (Node start-up, data, job, baselines, report)`, cli.ok ? ms(cli.ms) : `failed: ${cli.note}`],
      ],
    ),
    '',
    `Speed target (issue 2: the 13-region, 20-round early-warning simulation in < 5 s): ${verdict(inProcessMs < 5000)} in process`,
    `(${ms(inProcessMs)});${cli.ok ? ` the whole CLI run including baselines and start-up took ${ms(cli.ms)} (${cli.ms < 5000 ? 'also under' : 'over'} 5 s).` : ' the CLI run could not be timed.'}`,
    '',
    mdTable(COMPARISON_HEADER, [comparisonRow(region)]),
    '',
  );
  if (rc !== undefined) {
    const ok = rc.delta.accuracy <= 0.01 && rc.delta.auc <= 0.01;
    targets.push({
      target: 'early warning, region partition: δ ≤ 0.01 (accuracy and AUC)',
      measured: `δ acc ${fixed(rc.delta.accuracy, 4)}, δ AUC ${fixed(rc.delta.auc, 4)}`,
      met: ok,
    });
    out.push(
      `Quality target (δ ≤ 0.01 in accuracy and in AUC): ${verdict(ok)} (δ accuracy ${fixed(rc.delta.accuracy, 4)}, δ AUC ${fixed(rc.delta.auc, 4)}).`,
      '',
      'Per region: what each platform gains by federating instead of training alone (its own test rows).',
      '',
      mdTable(
        ['region', 'train rows', 'test rows', 'fed acc', 'local-only acc', 'fed AUC', 'local-only AUC', 'AUC gain'],
        rc.perParticipant.map((p) => [
          p.id,
          count(p.numTrain),
          count(p.numTest),
          fixed(p.federated.accuracy, 4),
          fixed(p.localOnly.accuracy, 4),
          fixed(p.federated.auc, 4),
          fixed(p.localOnly.auc, 4),
          `${p.gain.auc >= 0 ? '+' : ''}${fixed(p.gain.auc, 4)}`,
        ]),
      ),
      '',
    );
  }

  // 2. Module partition: strongly non-IID; three strategies side by side.
  const strategies: { label: string; config: StrategyConfig }[] = [
    { label: 'FedAvg', config: { name: 'fedavg', ...MODULE_LOCAL } },
    { label: 'FedProx (μ = 0.01)', config: { name: 'fedprox', ...MODULE_LOCAL, proximalMu: 0.01 } },
    { label: 'FedAdam (server optimiser, defaults)', config: { name: 'fedadam', ...MODULE_LOCAL } },
  ];
  const moduleRuns: Run[] = [];
  for (const s of strategies) {
    const r = await simulate('early-warning', 'code_module', s.config, rounds, s.label);
    ctx.log(`  module ${s.label}: δ auc ${fixed(r.sim.comparison?.delta.auc, 4)}`);
    moduleRuns.push(r);
  }
  const central = moduleRuns[0]?.sim.comparison?.centralized;
  const series = moduleRuns.map((r) => ({ name: r.label, points: r.sim.job.rounds.map((x) => [x.round, x.metrics.auc] as const) }));
  if (central !== undefined) series.push({ name: `centralized (pooled rows), AUC ${central.auc.toFixed(4)}`, points: [[1, central.auc], [rounds, central.auc]] });
  const plotFile = 'oulad-module-auc.svg';
  writeFileSync(
    join(ctx.plotsDir, plotFile),
    linePlot(series, {
      title: `OULAD early warning, 7 modules (non-IID): test AUC per round`,
      xLabel: 'round',
      yLabel: 'AUC of the global model (pooled test rows)',
      width: 720,
      height: PLOT_HEIGHT,
      yRange: rangeBelowLegend(series.flatMap((x) => x.points.map((pt) => pt[1])), series.length),
    }),
  );
  const worstDelta = (r: Run): number => Math.max(r.sim.comparison?.delta.accuracy ?? NaN, r.sim.comparison?.delta.auc ?? NaN);
  const bestModule = moduleRuns.reduce<Run | undefined>((b, r) => (b === undefined || worstDelta(r) < worstDelta(b) ? r : b), undefined);
  if (bestModule !== undefined) {
    targets.push({
      target: 'early warning, module partition: δ ≤ 0.02 with the best of FedAvg/FedProx/FedAdam',
      measured: `${bestModule.label}: max(δ acc, δ AUC) = ${fixed(worstDelta(bestModule), 4)}`,
      met: worstDelta(bestModule) <= 0.02,
    });
  }
  out.push(
    `### Module partition (7 participants, strongly non-IID), ${rounds} rounds`,
    '',
    'Same task, but local batch 128 instead of 32 (fewer local steps per round, less client drift on non-IID data; with batch 32',
    'FedAvg and FedProx reach max(δ acc, δ AUC) ≈ 0.023–0.024 and FedAdam ≈ 0.024, just above the target); one participant per `code_module` (748 to 7,909 enrolments, very different pass',
    'rates). FedAdam uses the strategy\'s default server learning rate and moments. The centralized baseline is the same',
    'for all three (same pooled rows, same optimiser).',
    '',
    mdTable(
      [...COMPARISON_HEADER, `lowest round AUC, rounds ${STABLE_FROM}–${rounds}`, 'job wall time'],
      moduleRuns.map((r) => [...comparisonRow(r), fixed(lowestAucFrom(r, STABLE_FROM), 4), ms(r.sim.timings.federatedMs)]),
    ),
    '',
    'δ is measured on the final round only; the "lowest round AUC" column and the plot show whether a strategy got there',
    'steadily or oscillated on the way (a server optimiser with a large step can).',
    '',
    bestModule !== undefined
      ? `Quality target (δ ≤ 0.02 with the best of the three): ${verdict(worstDelta(bestModule) <= 0.02)} — best is ${bestModule.label} with max(δ acc, δ AUC) = ${fixed(worstDelta(bestModule), 4)}.`
      : 'Quality target: could not be evaluated.',
    '',
    `![Per-round AUC on the module partition](${ctx.plotsLink}/${plotFile})`,
    '',
  );

  // 2b. The same runs with other seeds (another split, other shuffles): how stable δ is.
  const extraSeeds: readonly number[] = ctx.quick ? [] : EXTRA_SEEDS;
  if (extraSeeds.length > 0) {
    const allSeeds = [SEED, ...extraSeeds];
    const cases: { column: string; label: string; config: StrategyConfig; primary: Run }[] = [
      { column: 'region', label: 'region, FedAvg', config: { name: 'fedavg', ...LOCAL }, primary: region },
      ...strategies.map((s, i) => ({ column: 'code_module', label: `module, ${s.label}`, config: s.config, primary: moduleRuns[i] as Run })),
    ];
    const rows: string[][] = [];
    const moduleWorst: number[][] = allSeeds.map(() => []);
    for (const c of cases) {
      const runs: Run[] = [c.primary];
      for (const seed of extraSeeds) runs.push(await simulate('early-warning', c.column, c.config, rounds, c.label, seed));
      if (c.column === 'code_module') runs.forEach((r, i) => moduleWorst[i]?.push(worstDelta(r)));
      rows.push([c.label, ...runs.map((r) => `${fixed(r.sim.comparison?.delta.accuracy, 4)} / ${fixed(r.sim.comparison?.delta.auc, 4)}`)]);
    }
    rows.push(['module, best of the three: max(δ acc, δ AUC)', ...moduleWorst.map((w) => fixed(Math.min(...w), 4))]);
    ctx.log(`  seeds ${allSeeds.join(', ')}: module best-of-three ${moduleWorst.map((w) => Math.min(...w).toFixed(4)).join(', ')}`);
    out.push(
      '#### The same runs with other seeds',
      '',
      'The seed sets each participant\'s train/test split and its local shuffles, so it changes both the test rows and the',
      'trajectory. δ accuracy / δ AUC per seed:',
      '',
      mdTable(['run', ...allSeeds.map((x) => `seed ${x}${x === SEED ? ' (above)' : ''}`)], rows),
      '',
    );
  }

  // 3. Outcome task (retrospective: whole presentation), region partition.
  const outcome = await simulate('outcome', 'region', { name: 'fedavg', ...LOCAL }, rounds, 'outcome, 13 regions, FedAvg');
  ctx.log(`  outcome: fed auc ${fixed(outcome.sim.comparison?.federated.auc, 4)}`);
  out.push(
    `### Outcome task, region partition, ${rounds} rounds`,
    '',
    'The full record (all assessments including the exam, VLE clicks by category): retrospective, for certification,',
    'not prediction. Same model, strategy and hyper-parameters as above.',
    '',
    mdTable([...COMPARISON_HEADER, 'job wall time'], [[...comparisonRow(outcome), ms(outcome.sim.timings.federatedMs)]]),
    '',
    '### Reference',
    '',
    'Issue 2 quotes, as an outside reference (not measured here): scikit-learn\'s pooled logistic regression reaches about',
    'AUC 0.86 on the early-warning task and about AUC 0.95 on the outcome task, with a random 80/20 split. Our centralized',
    `baselines above (early warning ${fixed(rc?.centralized.auc, 4)}, outcome ${fixed(outcome.sim.comparison?.centralized.auc, 4)}) use`,
    'our own features, SGD for a fixed number of epochs and per-participant stratified splits, so they are comparable in',
    'spirit, not identical in setup.',
  );
  return { body: out.join('\n'), targets };
}

/** The `simulation-oulad` benchmark. */
export const simulationOuladBenchmark: Benchmark = { name: 'simulation-oulad', title: 'OULAD simulation: speed and δ', run };
