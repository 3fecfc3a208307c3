/**
 * `deployment-memory`: the coordinator's resident memory over a long deployed job (13 OULAD platforms,
 * logistic regression, 200 rounds), sampled from /proc every round, and the memory of a participant
 * process holding its OULAD rows.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { linePlot } from '../src/plot/line-plot.js';
import type { Benchmark, BenchContext, BenchSection } from './benchmark.js';
import { quantile, runDeployment } from './deployment-run.js';
import { ouladJob, ouladParts, ouladWorkload } from './deployment-oulad.js';
import { count, mdTable, ms, verdict } from './format.js';
import { PLOT_HEIGHT, rangeBelowLegend } from './plot-range.js';
import { linearFit } from './stats.js';

const FIT_FROM = 20;
/** Issue 3: a participant with OULAD data under 200 MB resident. */
const PARTICIPANT_LIMIT_KIB = 200 * 1000 * 1000 / 1024;
/**
 * Our reading of "flat": the fitted line grows by less than 2% of the coordinator's resident set over
 * the fitted rounds (for example under 2 MiB on 100 MiB across 180 rounds).
 */
const FLAT_FRACTION = 0.02;

const mib = (kib: number): string => `${(kib / 1024).toFixed(1)} MiB`;

async function run(ctx: BenchContext): Promise<BenchSection> {
  const w = ouladWorkload();
  const rounds = ctx.quick ? 60 : 200;
  const parts = ouladParts(w, 'region');
  ctx.log(`  13 OULAD regions, LR, ${rounds} rounds`);
  // --trace-gc: the live JS heap after each full collection tells a leak in JS objects from heap sizing and native memory.
  const afterFullGc: number[] = [];
  const r = await runDeployment({
    parts,
    schema: w.schema,
    job: ouladJob(w, 'memory-lr', { kind: 'logistic' }, rounds),
    log: ctx.log,
    coordinatorNodeArgs: ['--trace-gc'],
    onCoordinatorLine: (line) => {
      const m = /Mark-Compact(?: \(reduce\))? [\d.]+ \([\d.]+\) -> ([\d.]+) \([\d.]+\) MB/.exec(line);
      if (m !== null) afterFullGc.push(Number(m[1]));
    },
  });
  const rss = r.coordinatorRssKiB;
  const xs: number[] = [];
  const ys: number[] = [];
  rss.forEach((v, i) => {
    if (i + 1 >= FIT_FROM && Number.isFinite(v)) {
      xs.push(i + 1);
      ys.push(v);
    }
  });
  const fit = linearFit(xs, ys);
  const meanRss = ys.reduce((a, b) => a + b, 0) / ys.length;
  const growth = fit.slope * (rounds - FIT_FROM);
  const flat = Math.abs(growth) < FLAT_FRACTION * meanRss;

  const at = (round: number): string => {
    const m = r.coordinatorMemory[round - 1];
    return m === undefined ? '—' : `${mib(m.anonKiB)} / ${mib(m.fileKiB)} / ${mib(m.shmemKiB)}`;
  };
  const kinds = `${at(FIT_FROM)} → ${at(rounds)}`;
  const mem = r.participantMemory;
  const largest = Math.max(...mem.map((m) => m.rssKiB));
  const largestPeak = Math.max(...mem.map((m) => m.hwmKiB));
  const rows = parts.map((p) => p.raw.rows.length);
  const partOk = largestPeak < PARTICIPANT_LIMIT_KIB;
  ctx.log(`  coordinator slope ${fit.slope.toFixed(2)} KiB/round; largest participant RSS ${mib(largest)} (peak ${mib(largestPeak)})`);

  const plotFile = 'deployment-memory-coordinator.svg';
  const series = [
    { name: 'coordinator VmRSS after each round', points: rss.map((v, i) => [i + 1, v / 1024] as const) },
    {
      name: `least-squares line, rounds ${FIT_FROM}–${rounds}: ${fit.slope.toFixed(2)} KiB/round`,
      points: [[FIT_FROM, (fit.intercept + fit.slope * FIT_FROM) / 1024], [rounds, (fit.intercept + fit.slope * rounds) / 1024]] as const,
    },
  ];
  const finite = rss.filter((v) => Number.isFinite(v)).map((v) => v / 1024);
  writeFileSync(join(ctx.plotsDir, plotFile), linePlot(series, {
    title: `Coordinator resident memory over ${rounds} deployed rounds (13 participants, LR)`,
    xLabel: 'round',
    yLabel: 'VmRSS (MiB)',
    width: 720,
    height: PLOT_HEIGHT,
    yRange: rangeBelowLegend([0, ...finite], series.length),
  }));

  const show = [1, 10, 20, 50, 100, 150, 200].filter((x) => x <= rounds);
  const body = [
    `A coordinator process and 13 participant processes (the OULAD regions, ${count(Math.min(...rows))}–${count(Math.max(...rows))} enrolments each,`,
    `read from CSV files), gRPC over mutual TLS on loopback, the demo's early-warning job (LR, FedAvg) for ${rounds} rounds.`,
    'The coordinator\'s VmRSS is read from /proc/PID/status each time its round event arrives on the `--events` stream',
    '(after the round\'s checkpoint was committed); each participant\'s VmRSS and VmHWM (peak) when the last round ends.',
    '',
    mdTable(['round', ...show.map(String)], [['coordinator VmRSS', ...show.map((x) => mib(rss[x - 1] ?? Number.NaN))]]),
    '',
    mdTable(
      ['measure', 'value'],
      [
        [`coordinator RSS slope, least squares over rounds ${FIT_FROM}–${rounds}`, `**${fit.slope.toFixed(2)} KiB/round** (R² ${fit.r2.toFixed(2)})`],
        [`fitted growth over those ${rounds - FIT_FROM} rounds`, `${mib(growth)} on a mean of ${mib(meanRss)} (${((100 * growth) / meanRss).toFixed(2)}%)`],
        ['coordinator RSS min / median / max (all rounds)', `${mib(Math.min(...rss))} / ${mib(quantile(rss, 0.5))} / ${mib(Math.max(...rss))}`],
        [`coordinator RSS by kind, round ${FIT_FROM} → ${rounds}: anonymous (heap, buffers) / file-backed / shared`, kinds],
        ['coordinator live JS heap after each full GC (--trace-gc): first, largest, last', afterFullGc.length > 0
          ? `${afterFullGc[0]?.toFixed(1)} MB, ${Math.max(...afterFullGc).toFixed(1)} MB, ${afterFullGc[afterFullGc.length - 1]?.toFixed(1)} MB (${afterFullGc.length} full GC${afterFullGc.length === 1 ? '' : 's'})`
          : 'no full GC reported'],
        ['participant RSS at the end, largest of 13 (its peak)', `**${mib(largest)}** (${mib(largestPeak)})`],
        ['participant RSS at the end, median of 13', mib(quantile(mem.map((m) => m.rssKiB), 0.5))],
        ['round wall time, median', ms(quantile(r.rounds.map((x) => x.wallMs), 0.5))],
        ['whole job, spawn to coordinator exit', ms(r.totalMs)],
        ['messages in the coordinator\'s audit log', count(r.auditMessages)],
      ],
    ),
    '',
    `Targets (issue 3): coordinator RSS flat across ${rounds} rounds (our criterion: fitted growth under ${FLAT_FRACTION * 100}% of its`,
    `resident set over rounds ${FIT_FROM}–${rounds}): ${verdict(flat)}, slope ${fit.slope.toFixed(2)} KiB/round. A participant with OULAD data under`,
    `200 MB resident (peak, largest of the 13): ${verdict(partOk)}, ${(largestPeak * 1024 / 1e6).toFixed(0)} MB.`,
    '',
    `![Coordinator RSS per round](${ctx.plotsLink}/${plotFile})`,
  ].join('\n');
  return {
    body,
    targets: [
      {
        target: `coordinator RSS flat across ${rounds} deployed rounds (our criterion: fitted growth < ${FLAT_FRACTION * 100}%)`,
        measured: `${fit.slope.toFixed(2)} KiB/round over rounds ${FIT_FROM}–${rounds} (${mib(growth)} on ${mib(meanRss)})`,
        met: flat,
      },
      {
        target: 'a participant process with OULAD data < 200 MB RSS',
        measured: `${(largestPeak * 1024 / 1e6).toFixed(0)} MB peak (largest of 13 regions; ${(largest * 1024 / 1e6).toFixed(0)} MB at the end)`,
        met: partOk,
      },
    ],
  };
}

/** The `deployment-memory` benchmark. */
export const deploymentMemoryBenchmark: Benchmark = {
  name: 'deployment-memory',
  title: 'Deployment: memory over 200 rounds',
  run,
};
