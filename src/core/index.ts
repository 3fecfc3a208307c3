/** Core: typed errors, seeded randomness, project paths, numeric kernels and metrics. */
export {
  EduFedError,
  DataError,
  SchemaError,
  ConfigError,
  ValidationError,
  toErrorInfo,
  type DataLocation,
  type ErrorCode,
  type ErrorInfo,
} from './errors.js';
export { seededRng, cryptoRng, permutation, shuffleInPlace, hashString, type Rng } from './rng.js';
export { projectRoot } from './paths.js';
export { dot, axpy, scale, l2norm, sigmoid, softplus, logSigmoid, logsumexp, softmaxInPlace, type Vector } from './math.js';
export {
  accuracy,
  aucExact,
  f1,
  logLoss,
  metricsExact,
  summarize,
  mergeSummaries,
  metricsFromSummary,
  parseEvalSummary,
  SUMMARY_BINS,
  LOG_LOSS_EPS,
  type Metrics,
  type EvalSummary,
} from './metrics.js';
