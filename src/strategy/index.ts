/**
 * Federated strategies (selection + aggregation), the weighted-average kernel, robust aggregation
 * rules and stopping rules. Everything here is pure: randomness comes from an injected Rng.
 */
export type { ClientUpdate, Strategy, TrainInstructions, TrainPlan } from './strategy.js';
export { weightedAverage, type WeightedParams } from './aggregate.js';
export { simdAvailable } from './simd-weighted-sum.js';
export { sampleSize, sampleWithoutReplacement } from './sample-participants.js';
export { FedAvg, FEDAVG_DEFAULTS, type FedAvgOptions } from './fedavg.js';
export { FedProx, type FedProxOptions } from './fedprox.js';
export { FedPer, type FedPerOptions } from './fedper.js';
export {
  FedOpt,
  FedAdam,
  FedYogi,
  FedAdagrad,
  type FedOptOptions,
  type FedAdamOptions,
  type FedYogiOptions,
  type FedAdagradOptions,
} from './fedopt.js';
export { coordinateMedian, trimmedMean, krumScores, krumSelect, krum } from './robust.js';
export { FedMedian, type FedMedianOptions } from './fed-median.js';
export { FedTrimmedAvg, type FedTrimmedAvgOptions } from './fed-trimmed-avg.js';
export { Krum, type KrumOptions } from './krum.js';
export {
  anyOf,
  maxRounds,
  noImprovement,
  targetMetric,
  type MetricMode,
  type RoundSummary,
  type StopDecision,
  type StoppingRule,
} from './stopping.js';
export {
  createStrategy,
  parseStrategyConfig,
  STRATEGY_NAMES,
  type StrategyName,
  type StrategyConfig,
  type FedAvgConfig,
  type FedProxConfig,
  type FedPerConfig,
  type FedAdamConfig,
  type FedYogiConfig,
  type FedAdagradConfig,
  type FedMedianConfig,
  type FedTrimmedAvgConfig,
  type KrumConfig,
} from './create-strategy.js';
