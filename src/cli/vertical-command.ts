/**
 * `edufed simulate --vertical` and `edufed demo --vertical`: the OULAD three-platform scenario
 * (A registration portal, B learning site, C assessment platform with the label), in one process
 * with the δ report, or as a coordinator and three platform processes over mutual TLS.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { ouladAttribution } from '../data/datasets/oulad.js';
import { OULAD_REGIONS } from '../data/datasets/oulad-features.js';
import type { Metrics } from '../core/metrics.js';
import { simulateVertical } from '../federation/vertical/simulate-vertical.js';
import { splitOulad, type OuladVerticalSplit } from '../federation/vertical/split-oulad.js';
import type { VerticalMode, VerticalTrainConfig } from '../federation/vertical/protocol.js';
import { verticalTrainConfig } from '../federation/vertical/train-config.js';
import { flagChoice, flagNumber, flagString, type FlagValues } from './args.js';
import { formatTable } from './format-table.js';
import { EDUFED_MAIN } from './local-deployment.js';
import { prepareVerticalDeployment } from './vertical-deployment.js';

const MODES: readonly VerticalMode[] = ['secure-lr', 'plain-lr', 'split-nn'];

const FLAGS_HELP = `Vertical flags (OULAD split into platforms A, B and C sharing enrolment_id):
  --mode M          secure-lr (default), plain-lr or split-nn
  --epochs E        default 5
  --batch B         rows per mini-batch, default 64
  --lr η            learning rate, default 0.2
  --l2 λ            default 0.001
  --seed N          split and batch order, default 1
  --regions LIST    comma-separated OULAD regions (default: all for simulate, Ireland for demo)
  --test-fraction F default 0.2
`;

const OPTIONS = {
  vertical: { type: 'boolean' },
  mode: { type: 'string' },
  epochs: { type: 'string' },
  batch: { type: 'string' },
  lr: { type: 'string' },
  l2: { type: 'string' },
  seed: { type: 'string' },
  regions: { type: 'string' },
  'test-fraction': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function planFromFlags(v: FlagValues, jobId: string): { config: VerticalTrainConfig; testFraction: number } {
  const mode = flagChoice(v, 'mode', MODES, 'secure-lr');
  return {
    config: verticalTrainConfig({
      jobId,
      mode,
      epochs: flagNumber(v, 'epochs', 5, { integer: true, min: 1 }),
      batchSize: flagNumber(v, 'batch', 64, { integer: true, min: 0 }),
      learningRate: flagNumber(v, 'lr', 0.2, { min: Number.MIN_VALUE }),
      l2: flagNumber(v, 'l2', 0.001, { min: 0 }),
      seed: flagNumber(v, 'seed', 1, { integer: true, min: 0 }),
    }),
    testFraction: flagNumber(v, 'test-fraction', 0.2, { min: 0, max: 0.9 }),
  };
}

function splitFromFlags(v: FlagValues, fallback: readonly string[]): OuladVerticalSplit {
  const list = flagString(v, 'regions');
  const regions = list === undefined ? fallback : list.split(',').map((r) => r.trim()).filter((r) => r !== '');
  return splitOulad({ regions, seed: flagNumber(v, 'seed', 1, { integer: true, min: 0 }) });
}

function metricRow(name: string, m: Metrics): (string | number)[] {
  return [name, m.accuracy.toFixed(4), m.auc.toFixed(4), m.f1.toFixed(4), m.logLoss.toFixed(4)];
}

/** `edufed simulate --vertical`; returns the exit code. */
export async function verticalSimulateCommand(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({ args: [...argv], options: OPTIONS, strict: true });
  if (values.help === true) {
    process.stdout.write(`edufed simulate --vertical [flags]\n\nRuns a vertical job on the OULAD three-platform split in this process (alignment by ids, the\nin-process stand-in for PSI) and compares it with centralized training on the joined table and\nwith the label holder alone.\n\n${FLAGS_HELP}`);
    return 0;
  }
  const split = splitFromFlags(values, OULAD_REGIONS);
  const { config, testFraction } = planFromFlags(values, `simulate-vertical-${flagString(values, 'seed') ?? '1'}`);
  process.stderr.write(`${split.description}\n`);
  const sim = await simulateVertical(split.platforms, {
    idColumn: split.idColumn,
    config,
    testFraction,
    onEvent: (e) => {
      if (e.kind === 'epoch') process.stderr.write(`epoch ${e.epoch}/${config.epochs} loss ${e.loss.toFixed(4)} (${Math.round(e.ms)} ms)\n`);
    },
  });
  const c = sim.comparison;
  process.stdout.write(`\nVertical ${config.mode}, label holder ${sim.labelHolder}, ${sim.alignment.n} aligned learners (${sim.alignment.nTrain} train)\n`);
  process.stdout.write(`${formatTable(['platform', 'present', 'imputed'], sim.counts.map((x) => [x.party, x.present, x.imputed]))}\n\n`);
  if (c !== undefined) {
    process.stdout.write(`${formatTable(['model', 'accuracy', 'auc', 'f1', 'logLoss'], [
      metricRow('vertical', c.vertical),
      metricRow('centralized (joined table)', c.centralized),
      metricRow(`label holder ${sim.labelHolder} alone`, c.labelHolderAlone),
    ])}\n`);
    process.stdout.write(`δ (|vertical − centralized|): accuracy ${c.delta.accuracy.toFixed(4)}, auc ${c.delta.auc.toFixed(4)}, f1 ${c.delta.f1.toFixed(4)}, logLoss ${c.delta.logLoss.toFixed(4)}\n`);
    process.stdout.write(`gain over the label holder alone: auc ${c.gainOverLabelHolder.auc >= 0 ? '+' : ''}${c.gainOverLabelHolder.auc.toFixed(4)}, accuracy ${c.gainOverLabelHolder.accuracy >= 0 ? '+' : ''}${c.gainOverLabelHolder.accuracy.toFixed(4)}\n`);
  }
  const epochMs = sim.train.epochs.reduce((s, e) => s + e.ms, 0) / Math.max(1, sim.train.epochs.length);
  process.stdout.write(`mean epoch ${epochMs.toFixed(0)} ms, total ${sim.totalMs.toFixed(0)} ms\n\n${ouladAttribution()}\n`);
  return 0;
}

/** `edufed demo --vertical`; returns the exit code. */
export async function verticalDemoCommand(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({ args: [...argv], options: OPTIONS, strict: true });
  if (values.help === true) {
    process.stdout.write(`edufed demo --vertical [flags]\n\nStarts a coordinator and the three OULAD platforms as processes over mutual TLS; they align\ntheir learners by PSI through the coordinator and train one model; prints its test metrics.\n\n${FLAGS_HELP}`);
    return 0;
  }
  const split = splitFromFlags(values, ['Ireland']);
  const platforms = split.platforms.map((p) => ({ ...p, id: `platform-${p.id.toLowerCase()}` }));
  const { config, testFraction } = planFromFlags(values, `demo-vertical-${Date.now()}`);
  process.stderr.write(`${split.description}\n`);
  const dir = mkdtempSync(join(tmpdir(), 'edufed-demo-vertical-'));
  const children: ReturnType<typeof spawn>[] = [];
  try {
    const d = await prepareVerticalDeployment(dir, platforms, { train: config, idColumn: split.idColumn, testFraction });
    let result: { metrics: Metrics; counts: { party: string; present: number; imputed: number }[]; intersections: Record<string, number> } | undefined;
    const run = (args: string[], onLine?: (l: string) => void): Promise<number> => {
      const child = spawn(process.execPath, [EDUFED_MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(child);
      createInterface({ input: child.stderr as NodeJS.ReadableStream }).on('line', (l) => {
        // The coordinator's progress lines and errors; the rest of its log (and every disconnect at shutdown) stays out.
        if (args[0] === 'coordinator' && (/ phase=/.test(l) || / ERROR /.test(l))) process.stderr.write(`  ${l.replace(/^\S+ (INFO|ERROR) \[[^\]]*\] /, '').replace(/ job=\S+ phase=\S+$/, '')}\n`);
      });
      createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (l) => onLine?.(l));
      return new Promise((resolve) => child.once('exit', (code) => resolve(code ?? 1)));
    };
    const coordinator = run(['coordinator', '--config', d.coordinatorConfig, '--events'], (l) => {
      if (l.includes('"vertical-result"')) result = JSON.parse(l) as typeof result;
    });
    for (const p of d.participants) void run(['participant', '--config', p.config]);
    const code = await coordinator;
    if (code !== 0 || result === undefined) {
      process.stderr.write(`edufed demo --vertical: the coordinator exited with ${code}\n`);
      return 1;
    }
    process.stdout.write(`\nVertical ${config.mode} over mutual TLS; intersections with the label holder: ${Object.entries(result.intersections).map(([k, n]) => `${k} ${n}`).join(', ')}\n`);
    process.stdout.write(`${formatTable(['platform', 'present', 'imputed'], result.counts.map((x) => [x.party, x.present, x.imputed]))}\n\n`);
    // The δ report: the same split trained centralized on the joined table and by the label holder
    // alone, in this process (the demo holds every platform's rows; a real federation would not).
    process.stderr.write('training the centralized and label-holder-alone baselines…\n');
    const baseline = await simulateVertical(platforms, { idColumn: split.idColumn, config, testFraction });
    const c = baseline.comparison;
    const rows = [metricRow('vertical (deployed)', result.metrics)];
    if (c !== undefined) rows.push(metricRow('centralized (joined table)', c.centralized), metricRow(`label holder ${baseline.labelHolder} alone`, c.labelHolderAlone));
    process.stdout.write(`${formatTable(['model', 'accuracy', 'auc', 'f1', 'logLoss'], rows)}\n`);
    if (c !== undefined) {
      const m = result.metrics;
      process.stdout.write(`δ (|deployed − centralized|): accuracy ${Math.abs(m.accuracy - c.centralized.accuracy).toFixed(4)}, auc ${Math.abs(m.auc - c.centralized.auc).toFixed(4)}; ` +
        `gain over the label holder alone: auc ${(m.auc - c.labelHolderAlone.auc >= 0 ? '+' : '')}${(m.auc - c.labelHolderAlone.auc).toFixed(4)}\n`);
    }
    process.stdout.write(`\n${ouladAttribution()}\n`);
    return 0;
  } finally {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}
