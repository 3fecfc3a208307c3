/**
 * The coordinator's configuration file (JSON). Relative paths are resolved against the file's
 * folder, so a deployment folder can be moved as a whole. See `examples/coordinator.json`.
 */
import { resolve } from 'node:path';
import { loadConfigFile } from '../core/config-file.js';
import { ConfigError } from '../core/errors.js';
import { isRecord, num, str, type JsonRecord } from '../core/validate.js';
import { loadSchema } from '../data/schema-io.js';
import { validateJobConfig, type HorizontalJobConfig, type StoppingConfig } from '../federation/horizontal/job-config.js';
import { parseModelSpec } from '../models/parse-model-spec.js';
import { parseStrategyConfig } from '../strategy/create-strategy.js';
import { parsePrivacyConfig } from '../federation/horizontal/privacy-config.js';
import { isVerticalJobSection, parseVerticalJob, type VerticalJobConfig } from './vertical-config.js';

/** A validated coordinator configuration with absolute paths. */
export interface CoordinatorConfig {
  /** gRPC/TLS endpoint participants dial. */
  readonly listen: { readonly host: string; readonly port: number };
  /** HTTP JSON API (status, jobs, rounds, metrics); absent: no API. */
  readonly api?: { readonly host: string; readonly port: number };
  /** SQLite database holding all state. */
  readonly database: string;
  /** Folder with ca-cert.pem, cert.pem, key.pem (made by `edufed keys`). */
  readonly tls: string;
  /** Revocation list written by `edufed keys revoke`. */
  readonly revocationFile?: string;
  /** Largest message accepted from a participant, in bytes (default: the transport's 256 MiB). */
  readonly maxMessageBytes?: number;
  /** If given, only these participant ids are admitted (besides holding a valid certificate). */
  readonly participants?: readonly string[];
  /** A horizontal job, or a vertical one (`job.kind: "vertical"`, see `vertical-config.ts`). */
  readonly job: HorizontalJobConfig | VerticalJobConfig;
  /** Training starts once this many participants are connected. */
  readonly waitForParticipants: number;
  /** How long to wait for them before failing. */
  readonly startTimeoutMs: number;
}

function optionalObject(o: JsonRecord, key: string, where: string): JsonRecord | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (!isRecord(v)) throw new ConfigError(`${where}.${key}`, 'must be an object');
  return v;
}

function endpoint(o: JsonRecord, where: string): { host: string; port: number } {
  return {
    host: typeof o['host'] === 'string' ? o['host'] : '127.0.0.1',
    port: num(o, 'port', where, { integer: true, min: 0, max: 65535 }),
  };
}

function optionalNumber(o: JsonRecord, key: string, where: string, opts: { integer?: boolean; min?: number; max?: number } = {}): number | undefined {
  return o[key] === undefined ? undefined : num(o, key, where, opts);
}

function stopping(o: JsonRecord | undefined): StoppingConfig | undefined {
  if (o === undefined) return undefined;
  const metric = o['targetMetric'];
  const metrics = ['accuracy', 'auc', 'f1', 'logLoss'] as const;
  const pick = (v: unknown, field: string): (typeof metrics)[number] | undefined => {
    if (v === undefined) return undefined;
    const m = metrics.find((x) => x === v);
    if (m === undefined) throw new ConfigError(field, `must be one of ${metrics.join(', ')}`);
    return m;
  };
  const targetMetric = pick(metric, 'job.stopping.targetMetric');
  const patienceMetric = pick(o['patienceMetric'], 'job.stopping.patienceMetric');
  const targetValue = optionalNumber(o, 'targetValue', 'job.stopping');
  const patience = optionalNumber(o, 'patience', 'job.stopping', { integer: true, min: 1 });
  return {
    ...(targetMetric !== undefined ? { targetMetric } : {}),
    ...(targetValue !== undefined ? { targetValue } : {}),
    ...(patience !== undefined ? { patience } : {}),
    ...(patienceMetric !== undefined ? { patienceMetric } : {}),
  };
}

/** Parses a coordinator configuration object; `base` resolves relative paths. @throws ConfigError naming the field */
export function parseCoordinatorConfig(value: unknown, base: string): CoordinatorConfig {
  if (!isRecord(value)) throw new ConfigError('coordinator config', 'must be a JSON object');
  const path = (o: JsonRecord, key: string, where: string): string => resolve(base, str(o, key, where));
  const listen = optionalObject(value, 'listen', 'config');
  if (listen === undefined) throw new ConfigError('listen', 'is required, e.g. { "host": "0.0.0.0", "port": 7443 }');
  const api = optionalObject(value, 'api', 'config');
  const j = optionalObject(value, 'job', 'config');
  if (j === undefined) throw new ConfigError('job', 'is required');
  const participants = value['participants'];
  if (participants !== undefined && (!Array.isArray(participants) || !participants.every((p): p is string => typeof p === 'string'))) {
    throw new ConfigError('participants', 'must be an array of participant ids');
  }
  const revocationValue = value['revocationFile'];
  const common = {
    listen: endpoint(listen, 'listen'),
    ...(api !== undefined ? { api: endpoint(api, 'api') } : {}),
    database: path(value, 'database', 'config'),
    tls: path(value, 'tls', 'config'),
    ...(revocationValue !== undefined ? { revocationFile: path(value, 'revocationFile', 'config') } : {}),
    ...(participants !== undefined ? { participants } : {}),
    ...(value['maxMessageBytes'] !== undefined ? { maxMessageBytes: num(value, 'maxMessageBytes', 'config', { integer: true, min: 1024 }) } : {}),
  };
  if (isVerticalJobSection(j)) {
    const vertical = parseVerticalJob(j);
    return {
      ...common,
      job: vertical,
      waitForParticipants: optionalNumber(j, 'waitForParticipants', 'job', { integer: true, min: 1 }) ?? vertical.featureHolders.length + 1,
      startTimeoutMs: optionalNumber(j, 'startTimeoutMs', 'job', { min: 1 }) ?? 300_000,
    };
  }
  const stop = stopping(optionalObject(j, 'stopping', 'job'));
  const optional = {
    minCategoryCount: optionalNumber(j, 'minCategoryCount', 'job', { integer: true, min: 1 }),
    roundTimeoutMs: optionalNumber(j, 'roundTimeoutMs', 'job', { min: 1 }),
    minParticipants: optionalNumber(j, 'minParticipants', 'job', { integer: true, min: 1 }),
    waitFraction: optionalNumber(j, 'waitFraction', 'job', { min: 0, max: 1 }),
    maxUpdateNorm: optionalNumber(j, 'maxUpdateNorm', 'job', { min: 0 }),
  };
  const seed = optionalNumber(j, 'seed', 'job', { integer: true, min: 0 }) ?? 42;
  const job: HorizontalJobConfig = {
    jobId: str(j, 'id', 'job'),
    schema: loadSchema(path(j, 'schema', 'job')),
    testFraction: optionalNumber(j, 'testFraction', 'job', { min: 0, max: 1 }) ?? 0.2,
    splitSeed: optionalNumber(j, 'splitSeed', 'job', { integer: true, min: 0 }) ?? seed,
    ...(j['splitColumn'] !== undefined ? { splitColumn: str(j, 'splitColumn', 'job') } : {}),
    model: parseModelSpec(j['model'] ?? { kind: 'logistic' }, 'job.model'),
    strategy: parseStrategyConfig(j['strategy'] ?? { name: 'fedavg' }),
    rounds: num(j, 'rounds', 'job', { integer: true, min: 1 }),
    seed,
    ...(stop !== undefined ? { stopping: stop } : {}),
    ...(j['privacy'] !== undefined ? { privacy: parsePrivacyConfig(j['privacy']) } : {}),
    ...Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined)),
  };
  validateJobConfig(job);
  const revocation = value['revocationFile'];
  return {
    listen: endpoint(listen, 'listen'),
    ...(api !== undefined ? { api: endpoint(api, 'api') } : {}),
    database: path(value, 'database', 'config'),
    tls: path(value, 'tls', 'config'),
    ...(revocation !== undefined ? { revocationFile: path(value, 'revocationFile', 'config') } : {}),
    ...(participants !== undefined ? { participants } : {}),
    ...(value['maxMessageBytes'] !== undefined ? { maxMessageBytes: num(value, 'maxMessageBytes', 'config', { integer: true, min: 1024 }) } : {}),
    job,
    waitForParticipants: optionalNumber(j, 'waitForParticipants', 'job', { integer: true, min: 1 }) ?? job.minParticipants ?? 1,
    startTimeoutMs: optionalNumber(j, 'startTimeoutMs', 'job', { min: 1 }) ?? 300_000,
  };
}

/** True when the configured job is vertical. */
export function isVerticalJob(job: CoordinatorConfig['job']): job is VerticalJobConfig {
  return 'kind' in job && job.kind === 'vertical';
}

/** Reads and parses a coordinator configuration file. */
export function loadCoordinatorConfig(file: string): CoordinatorConfig {
  return loadConfigFile(file, parseCoordinatorConfig);
}
