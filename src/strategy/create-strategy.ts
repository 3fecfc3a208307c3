/**
 * Strategies from plain JSON configuration: the shape CLI flags and job files map to.
 */
import { ConfigError } from '../core/errors.js';
import type { ParamBlock } from '../models/model.js';
import { FedMedian } from './fed-median.js';
import { FedTrimmedAvg, type FedTrimmedAvgOptions } from './fed-trimmed-avg.js';
import { FedAvg, type FedAvgOptions } from './fedavg.js';
import { FedAdagrad, FedAdam, FedYogi, type FedAdagradOptions, type FedAdamOptions, type FedYogiOptions } from './fedopt.js';
import { FedPer, type FedPerOptions } from './fedper.js';
import { FedProx, type FedProxOptions } from './fedprox.js';
import { Krum, type KrumOptions } from './krum.js';
import type { Strategy } from './strategy.js';

/** Every strategy name a configuration may use. */
export const STRATEGY_NAMES = [
  'fedavg', 'fedprox', 'fedper', 'fedadam', 'fedyogi', 'fedadagrad', 'fedmedian', 'fedtrimmedavg', 'krum',
] as const;

/** A strategy name as written in configuration. */
export type StrategyName = (typeof STRATEGY_NAMES)[number];

/** `{ name: 'fedavg', ...FedAvgOptions }` */
export interface FedAvgConfig extends FedAvgOptions { readonly name: 'fedavg' }
/** `{ name: 'fedprox', proximalMu, ...FedAvgOptions }` */
export interface FedProxConfig extends FedProxOptions { readonly name: 'fedprox' }
/** `{ name: 'fedper', personalBlocks, ...FedAvgOptions }` */
export interface FedPerConfig extends FedPerOptions { readonly name: 'fedper' }
/** `{ name: 'fedadam', eta?, beta1?, beta2?, tau?, ...FedAvgOptions }` */
export interface FedAdamConfig extends FedAdamOptions { readonly name: 'fedadam' }
/** `{ name: 'fedyogi', eta?, beta1?, beta2?, tau?, ...FedAvgOptions }` */
export interface FedYogiConfig extends FedYogiOptions { readonly name: 'fedyogi' }
/** `{ name: 'fedadagrad', eta?, beta1?, tau?, ...FedAvgOptions }` */
export interface FedAdagradConfig extends FedAdagradOptions { readonly name: 'fedadagrad' }
/** `{ name: 'fedmedian', ...FedAvgOptions }` */
export interface FedMedianConfig extends FedAvgOptions { readonly name: 'fedmedian' }
/** `{ name: 'fedtrimmedavg', beta?, ...FedAvgOptions }` */
export interface FedTrimmedAvgConfig extends FedTrimmedAvgOptions { readonly name: 'fedtrimmedavg' }
/** `{ name: 'krum', numMalicious?, numToKeep?, ...FedAvgOptions }` */
export interface KrumConfig extends KrumOptions { readonly name: 'krum' }

/** A strategy and its options, discriminated by `name`. */
export type StrategyConfig =
  | FedAvgConfig
  | FedProxConfig
  | FedPerConfig
  | FedAdamConfig
  | FedYogiConfig
  | FedAdagradConfig
  | FedMedianConfig
  | FedTrimmedAvgConfig
  | KrumConfig;

const COMMON = ['fractionFit', 'minFit', 'epochs', 'batchSize', 'learningRate'] as const;
const FEDOPT = ['eta', 'beta1', 'tau'] as const;

/** The options each strategy accepts besides `name`. */
const OPTIONS: Readonly<Record<StrategyName, readonly string[]>> = {
  fedavg: COMMON,
  fedprox: [...COMMON, 'proximalMu'],
  fedper: [...COMMON, 'personalBlocks'],
  fedadam: [...COMMON, ...FEDOPT, 'beta2'],
  fedyogi: [...COMMON, ...FEDOPT, 'beta2'],
  fedadagrad: [...COMMON, ...FEDOPT],
  fedmedian: COMMON,
  fedtrimmedavg: [...COMMON, 'beta'],
  krum: [...COMMON, 'numMalicious', 'numToKeep'],
};

function isStrategyName(x: unknown): x is StrategyName {
  return typeof x === 'string' && (STRATEGY_NAMES as readonly string[]).includes(x);
}

/** The numeric options among `keys` that are present (type-checked only; ranges are the constructors'). */
function numbers<K extends string>(obj: Readonly<Record<string, unknown>>, keys: readonly K[]): { [P in K]?: number } {
  const out: { [P in K]?: number } = {};
  for (const key of keys) {
    const v = obj[key];
    if (v === undefined) continue;
    if (typeof v !== 'number') throw new ConfigError(`strategy.${key}`, `must be a number, got ${JSON.stringify(v)}`);
    out[key] = v;
  }
  return out;
}

function requiredNumber(obj: Readonly<Record<string, unknown>>, key: string, name: string): number {
  const v = obj[key];
  if (typeof v !== 'number') {
    throw new ConfigError(`strategy.${key}`, v === undefined ? `is required for ${name}` : `must be a number, got ${JSON.stringify(v)}`);
  }
  return v;
}

function stringList(obj: Readonly<Record<string, unknown>>, key: string, name: string): string[] {
  const v = obj[key];
  if (v === undefined) throw new ConfigError(`strategy.${key}`, `is required for ${name}`);
  if (!Array.isArray(v)) throw new ConfigError(`strategy.${key}`, `must be an array of block names, got ${JSON.stringify(v)}`);
  const out: string[] = [];
  for (const item of v) {
    if (typeof item !== 'string') throw new ConfigError(`strategy.${key}`, `must contain only strings, got ${JSON.stringify(item)}`);
    out.push(item);
  }
  return out;
}

function isRecord(x: unknown): x is Readonly<Record<string, unknown>> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/**
 * Checks an untrusted value (parsed JSON, mapped flags) and returns it as a typed configuration.
 * Value ranges are checked when the strategy is built.
 * @throws ConfigError naming `strategy`, `strategy.name` or `strategy.<option>` for a non-object,
 *   an unknown name, an option the strategy does not take, a missing required option or a wrong type.
 */
export function parseStrategyConfig(value: unknown): StrategyConfig {
  if (!isRecord(value)) throw new ConfigError('strategy', 'must be an object with a "name"');
  const name = value['name'];
  if (!isStrategyName(name)) {
    throw new ConfigError('strategy.name', `unknown strategy ${JSON.stringify(name)}; expected one of: ${STRATEGY_NAMES.join(', ')}`);
  }
  const allowed = OPTIONS[name];
  for (const key of Object.keys(value)) {
    if (key !== 'name' && !allowed.includes(key)) {
      throw new ConfigError(`strategy.${key}`, `is not an option of ${name}; it takes: ${allowed.join(', ')}`);
    }
  }
  const common = numbers(value, COMMON);
  switch (name) {
    case 'fedavg':
    case 'fedmedian':
      return { name, ...common };
    case 'fedprox':
      return { name, ...common, proximalMu: requiredNumber(value, 'proximalMu', name) };
    case 'fedper':
      return { name, ...common, personalBlocks: stringList(value, 'personalBlocks', name) };
    case 'fedadam':
    case 'fedyogi':
      return { name, ...common, ...numbers(value, [...FEDOPT, 'beta2']) };
    case 'fedadagrad':
      return { name, ...common, ...numbers(value, FEDOPT) };
    case 'fedtrimmedavg':
      return { name, ...common, ...numbers(value, ['beta']) };
    case 'krum':
      return { name, ...common, ...numbers(value, ['numMalicious', 'numToKeep']) };
  }
}

/**
 * Builds the strategy a configuration names.
 * @param layout the model's parameter layout (used by FedPer).
 * @throws ConfigError as {@link parseStrategyConfig}, or from the strategy's constructor naming
 *   the out-of-range option.
 */
export function createStrategy(config: StrategyConfig, layout: readonly ParamBlock[]): Strategy {
  const c = parseStrategyConfig(config);
  switch (c.name) {
    case 'fedavg':
      return new FedAvg(c);
    case 'fedprox':
      return new FedProx(c);
    case 'fedper':
      return new FedPer(layout, c);
    case 'fedadam':
      return new FedAdam(c);
    case 'fedyogi':
      return new FedYogi(c);
    case 'fedadagrad':
      return new FedAdagrad(c);
    case 'fedmedian':
      return new FedMedian(c);
    case 'fedtrimmedavg':
      return new FedTrimmedAvg(c);
    case 'krum':
      return new Krum(c);
  }
}
