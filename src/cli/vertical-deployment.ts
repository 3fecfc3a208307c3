/**
 * A vertical deployment laid out in one folder, for `edufed demo --vertical` and the multi-process
 * test: a federation CA with the coordinator's and each platform's certificate, each platform's
 * table as its own CSV file with its own schema (only the id column is shared), and the
 * configuration files of every process. The label holder is the platform whose schema has the label.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../core/errors.js';
import { saveSchema } from '../data/schema-io.js';
import type { PlatformTable } from '../federation/vertical/split-columns.js';
import type { VerticalTrainConfig } from '../federation/vertical/protocol.js';
import { coordinatorBase, prepareFederation, writePlatforms, type LocalDeployment } from './local-deployment.js';

/** The job part of a vertical deployment. */
export interface VerticalDeploymentJob {
  readonly train: VerticalTrainConfig;
  readonly idColumn: string;
  readonly testFraction: number;
  readonly stepTimeoutMs?: number;
}

/**
 * Writes keys, one CSV and schema per platform, and the configuration files.
 * @throws {ConfigError} unless exactly one platform's schema has a label column.
 */
export async function prepareVerticalDeployment(dir: string, platforms: readonly PlatformTable[], job: VerticalDeploymentJob): Promise<LocalDeployment> {
  const labelled = platforms.filter((p) => p.schema.columns.some((c) => c.type === 'label'));
  const holder = labelled[0];
  if (holder === undefined || labelled.length !== 1) throw new ConfigError('platforms', `exactly one platform must hold the label column, found ${labelled.length}`);
  const f = await prepareFederation(dir, platforms.map((p) => p.id));
  const { jobId, ...plan } = job.train;
  writeFileSync(f.coordinatorConfig, `${JSON.stringify({
    ...coordinatorBase(f, platforms.map((p) => p.id)),
    job: {
      kind: 'vertical',
      id: jobId,
      mode: plan.mode,
      labelHolder: holder.id,
      featureHolders: platforms.filter((p) => p !== holder).map((p) => p.id),
      idColumn: job.idColumn,
      epochs: plan.epochs,
      batchSize: plan.batchSize,
      learningRate: plan.learningRate,
      l2: plan.l2,
      seed: plan.seed,
      testFraction: job.testFraction,
      psi: { reveal: 'both', suite: 'x25519' },
      ...(job.stepTimeoutMs !== undefined ? { stepTimeoutMs: job.stepTimeoutMs } : {}),
      startTimeoutMs: 120_000,
    },
  }, null, 2)}\n`);
  // Each platform has its own schema: only the id column is shared.
  const participants = writePlatforms(dir, f, platforms.map((p) => {
    const home = join(dir, 'platforms', p.id);
    mkdirSync(home, { recursive: true });
    const schemaFile = join(home, 'schema.json');
    saveSchema(schemaFile, p.schema);
    return { id: p.id, raw: p.raw, schemaFile };
  }), plan.seed);
  return { dir, ...f, participants };
}
