/**
 * A complete deployment laid out in one folder, for the demo and the multi-process tests: a
 * federation CA with the coordinator's and each participant's certificate, each participant's rows
 * as its own CSV file, the agreed schema, and the configuration files of every process.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { toCsv } from '../data/csv.js';
import type { Schema } from '../data/schema.js';
import { saveSchema } from '../data/schema-io.js';
import type { HorizontalJobConfig } from '../federation/horizontal/job-config.js';
import type { RawPart } from '../simulation/partition-raw.js';
import { coordinatorFolder, initFederation, issueParticipant, participantFolder, revocationFile } from '../transport/pki.js';

/** The compiled `edufed` entry point, for spawning processes. */
export const EDUFED_MAIN = fileURLToPath(new URL('./main.js', import.meta.url));

/** What {@link prepareLocalDeployment} wrote. */
export interface LocalDeployment {
  readonly dir: string;
  readonly keys: string;
  readonly port: number;
  readonly apiPort: number;
  readonly database: string;
  readonly coordinatorConfig: string;
  readonly participants: readonly { readonly id: string; readonly config: string; readonly ledger: string }[];
}

/** A free TCP port on loopback (the usual bind-to-0 probe; another process could take it meanwhile). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** A participant id usable in a certificate from any label (e.g. "East Anglian Region" → "east-anglian-region"). */
export function participantSlug(s: string): string {
  const x = s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  return (x.length > 0 ? x : 'p').slice(0, 60);
}

/** A loopback deployment's federation: CA, certificates, two free ports and the coordinator's file names. */
export interface LoopbackFederation {
  readonly keys: string;
  readonly port: number;
  readonly apiPort: number;
  readonly database: string;
  readonly coordinatorConfig: string;
}

/** Creates the CA and a certificate per participant in `dir/keys`, and picks the coordinator's ports. */
export async function prepareFederation(dir: string, participantIds: readonly string[]): Promise<LoopbackFederation> {
  const keys = join(dir, 'keys');
  await initFederation(keys);
  for (const id of participantIds) await issueParticipant(keys, id);
  return { keys, port: await freePort(), apiPort: await freePort(), database: join(dir, 'coordinator.db'), coordinatorConfig: join(dir, 'coordinator.json') };
}

/** The part of a coordinator configuration every loopback deployment shares (listen, API, database, TLS, participants). */
export function coordinatorBase(f: LoopbackFederation, participantIds: readonly string[]): Record<string, unknown> {
  return {
    listen: { host: '127.0.0.1', port: f.port },
    api: { host: '127.0.0.1', port: f.apiPort },
    database: f.database,
    tls: coordinatorFolder(f.keys),
    revocationFile: revocationFile(f.keys),
    participants: [...participantIds],
  };
}

/** Writes each platform's rows as its own CSV file and its participant configuration, under `dir/platforms/<id>/`. */
export function writePlatforms(
  dir: string,
  f: LoopbackFederation,
  platforms: readonly { readonly id: string; readonly raw: RawPart['raw']; readonly schemaFile: string }[],
  seed: number,
): LocalDeployment['participants'] {
  return platforms.map((p) => {
    const home = join(dir, 'platforms', p.id);
    mkdirSync(home, { recursive: true });
    writeFileSync(join(home, 'data.csv'), toCsv(p.raw));
    const config = join(home, 'participant.json');
    const ledger = join(home, 'ledger.db');
    writeFileSync(config, `${JSON.stringify({
      id: p.id,
      coordinator: `127.0.0.1:${f.port}`,
      tls: participantFolder(f.keys, p.id),
      data: { kind: 'csv', path: join(home, 'data.csv'), schema: p.schemaFile },
      ledger,
      seed,
    }, null, 2)}\n`);
    return { id: p.id, config, ledger };
  });
}

/** Writes keys, data files and configurations for a coordinator and `parts.length` participants on loopback. */
export async function prepareLocalDeployment(
  dir: string,
  parts: readonly RawPart[],
  job: HorizontalJobConfig,
  schema: Schema,
  options: { readonly waitForParticipants?: number; readonly startTimeoutMs?: number; readonly maxMessageBytes?: number } = {},
): Promise<LocalDeployment> {
  const f = await prepareFederation(dir, parts.map((p) => p.id));
  const schemaFile = join(dir, 'job.schema.json');
  saveSchema(schemaFile, schema);
  const { schema: _inline, jobId, ...rest } = job;
  writeFileSync(f.coordinatorConfig, `${JSON.stringify({
    ...coordinatorBase(f, parts.map((p) => p.id)),
    ...(options.maxMessageBytes !== undefined ? { maxMessageBytes: options.maxMessageBytes } : {}),
    job: {
      id: jobId,
      schema: schemaFile,
      ...rest,
      waitForParticipants: options.waitForParticipants ?? parts.length,
      startTimeoutMs: options.startTimeoutMs ?? 120_000,
    },
  }, null, 2)}\n`);
  const participants = writePlatforms(dir, f, parts.map((p) => ({ id: p.id, raw: p.raw, schemaFile })), job.seed);
  return { dir, ...f, participants };
}
