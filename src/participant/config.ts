/**
 * A participant's configuration file (JSON): who it is, where the coordinator is, its TLS files,
 * where its data comes from, its ledger and its local policy. Relative paths are resolved against
 * the file's folder. See `examples/participant.json`.
 */
import { resolve } from 'node:path';
import { loadConfigFile } from '../core/config-file.js';
import { ConfigError } from '../core/errors.js';
import { isRecord, num, str, strArray, type JsonRecord } from '../core/validate.js';
import type { DataSourceConfig, RowFilter } from './data-source.js';
import type { ParticipantPolicy } from './policy.js';

/** A validated participant configuration with absolute paths. */
export interface ParticipantConfig {
  readonly id: string;
  /** Coordinator address, host:port. */
  readonly coordinator: string;
  /** Name expected in the coordinator's certificate, if not the address's host. */
  readonly serverName?: string;
  /** Folder with ca-cert.pem, cert.pem, key.pem (made by `edufed keys issue`). */
  readonly tls: string;
  readonly data: DataSourceConfig;
  readonly filter?: RowFilter;
  /** SQLite file of the local ledger: every message this platform sent or received. */
  readonly ledger: string;
  readonly policy?: ParticipantPolicy;
  /** Seed of local shuffles. */
  readonly seed: number;
}

function data(v: unknown, base: string): DataSourceConfig {
  if (!isRecord(v)) throw new ConfigError('data', 'must be an object with a "kind" (csv, sqlite or oulad)');
  const kind = v['kind'];
  const p = (key: string): string => resolve(base, str(v, key, 'data'));
  if (kind === 'csv') {
    const delimiter = v['delimiter'];
    if (delimiter !== undefined && typeof delimiter !== 'string') throw new ConfigError('data.delimiter', 'must be a string');
    return { kind, path: p('path'), schema: p('schema'), ...(delimiter !== undefined ? { delimiter } : {}) };
  }
  if (kind === 'sqlite') return { kind, path: p('path'), table: str(v, 'table', 'data'), schema: p('schema') };
  if (kind === 'oulad') {
    const task = v['task'] ?? 'early-warning';
    const label = v['label'] ?? 'pass';
    if (task !== 'early-warning' && task !== 'outcome') throw new ConfigError('data.task', 'must be "early-warning" or "outcome"');
    if (label !== 'pass' && label !== 'dropout' && label !== 'result') throw new ConfigError('data.label', 'must be "pass", "dropout" or "result"');
    const cutoff = v['cutoffDay'];
    return { kind, task, label, ...(cutoff !== undefined ? { cutoffDay: num(v, 'cutoffDay', 'data', { integer: true }) } : {}) };
  }
  throw new ConfigError('data.kind', `unknown data source ${JSON.stringify(kind)}; expected csv, sqlite or oulad`);
}

function policy(v: unknown): ParticipantPolicy | undefined {
  if (v === undefined) return undefined;
  if (!isRecord(v)) throw new ConfigError('policy', 'must be an object');
  const out: { -readonly [K in keyof ParticipantPolicy]: ParticipantPolicy[K] } = {};
  if (v['maxRounds'] !== undefined) out.maxRounds = num(v, 'maxRounds', 'policy', { integer: true, min: 1 });
  if (v['maxEpsilon'] !== undefined) out.maxEpsilon = num(v, 'maxEpsilon', 'policy', { min: Number.MIN_VALUE });
  if (v['allowedFeatures'] !== undefined) out.allowedFeatures = strArray(v, 'allowedFeatures', 'policy');
  if (v['forbiddenFeatures'] !== undefined) out.forbiddenFeatures = strArray(v, 'forbiddenFeatures', 'policy');
  return out;
}

/** Parses a participant configuration object. @throws ConfigError naming the field */
export function parseParticipantConfig(value: unknown, base: string): ParticipantConfig {
  if (!isRecord(value)) throw new ConfigError('participant config', 'must be a JSON object');
  const v: JsonRecord = value;
  const filter = v['filter'];
  if (filter !== undefined && !isRecord(filter)) throw new ConfigError('filter', 'must be { "column": ..., "value": ... }');
  const pol = policy(v['policy']);
  const serverName = v['serverName'];
  return {
    id: str(v, 'id', 'config'),
    coordinator: str(v, 'coordinator', 'config'),
    ...(typeof serverName === 'string' ? { serverName } : {}),
    tls: resolve(base, str(v, 'tls', 'config')),
    data: data(v['data'], base),
    ...(filter !== undefined ? { filter: { column: str(filter, 'column', 'filter'), value: str(filter, 'value', 'filter') } } : {}),
    ledger: resolve(base, str(v, 'ledger', 'config')),
    ...(pol !== undefined ? { policy: pol } : {}),
    seed: v['seed'] !== undefined ? num(v, 'seed', 'config', { integer: true, min: 0 }) : 42,
  };
}

/** Reads and parses a participant configuration file. */
export function loadParticipantConfig(file: string): ParticipantConfig {
  return loadConfigFile(file, parseParticipantConfig);
}
