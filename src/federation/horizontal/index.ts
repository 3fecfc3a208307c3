/** Horizontal federated learning: the protocol, its wire codec, job configuration and the caller type. */
export type {
  DataTask,
  HorizontalReply,
  HorizontalRequest,
  StatsRequest,
  StatsResult,
  SetupRequest,
  SetupResult,
  TrainRequest,
  TrainResult,
  EvaluateRequest,
  EvaluateResult,
  FinishRequest,
  FinishResult,
  ErrorReply,
  ReplyTo,
} from './protocol.js';
export { REPLY_STEP } from './protocol.js';
export { decodeReply, decodeRequest, encodeReply, encodeRequest, KIND_PREFIX } from './codec.js';
export { validateJobConfig, type HorizontalJobConfig, type StoppingConfig } from './job-config.js';
export { abortable, type ParticipantCaller, type ParticipantCallers } from './caller.js';
