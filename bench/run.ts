/**
 * `npm run bench`: runs the benchmarks and writes BENCHMARKS.md and the SVG plots under bench/plots/.
 *
 *   node dist/bench/run.js [--only NAME[,NAME]] [--quick] [--synthetic-dir DIR] [--out FILE]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, toErrorInfo } from '../src/core/errors.js';
import { projectRoot } from '../src/core/paths.js';
import type { BenchContext, Benchmark } from './benchmark.js';
import { BENCHMARKS } from './index.js';
import { OtherLoadMeter, gitCommit, machineInfo } from './machine.js';
import { renderMarkdown } from './render.js';
import { readStore, writeStore, type ResultStore, type StoredSection } from './results-store.js';

const HELP = `node dist/bench/run.js [flags]   (npm run bench -- [flags])

  --only NAME[,NAME]    run only these (${BENCHMARKS.map((b) => b.name).join(', ')}); the other sections
                        of BENCHMARKS.md are kept from bench/results.json
  --quick               smaller sizes; output goes to ${join(tmpdir(), 'edufed-bench-quick')} instead of the repo
  --synthetic-dir DIR   folder of the shared synthetic-lr workload (default ../shared/bench/synthetic-lr)
  --out FILE            markdown file to write (default BENCHMARKS.md at the project root)
`;

function selectBenchmarks(only: string | undefined): readonly Benchmark[] {
  if (only === undefined) return BENCHMARKS;
  const names = only.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  return names.map((n) => {
    const b = BENCHMARKS.find((x) => x.name === n);
    if (b === undefined) throw new ConfigError('--only', `unknown benchmark "${n}"; known: ${BENCHMARKS.map((x) => x.name).join(', ')}`);
    return b;
  });
}

async function main(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      only: { type: 'string' },
      quick: { type: 'boolean' },
      'synthetic-dir': { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help === true) {
    process.stdout.write(HELP);
    return 0;
  }
  const root = projectRoot();
  const quick = values.quick === true;
  const quickDir = join(tmpdir(), 'edufed-bench-quick');
  const out = resolve(values.out ?? (quick ? join(quickDir, 'BENCHMARKS.md') : join(root, 'BENCHMARKS.md')));
  const plotsDir = quick ? join(quickDir, 'plots') : join(root, 'bench', 'plots');
  const storeFile = quick ? join(quickDir, 'results.json') : join(root, 'bench', 'results.json');
  mkdirSync(plotsDir, { recursive: true });
  mkdirSync(dirname(out), { recursive: true });
  const selected = selectBenchmarks(values.only);
  const log = (line: string): void => {
    process.stderr.write(`${line}\n`);
  };
  const ctx: BenchContext = {
    quick,
    root,
    plotsDir,
    plotsLink: relative(dirname(out), plotsDir).split(sep).join('/') || '.',
    syntheticDir: resolve(root, values['synthetic-dir'] ?? join('..', 'shared', 'bench', 'synthetic-lr')),
    log,
  };
  const machine = machineInfo();
  const commit = gitCommit(root);
  // A partial run keeps the other sections; a full run starts afresh.
  const previous: ResultStore = values.only !== undefined ? readStore(storeFile) : { version: 1, sections: {} };
  const sections: Record<string, StoredSection> = { ...previous.sections };
  let failures = 0;
  for (const b of selected) {
    log(`[bench] ${b.name}…`);
    const meter = new OtherLoadMeter();
    const t0 = performance.now();
    let body: string;
    let targets: StoredSection['targets'];
    try {
      const section = await b.run(ctx);
      body = section.body;
      targets = section.targets;
    } catch (err) {
      failures++;
      const info = toErrorInfo(err);
      log(`[bench] ${b.name} failed: ${info.message}`);
      body = `**This benchmark failed**: ${info.message}`;
      targets = [];
    }
    const durationMs = performance.now() - t0;
    sections[b.name] = {
      name: b.name,
      title: b.title,
      body,
      targets,
      date: new Date().toISOString(),
      commit,
      durationMs,
      otherCores: meter.stop(),
      quick,
      machine,
    };
    log(`[bench] ${b.name} done in ${(durationMs / 1000).toFixed(1)} s`);
    const store: ResultStore = { version: 1, sections };
    writeStore(storeFile, store);
    writeFileSync(out, renderMarkdown(store, BENCHMARKS, machine, commit));
  }
  log(`[bench] wrote ${out} and plots in ${plotsDir}`);
  return failures === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`bench: ${toErrorInfo(err).message}\n`);
    process.exitCode = 1;
  },
);
