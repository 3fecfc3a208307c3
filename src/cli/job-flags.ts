/**
 * The flags shared by `edufed simulate` and `edufed demo`: which data, how it is split among
 * participants, which model, which strategy and its hyper-parameters, how many rounds, which seed.
 */
import type { ParseArgsConfig } from 'node:util';
import { ConfigError } from '../core/errors.js';
import type { HorizontalJobConfig, StoppingConfig } from '../federation/horizontal/job-config.js';
import { AGGREGATION_MODES, DP_UNITS, type DpConfig, type PrivacyConfig } from '../federation/horizontal/privacy-config.js';
import type { ModelSpec } from '../models/model.js';
import type { DataSourceConfig } from '../participant/data-source.js';
import type { PartitionSpec } from '../simulation/partition-raw.js';
import type { Schema } from '../data/schema.js';
import { STRATEGY_NAMES, type StrategyConfig } from '../strategy/create-strategy.js';
import { flagChoice, flagIntList, flagNumber, flagOptionalNumber, flagString, type FlagValues } from './args.js';

/** parseArgs option declarations for job flags. */
export const JOB_FLAG_OPTIONS = {
  dataset: { type: 'string' },
  csv: { type: 'string' },
  sqlite: { type: 'string' },
  table: { type: 'string' },
  schema: { type: 'string' },
  delimiter: { type: 'string' },
  task: { type: 'string' },
  label: { type: 'string' },
  'cutoff-day': { type: 'string' },
  partition: { type: 'string' },
  dirichlet: { type: 'string' },
  alpha: { type: 'string' },
  iid: { type: 'string' },
  'test-fraction': { type: 'string' },
  'split-column': { type: 'string' },
  model: { type: 'string' },
  hidden: { type: 'string' },
  l2: { type: 'string' },
  strategy: { type: 'string' },
  fraction: { type: 'string' },
  'min-fit': { type: 'string' },
  epochs: { type: 'string' },
  batch: { type: 'string' },
  lr: { type: 'string' },
  mu: { type: 'string' },
  'server-lr': { type: 'string' },
  beta1: { type: 'string' },
  beta2: { type: 'string' },
  tau: { type: 'string' },
  'trim-beta': { type: 'string' },
  'krum-f': { type: 'string' },
  'krum-m': { type: 'string' },
  personal: { type: 'string' },
  rounds: { type: 'string' },
  'target-metric': { type: 'string' },
  'target-value': { type: 'string' },
  patience: { type: 'string' },
  seed: { type: 'string' },
  'min-category-count': { type: 'string' },
  aggregation: { type: 'string' },
  'secagg-threshold': { type: 'string' },
  'secagg-neighbours': { type: 'string' },
  'secagg-clip': { type: 'string' },
  dp: { type: 'string' },
  'dp-noise': { type: 'string' },
  'dp-clip': { type: 'string' },
  'dp-adaptive-clip': { type: 'string' },
  'dp-sigma': { type: 'string' },
  'dp-epsilon': { type: 'string' },
  'dp-delta': { type: 'string' },
  'dp-max-epsilon': { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

/** Help text for the job flags. */
export const JOB_FLAGS_HELP = `Data (one of):
  --dataset oulad            the embedded OULAD dataset (default)
    --task early-warning|outcome   (default early-warning)  --cutoff-day N (default 60)
    --label pass|dropout|result    (default pass)
  --csv FILE --schema FILE   any CSV (RFC 4180) typed by a schema (see: edufed schema infer)
    --delimiter C
  --sqlite FILE --table NAME|"SELECT ..." --schema FILE
Participants (simulation):
  --partition COLUMN         one participant per value (OULAD: region = 13, module = 7; default region)
  --dirichlet K --alpha A    K participants, label proportions ~ Dirichlet(A)
  --iid K                    K participants, uniform random split
  --test-fraction F          held-out share of each participant's rows (default 0.2)
  --split-column COL         use the platforms' own split instead: rows with COL = "test" are held out
Model:
  --model logistic|mlp       (default logistic)   --hidden 32,16 (mlp)   --l2 L
Strategy:
  --strategy ${STRATEGY_NAMES.join('|')}  (default fedavg)
  --fraction C  --min-fit M  --epochs E  --batch B (0 = full batch)  --lr η
  --mu μ (fedprox)  --server-lr η_s --beta1 --beta2 --tau (fedadam/fedyogi/fedadagrad)
  --trim-beta β (fedtrimmedavg)  --krum-f F --krum-m M (krum)  --personal BLOCK,... (fedper)
Rounds:
  --rounds R (default 20)  --target-metric auc|accuracy|f1|logLoss --target-value V  --patience R
  --seed S (default 42)  --min-category-count N
Privacy (see docs/threat-model.md):
  --aggregation plain|secagg+|ckks   how updates reach the coordinator (default plain)
    --secagg-threshold T --secagg-neighbours K --secagg-clip C   (SecAgg+; defaults as documented)
  --dp learner|platform|local        differential privacy unit (default none)
    --dp-clip C          per-example (learner) or per-update (platform, local) L2 clip (default 1)
    --dp-sigma σ | --dp-epsilon ε    noise multiplier, or the ε the job's rounds may spend in all
    --dp-delta δ (default 1e-5)  --dp-max-epsilon ε (stop before a round that would spend more)
    --dp-noise central|distributed   (platform) who adds the noise; distributed needs secagg+ or ckks
    --dp-adaptive-clip Q             (platform, central) adapt the clip to the Q-quantile of update norms`;

/** Builds the data source from flags. */
export function dataSourceFromFlags(v: FlagValues): DataSourceConfig {
  const csv = flagString(v, 'csv');
  const sqlite = flagString(v, 'sqlite');
  const dataset = flagString(v, 'dataset');
  const given = [csv, sqlite, dataset].filter((x) => x !== undefined).length;
  if (given > 1) throw new ConfigError('--dataset/--csv/--sqlite', 'give only one data source');
  if (csv !== undefined || sqlite !== undefined) {
    const schema = flagString(v, 'schema');
    if (schema === undefined) throw new ConfigError('--schema', `is required with ${csv !== undefined ? '--csv' : '--sqlite'} (write one with: edufed schema infer FILE.csv)`);
    if (csv !== undefined) {
      const delimiter = flagString(v, 'delimiter');
      return delimiter !== undefined ? { kind: 'csv', path: csv, schema, delimiter } : { kind: 'csv', path: csv, schema };
    }
    const table = flagString(v, 'table');
    if (table === undefined) throw new ConfigError('--table', 'is required with --sqlite');
    return { kind: 'sqlite', path: sqlite as string, table, schema };
  }
  if (dataset !== undefined && dataset !== 'oulad') throw new ConfigError('--dataset', `unknown dataset "${dataset}" (available: oulad)`);
  return {
    kind: 'oulad',
    task: flagChoice(v, 'task', ['early-warning', 'outcome'] as const, 'early-warning'),
    label: flagChoice(v, 'label', ['pass', 'dropout', 'result'] as const, 'pass'),
    cutoffDay: flagNumber(v, 'cutoff-day', 60, { integer: true }),
  };
}

/** Builds the simulation's partition from flags. */
export function partitionFromFlags(v: FlagValues, seed: number): PartitionSpec {
  const dirichlet = flagOptionalNumber(v, 'dirichlet', { integer: true, min: 1 });
  const iid = flagOptionalNumber(v, 'iid', { integer: true, min: 1 });
  if (dirichlet !== undefined && iid !== undefined) throw new ConfigError('--dirichlet/--iid', 'give only one');
  if (dirichlet !== undefined) return { kind: 'dirichlet', participants: dirichlet, alpha: flagNumber(v, 'alpha', 0.5, { min: 1e-6 }), seed };
  if (iid !== undefined) return { kind: 'iid', participants: iid, seed };
  const col = flagString(v, 'partition') ?? 'region';
  const alias: Record<string, string> = { module: 'code_module' };
  return { kind: 'column', column: alias[col] ?? col };
}

/** Builds the model spec from flags. */
export function modelFromFlags(v: FlagValues): ModelSpec {
  const kind = flagChoice(v, 'model', ['logistic', 'mlp'] as const, 'logistic');
  const l2 = flagOptionalNumber(v, 'l2', { min: 0 });
  if (kind === 'logistic') return l2 !== undefined ? { kind, l2 } : { kind };
  const hidden = flagIntList(v, 'hidden', [32]);
  return l2 !== undefined ? { kind, hidden, l2 } : { kind, hidden };
}

/** Builds the strategy configuration from flags. */
export function strategyFromFlags(v: FlagValues): StrategyConfig {
  const name = flagChoice(v, 'strategy', STRATEGY_NAMES, 'fedavg');
  const common = {
    fractionFit: flagNumber(v, 'fraction', 1, { min: 0, max: 1 }),
    minFit: flagNumber(v, 'min-fit', 1, { integer: true, min: 1 }),
    epochs: flagNumber(v, 'epochs', 1, { integer: true, min: 1 }),
    batchSize: flagNumber(v, 'batch', 32, { integer: true, min: 0 }),
    learningRate: flagNumber(v, 'lr', 0.1, { min: 0 }),
  };
  const opt = (flag: string, key: string): Record<string, number> => {
    const x = flagOptionalNumber(v, flag);
    return x === undefined ? {} : { [key]: x };
  };
  switch (name) {
    case 'fedavg':
    case 'fedmedian':
      return { name, ...common };
    case 'fedprox':
      return { name, ...common, proximalMu: flagNumber(v, 'mu', 0.01, { min: 0 }) };
    case 'fedper': {
      const personal = flagString(v, 'personal');
      return { name, ...common, personalBlocks: personal !== undefined ? personal.split(',').map((s) => s.trim()) : [] };
    }
    case 'fedadam':
    case 'fedyogi':
    case 'fedadagrad':
      return { name, ...common, ...opt('server-lr', 'eta'), ...opt('beta1', 'beta1'), ...opt('beta2', 'beta2'), ...opt('tau', 'tau') };
    case 'fedtrimmedavg':
      return { name, ...common, ...opt('trim-beta', 'beta') };
    case 'krum':
      return { name, ...common, ...opt('krum-f', 'numMalicious'), ...opt('krum-m', 'numToKeep') };
  }
}

/** Builds the stopping configuration from flags. */
export function stoppingFromFlags(v: FlagValues): StoppingConfig | undefined {
  const metrics = ['accuracy', 'auc', 'f1', 'logLoss'] as const;
  const targetMetricName = flagString(v, 'target-metric');
  const patience = flagOptionalNumber(v, 'patience', { integer: true, min: 1 });
  if (targetMetricName === undefined && patience === undefined) return undefined;
  const s: { -readonly [K in keyof StoppingConfig]: StoppingConfig[K] } = {};
  if (targetMetricName !== undefined) {
    s.targetMetric = flagChoice(v, 'target-metric', metrics, 'auc');
    const value = flagOptionalNumber(v, 'target-value');
    if (value === undefined) throw new ConfigError('--target-value', 'is required with --target-metric');
    s.targetValue = value;
  }
  if (patience !== undefined) s.patience = patience;
  return s;
}

/** Builds the privacy settings from flags; undefined when none are given. */
export function privacyFromFlags(v: FlagValues): PrivacyConfig | undefined {
  const aggregation = flagChoice(v, 'aggregation', AGGREGATION_MODES, 'plain');
  const secAgg: Record<string, number> = {};
  const threshold = flagOptionalNumber(v, 'secagg-threshold', { integer: true, min: 1 });
  const neighbours = flagOptionalNumber(v, 'secagg-neighbours', { integer: true, min: 1 });
  const clip = flagOptionalNumber(v, 'secagg-clip', { min: 0 });
  if (threshold !== undefined) secAgg['threshold'] = threshold;
  if (neighbours !== undefined) secAgg['neighbours'] = neighbours;
  if (clip !== undefined) secAgg['clipRange'] = clip;
  if (Object.keys(secAgg).length > 0 && aggregation !== 'secagg+') throw new ConfigError('--secagg-*', 'need --aggregation secagg+');
  const unitName = flagString(v, 'dp');
  let dp: DpConfig | undefined;
  if (unitName !== undefined) {
    const unit = flagChoice(v, 'dp', DP_UNITS, 'learner');
    const sigma = flagOptionalNumber(v, 'dp-sigma', { min: 0 });
    const epsilon = flagOptionalNumber(v, 'dp-epsilon', { min: 0 });
    if (sigma === undefined && epsilon === undefined) throw new ConfigError('--dp-sigma/--dp-epsilon', `--dp ${unit} needs one of them`);
    const noise = flagString(v, 'dp-noise');
    const quantile = flagOptionalNumber(v, 'dp-adaptive-clip', { min: 0, max: 1 });
    const delta = flagOptionalNumber(v, 'dp-delta', { min: 0, max: 1 });
    const maxEpsilon = flagOptionalNumber(v, 'dp-max-epsilon', { min: 0 });
    dp = {
      unit,
      clipNorm: flagNumber(v, 'dp-clip', 1, { min: 0 }),
      ...(sigma !== undefined ? { noiseMultiplier: sigma } : {}),
      ...(epsilon !== undefined ? { targetEpsilon: epsilon } : {}),
      ...(noise !== undefined ? { noise: flagChoice(v, 'dp-noise', ['central', 'distributed'] as const, 'central') } : {}),
      ...(quantile !== undefined ? { adaptiveClip: { targetQuantile: quantile } } : {}),
      ...(delta !== undefined ? { delta } : {}),
      ...(maxEpsilon !== undefined ? { maxEpsilon } : {}),
    };
  } else {
    for (const f of ['dp-noise', 'dp-clip', 'dp-adaptive-clip', 'dp-sigma', 'dp-epsilon', 'dp-delta', 'dp-max-epsilon']) {
      if (v[f] !== undefined) throw new ConfigError(`--${f}`, 'needs --dp learner|platform|local');
    }
  }
  if (aggregation === 'plain' && dp === undefined) return undefined;
  return {
    ...(aggregation !== 'plain' ? { aggregation } : {}),
    ...(Object.keys(secAgg).length > 0 ? { secAgg } : {}),
    ...(dp !== undefined ? { dp } : {}),
  };
}

/** Builds a whole job configuration from flags and a schema. */
export function jobFromFlags(v: FlagValues, schema: Schema, jobId: string): HorizontalJobConfig {
  const stopping = stoppingFromFlags(v);
  const minCat = flagOptionalNumber(v, 'min-category-count', { integer: true, min: 1 });
  const seed = flagNumber(v, 'seed', 42, { integer: true, min: 0 });
  const splitColumn = flagString(v, 'split-column');
  const privacy = privacyFromFlags(v);
  return {
    ...(splitColumn !== undefined ? { splitColumn } : {}),
    jobId,
    schema,
    testFraction: flagNumber(v, 'test-fraction', 0.2, { min: 0.01, max: 0.99 }),
    splitSeed: seed,
    model: modelFromFlags(v),
    strategy: strategyFromFlags(v),
    rounds: flagNumber(v, 'rounds', 20, { integer: true, min: 1 }),
    seed,
    ...(stopping !== undefined ? { stopping } : {}),
    ...(minCat !== undefined ? { minCategoryCount: minCat } : {}),
    ...(privacy !== undefined ? { privacy } : {}),
  };
}
