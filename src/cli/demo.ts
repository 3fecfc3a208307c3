/**
 * `edufed demo`: a whole deployment on this machine. A federation CA and certificates are made in a
 * temporary folder, each participant's rows are written to its own CSV file, and a coordinator and
 * one participant per platform start as separate OS processes talking gRPC over mutual TLS on
 * loopback. The job runs live; at the end the δ report compares the deployed federated model with
 * centralized and local-only training on the same test rows, and everything is shut down.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EDUFED_MAIN, participantSlug, prepareLocalDeployment } from './local-deployment.js';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { EduFedError } from '../core/errors.js';
import { isRecord } from '../core/validate.js';
import { ouladAttribution } from '../data/datasets/oulad.js';
import { CoordinatorStore } from '../coordinator/store.js';
import type { JobResult } from '../coordinator/horizontal-workflow.js';
import { createModel } from '../models/create-model.js';
import { HorizontalParticipant } from '../participant/horizontal-participant.js';
import { loadDataSource } from '../participant/data-source.js';
import { compareModels } from '../simulation/report.js';
import { partitionRaw, type PartitionSpec, type RawPart } from '../simulation/partition-raw.js';
import { flagNumber, flagString } from './args.js';
import { JOB_FLAG_OPTIONS, JOB_FLAGS_HELP, dataSourceFromFlags, jobFromFlags, partitionFromFlags } from './job-flags.js';
import { Progress } from './progress.js';
import { buildReport, printReport } from './report-output.js';

const HELP = `edufed demo [flags]

Starts a coordinator and one participant per platform (default: the 13 OULAD regions) as separate
processes over mutual TLS on loopback, with keys made on the fly in a temporary folder; runs the
early-warning job with live progress; prints the δ report; shuts everything down.

  --participants N   N participant processes (rows split uniformly at random unless a partition flag is given)
  --json FILE        write the report (same shape as edufed simulate --json)
  --keep             keep the temporary folder (keys, configs, databases, ledgers, logs)
  --verbose          show the coordinator's and participants' log lines
${JOB_FLAGS_HELP}
`;


function exited(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once('exit', (code, signal) => resolve(code ?? (signal !== null ? 128 : 1)));
  });
}

/** Runs the demo; returns the exit code. */
export async function demoCommand(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      ...JOB_FLAG_OPTIONS,
      participants: { type: 'string' },
      json: { type: 'string' },
      keep: { type: 'boolean' },
      verbose: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help === true) {
    process.stdout.write(HELP);
    return 0;
  }
  const t0 = performance.now();
  const progress = new Progress(process.stderr);
  const source = dataSourceFromFlags(values);
  const { raw, schema } = loadDataSource(source);
  const n = flagString(values, 'participants') !== undefined ? flagNumber(values, 'participants', 13, { integer: true, min: 1, max: 500 }) : undefined;
  const partitionGiven = ['partition', 'dirichlet', 'iid'].some((f) => flagString(values, f) !== undefined);
  const flagged = jobFromFlags(values, schema, 'demo-early-warning');
  let job = flagged;
  const partition: PartitionSpec = n !== undefined && !partitionGiven ? { kind: 'iid', participants: n, seed: job.seed } : partitionFromFlags(values, job.seed);
  const parts: RawPart[] = partitionRaw(raw, schema, partition).map((p) => ({ id: participantSlug(p.id), raw: p.raw }));
  // A round needs half the platforms; a slower one has a minute before it is dropped from the round.
  job = { ...job, minParticipants: Math.max(1, Math.ceil(parts.length / 2)), roundTimeoutMs: 60_000 };
  const loadMs = performance.now() - t0;

  const dir = mkdtempSync(join(tmpdir(), 'edufed-demo-'));
  const children: ChildProcess[] = [];
  const verbose = values.verbose === true;
  try {
    progress.note(`Demo folder ${dir}: creating a federation CA and ${parts.length + 1} certificates…`);
    const deployment = await prepareLocalDeployment(dir, parts, job, schema);
    const { port, apiPort } = deployment;
    // Once the coordinator has finished, participants' reconnect warnings are expected noise.
    let shuttingDown = false;
    const spawnNode = (args: string[], name: string): ChildProcess => {
      const child = spawn(process.execPath, [EDUFED_MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(child);
      const err = createInterface({ input: child.stderr as NodeJS.ReadableStream });
      err.on('line', (line) => {
        if (verbose || (!shuttingDown && / (ERROR|WARN) /.test(line))) progress.note(`  [${name}] ${line.replace(/^\S+ /, '')}`);
      });
      return child;
    };
    const tStart = performance.now();
    const coordinator = spawnNode(['coordinator', '--config', deployment.coordinatorConfig, '--events'], 'coordinator');
    for (const p of deployment.participants) spawnNode(['participant', '--config', p.config], p.id);
    progress.note(`Started the coordinator (gRPC 127.0.0.1:${port}, API http://127.0.0.1:${apiPort}) and ${parts.length} participant processes.`);

    const lines = createInterface({ input: coordinator.stdout as NodeJS.ReadableStream });
    lines.on('line', (line) => {
      let e: unknown;
      try {
        e = JSON.parse(line);
      } catch {
        return;
      }
      if (!isRecord(e)) return;
      if (e['type'] === 'phase') progress.note(`${String(e['phase'])}: ${String(e['detail'])}`);
      // The job is over: the coordinator now closes every link, and the disconnect warnings that follow are expected.
      if (e['type'] === 'phase' && e['phase'] === 'done') shuttingDown = true;
      if (e['type'] === 'round' && isRecord(e['record'])) {
        const r = e['record'];
        const m = isRecord(r['metrics']) ? r['metrics'] : {};
        const received = Array.isArray(r['received']) ? r['received'].length : 0;
        progress.update(Number(r['round']), Number(e['maxRounds']), 'round',
          `${received}/${parts.length} in, acc ${Number(m['accuracy']).toFixed(4)} auc ${Number(m['auc']).toFixed(4)}, ${Math.round(Number(r['wallMs']))} ms` +
          (isRecord(r['privacy']) && typeof r['privacy']['epsilon'] === 'number' ? `, ε ${r['privacy']['epsilon'].toFixed(3)}` : ''));
      }
    });
    const code = await exited(coordinator);
    shuttingDown = true;
    progress.end();
    const deployMs = performance.now() - tStart;
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
    await Promise.all(children.map(exited));
    if (code !== 0) throw new EduFedError('INTERNAL', `the coordinator exited with code ${code}; rerun with --verbose --keep to see its log`);

    // The deployed job's outcome, from the coordinator's own database.
    const store = new CoordinatorStore(join(dir, 'coordinator.db'));
    const final = store.loadResume(job.jobId);
    const info = store.getJob(job.jobId);
    const auditCount = store.auditCount({ jobId: job.jobId });
    store.close();
    if (final === undefined) throw new EduFedError('INTERNAL', 'the coordinator finished without a completed round');
    const model = createModel(job.model, final.encoder.dim, final.encoder.numClasses);
    const result: JobResult = {
      config: job,
      encoder: final.encoder,
      model,
      params: final.params,
      rounds: final.history,
      stopReason: info?.stopReason ?? 'unknown',
      participants: parts.map((p) => p.id),
    };
    // Baselines need the pooled rows, which only this demo (holding every platform's file) can build.
    progress.note('Training the centralized and local-only baselines on the same split…');
    const evalData = await Promise.all(parts.map(async (p) => {
      const role = new HorizontalParticipant(p.id, p.raw, { seed: job.seed });
      const task = { testFraction: job.testFraction, splitSeed: job.splitSeed, schema, ...(job.splitColumn !== undefined ? { splitColumn: job.splitColumn } : {}) };
      await role.handle('baseline', { step: 'stats', from: 'coordinator', to: 'participant', payload: { task } });
      await role.handle('baseline', { step: 'setup', from: 'coordinator', to: 'participant', payload: { task, encoder: final.encoder, model: job.model } });
      const local = role.localData('baseline');
      return { id: p.id, train: local.train, test: local.test, federatedParams: final.params };
    }));
    const comparison = compareModels(model, evalData, job.strategy, result.rounds.length, job.seed);
    const report = buildReport({
      job,
      sim: { job: result, comparison, timings: { federatedMs: deployMs, totalMs: performance.now() - t0 } },
      source,
      partition,
      loadMs,
      mode: 'deployment',
    });
    printReport(report, process.stdout);
    // Rounds 1 and 2 carry each platform's setup and the processes' warm-up; the benchmarks leave them out too.
    const steady = result.rounds.length > 2 ? result.rounds.slice(2) : result.rounds;
    const overhead = steady.map((r) => r.wallMs - r.maxTrainMs).sort((a, b) => a - b);
    const median = overhead[Math.floor(overhead.length / 2)] ?? NaN;
    process.stdout.write(`\nDeployment: ${parts.length + 1} processes over mutual TLS; ${auditCount} messages in the coordinator's audit log; ` +
      `median coordination overhead per round ${median.toFixed(1)} ms (round wall time minus the slowest local training, ` +
      `${steady.length === result.rounds.length ? 'all rounds' : `rounds 3–${result.rounds.length}`}).\n`);
    if (source.kind === 'oulad') process.stdout.write(`${ouladAttribution()}\n`);
    const jsonPath = flagString(values, 'json');
    if (jsonPath !== undefined) {
      writeFileSync(jsonPath, `${JSON.stringify({ ...report, deployment: { processes: parts.length + 1, auditMessages: auditCount, medianOverheadMs: median } }, null, 2)}\n`);
      process.stdout.write(`Report written to ${jsonPath}\n`);
    }
    return 0;
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    if (values.keep === true) process.stderr.write(`Kept ${dir}\n`);
    else rmSync(dir, { recursive: true, force: true });
  }
}
