/**
 * Vertical federated learning within a region: platforms holding different features of partly
 * the same learners train one model without revealing their features, labels or rows.
 *
 * - Scenarios: {@link splitOulad} (the OULAD three-platform split), {@link splitByColumns} (any
 *   table by column groups), {@link syntheticVertical}.
 * - Alignment as the training consumes it ({@link VerticalAlignment}); {@link alignByIds} is the
 *   in-process stand-in for the PSI of `./psi/`.
 * - The protocol (`protocol.ts`, threat model included), its wire codec, the role objects
 *   {@link LabelHolder}, {@link FeatureHolder} and {@link Arbiter}, an {@link Outbox} for
 *   transports where only the coordinator asks, and the in-process runner {@link simulateVertical}
 *   with its report.
 * - Modes: `secure-lr` (lossless logistic regression on additive secret shares in Z_2^64 with
 *   dealer-given correlations, SecureML), `plain-lr` (the same in the clear, the speed baseline),
 *   `split-nn` (a split neural network).
 */
export type {
  Carried,
  DirectoryEntry,
  EmbeddingGradients,
  Embeddings,
  Endpoint,
  EpochEnd,
  EpochStart,
  Evaluate,
  EvaluateResult,
  FeatureHolderMaterial,
  Finish,
  FinishResult,
  GradientShares,
  Hello,
  HelloResult,
  LabelHolderMaterial,
  MaskedFeatures,
  PartialLogits,
  PartyRole,
  Phase,
  Presence,
  Residual,
  Score,
  ScoreResult,
  Send,
  Setup,
  SetupResult,
  SplitNnConfig,
  VerticalError,
  VerticalMessage,
  VerticalMode,
  VerticalRole,
  VerticalStep,
  VerticalTrainConfig,
} from './protocol.js';
export { isStep, maskContext, phaseLabel, sealAad, sealContext, STEP_ROLES } from './protocol.js';
export { decodeVerticalMessage, encodeVerticalMessage, KIND_PREFIX } from './codec.js';
export { Outbox } from './outbox.js';
export { checkTrainConfig, DEFAULT_SPLIT_NN, verticalTrainConfig, type VerticalTrainOptions } from './train-config.js';

export { LabelHolder } from './label-holder.js';
export { FeatureHolder, type FeatureHolderOptions } from './feature-holder.js';
export { Arbiter, type ArbiterOptions, type ArbiterParty, type EpochRecord, type VerticalEvent, type VerticalTrainResult } from './arbiter.js';
export { ARBITER } from './vertical-party.js';
export {
  joinedWeights,
  simulateVertical,
  type SimulateVerticalOptions,
  type VerticalPartyData,
  type VerticalSimulation,
  type VerticalWeights,
} from './simulate-vertical.js';
export {
  centralizedSpec,
  compareVertical,
  joinedDatasets,
  VERTICAL_METRICS,
  type JoinedData,
  type VerticalComparison,
  type VerticalMetric,
} from './vertical-report.js';

export { alignByIds, alignmentCounts, presenceOf, rowsForIds, type AlignmentCounts, type PartyIds, type VerticalAlignment } from './align.js';
export { alignedFeatures, encodePartyTable, type PartyFeatures } from './party-features.js';
export { BatchSchedule } from './batch-schedule.js';

export {
  splitByColumns,
  type ColumnGroup,
  type OverlapStats,
  type PairOverlap,
  type PlatformTable,
  type SplitColumnsOptions,
  type VerticalSplit,
} from './split-columns.js';
export { OULAD_DEFAULT_PRESENCE, OULAD_PLATFORMS, splitOulad, type OuladVerticalOptions, type OuladVerticalSplit } from './split-oulad.js';
export { syntheticSource, syntheticVertical, type SyntheticVerticalOptions } from './synthetic-scenario.js';

export {
  checkFractionBits,
  decodeFixed,
  DEFAULT_FRACTION_BITS,
  encodeFixed,
  productCapacity,
  RING_WORDS,
  ringAdd,
  ringLength,
  ringRandom,
  ringSub,
} from './ring.js';
export { gatherMulTReference, RingMatrix, ringKernelAvailable } from './ring-kernel.js';
export { dealerShare, featureHolderGradient, labelHolderShares, maskFeatureMatrix } from './gradient-shares.js';
export { Dealer, secureRandomBytes, type RandomBytes } from './dealer.js';
export { DenseNet } from './dense-net.js';
