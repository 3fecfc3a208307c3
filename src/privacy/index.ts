/**
 * Differential privacy: the RDP accountant for the sampled Gaussian mechanism, Gaussian noise, L2
 * clipping, adaptive clipping, platform-level DP-FedAvg (central, distributed and local noise),
 * learner-level DP-SGD, the per-job privacy ledger and noise calibration.
 */
export {
  computeRdp,
  epsilonFromRdp,
  noiseMultiplierFor,
  RdpAccountant,
  DEFAULT_RDP_ORDERS,
  OPACUS_RDP_ORDERS,
  TF_PRIVACY_DP_SGD_ORDERS,
  type NoiseMultiplierQuery,
  type PrivacySpent,
  type RdpConversion,
  type SgmSteps,
} from './rdp-accountant.js';
export { addGaussianNoise, gaussianNoise } from './gaussian-noise.js';
export { clipL2, clipDelta, type ClipResult, type ClippedDelta } from './clip.js';
export {
  AdaptiveClip,
  adjustedNoiseMultiplier,
  centredUnclippedBit,
  type AdaptiveClipOptions,
  type AdaptiveClipState,
  type AdaptiveClipUpdate,
} from './adaptive-clip.js';
export {
  dpFedAvg,
  DpFedAvgStrategy,
  centralNoiseStd,
  distributedNoiseStd,
  localNoiseStd,
  effectiveNoiseMultiplier,
  privatizeUpdate,
  type DpFedAvgOptions,
  type DpFedAvgResult,
  type DpFedAvgStats,
  type DpFedAvgUpdate,
  type PrivatizeOptions,
  type PrivatizedUpdate,
} from './dp-fedavg.js';
export { trainDpSgd, dpSgdSchedule, type DpSgdParams, type DpSgdResult, type DpSgdSchedule } from './dp-sgd.js';
export {
  PrivacyLedger,
  type AccountSpent,
  type BudgetCheck,
  type LedgerEntry,
  type PrivacyLedgerOptions,
  type PrivacyUnit,
} from './privacy-ledger.js';
export { calibrateDpSgd, calibrateDpFedAvg, type Calibration, type DpSgdCalibrationQuery, type DpFedAvgCalibrationQuery } from './calibrate.js';
