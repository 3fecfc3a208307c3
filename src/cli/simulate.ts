/**
 * `edufed simulate`: a whole horizontal job in one process, with the honest-accuracy report.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ouladAttribution } from '../data/datasets/oulad.js';
import { loadDataSource } from '../participant/data-source.js';
import { partitionRaw } from '../simulation/partition-raw.js';
import { simulateHorizontal } from '../simulation/simulate.js';
import { flagString } from './args.js';
import { JOB_FLAG_OPTIONS, JOB_FLAGS_HELP, dataSourceFromFlags, jobFromFlags, partitionFromFlags } from './job-flags.js';
import { Progress } from './progress.js';
import { buildReport, printReport } from './report-output.js';

const HELP = `edufed simulate [flags]

Runs a horizontal federated job with every participant in this process (same coordinator and
participant code as the networked mode) and compares the federated model with a centralized
model and with each participant training alone, on the same test rows.

${JOB_FLAGS_HELP}
Output:
  --json FILE   write the full report (per-round metrics, baselines, δ, config, timings)
  --quiet       no progress output
`;

/** Runs the simulate command; returns the exit code. */
export async function simulateCommand(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: { ...JOB_FLAG_OPTIONS, json: { type: 'string' }, quiet: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
  });
  if (values.help === true) {
    process.stdout.write(HELP);
    return 0;
  }
  const progress = new Progress(process.stderr, values.quiet === true);
  const tLoad = performance.now();
  const source = dataSourceFromFlags(values);
  const { raw, schema } = loadDataSource(source);
  // The job id seeds participants' local shuffles: derived from the seed, so a run is reproducible.
  const job = jobFromFlags(values, schema, `simulate-${flagString(values, 'seed') ?? '42'}`);
  const parts = partitionRaw(raw, schema, partitionFromFlags(values, job.seed));
  const loadMs = performance.now() - tLoad;
  progress.note(`${parts.length} participants, ${raw.rows.length} rows from ${raw.source}`);
  const sim = await simulateHorizontal(job, parts, {
    onEvent: (e) => {
      if (e.type === 'round') {
        const m = e.record.metrics;
        progress.update(e.record.round, e.maxRounds, 'round', `acc ${m.accuracy.toFixed(4)} auc ${m.auc.toFixed(4)} (${e.record.received.length} in)${e.record.privacy !== undefined ? ` ε ${e.record.privacy.epsilon.toFixed(3)}` : ''}`);
      } else if (e.type === 'participant-excluded') {
        progress.note(`participant ${e.participantId} excluded: ${e.reason}`);
      }
    },
    onBaselineProgress: (what) => progress.note(`training ${what}…`),
  });
  progress.end();
  const report = buildReport({ job, sim, source, partition: partitionFromFlags(values, job.seed), loadMs });
  printReport(report, process.stdout);
  if (source.kind === 'oulad') process.stdout.write(`\n${ouladAttribution()}\n`);
  const jsonPath = flagString(values, 'json');
  if (jsonPath !== undefined) {
    writeFileSync(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(`Report written to ${jsonPath}\n`);
  }
  return 0;
}
