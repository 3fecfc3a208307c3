/**
 * `edufed coordinator --config FILE`: the central server of a deployment.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { isVerticalJob, loadCoordinatorConfig } from '../coordinator/config.js';
import { startCoordinator } from '../coordinator/coordinator-service.js';
import type { JobEvent } from '../coordinator/horizontal-workflow.js';
import { stderrLogger } from '../transport/logger.js';
import { flagString } from './args.js';
import { Progress } from './progress.js';

const HELP = `edufed coordinator --config FILE [--events] [--report FILE] [--keep-serving]

Starts the coordinator: gRPC over mutual TLS for participants, the HTTP JSON API, the SQLite
database. Runs the configured job; if the database holds an unfinished run of it (for example
after a crash), resumes from the last completed round.

  --events        print one JSON line per job event on stdout (progress for scripts)
  --report FILE   write the job's rounds and outcome as JSON when it ends
  --keep-serving  keep the API and transport up after the job ends (until SIGINT/SIGTERM)
See examples/coordinator.json for the configuration file.
`;

/** One job event as a JSON line (for `--events`). */
export function eventLine(e: JobEvent): string {
  return JSON.stringify(e.type === 'round' ? { type: 'round', maxRounds: e.maxRounds, record: e.record } : e);
}

/** Runs the coordinator command; returns the exit code. */
export async function coordinatorCommand(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      config: { type: 'string' },
      events: { type: 'boolean' },
      report: { type: 'string' },
      'keep-serving': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help === true) {
    process.stdout.write(HELP);
    return 0;
  }
  const file = flagString(values, 'config');
  if (file === undefined) {
    process.stderr.write(HELP);
    return 2;
  }
  const config = loadCoordinatorConfig(file);
  const logger = stderrLogger('edufed coordinator');
  const service = await startCoordinator(config, logger);
  logger.info('listening', {
    grpc: `${config.listen.host}:${service.transport.port}`,
    api: service.api?.url,
    database: config.database,
  });
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.warn('stopping', { signal });
    void service.close().then(() => process.exit(130));
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
  const progress = new Progress(process.stderr, values.events === true);
  if (isVerticalJob(config.job)) {
    try {
      const result = await service.runVerticalJob((p) => logger.info(p.message, { job: config.job.jobId, phase: p.phase }));
      const reportFile = flagString(values, 'report');
      const job = service.store.getJob(config.job.jobId);
      if (reportFile !== undefined) writeFileSync(reportFile, `${JSON.stringify({ job, stopReason: job?.stopReason ?? null }, null, 2)}\n`);
      if (values.events === true && result !== undefined) {
        process.stdout.write(`${JSON.stringify({ type: 'vertical-result', metrics: result.train.metrics, epochs: result.train.epochs, intersections: result.intersections, counts: result.counts })}\n`);
      }
      logger.info('job ended', { job: config.job.jobId, reason: result !== undefined ? `completed, test AUC ${result.train.metrics.auc.toFixed(4)}` : 'already finished' });
    } finally {
      if (values['keep-serving'] !== true && !stopping) await service.close();
    }
    return 0;
  }
  try {
    const result = await service.runJob((e) => {
      if (values.events === true) process.stdout.write(`${eventLine(e)}\n`);
      if (e.type === 'round') {
        const m = e.record.metrics;
        progress.update(e.record.round, e.maxRounds, 'round', `acc ${m.accuracy.toFixed(4)} auc ${m.auc.toFixed(4)} (${e.record.received.length} in)${e.record.privacy !== undefined ? ` ε ${e.record.privacy.epsilon.toFixed(3)}` : ''}`);
      } else if (e.type === 'participant-excluded') {
        logger.warn('participant excluded', { participant: e.participantId, reason: e.reason });
      }
    });
    progress.end();
    const reportFile = flagString(values, 'report');
    if (reportFile !== undefined) {
      const job = service.store.getJob(config.job.jobId);
      writeFileSync(reportFile, `${JSON.stringify({ job, rounds: service.store.listRounds(config.job.jobId), stopReason: result?.stopReason ?? job?.stopReason ?? null }, null, 2)}\n`);
    }
    logger.info('job ended', { job: config.job.jobId, reason: result?.stopReason ?? 'already finished' });
  } finally {
    if (values['keep-serving'] !== true && !stopping) await service.close();
  }
  return 0;
}
