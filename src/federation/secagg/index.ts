/**
 * SecAgg+ secure aggregation (Bell et al. CCS 2020, on Bonawitz et al. CCS 2017): the protocol's
 * messages, their wire codec, the participant's mod, the coordinator's round runner, its
 * configuration, and the quantisation and neighbourhood-graph building blocks.
 */
export type {
  SecAggSetupConfig,
  PublicKeys,
  NeighbourKeys,
  OwnedShare,
  SecAggSetupRequest,
  SecAggSetupResult,
  SecAggShareKeysRequest,
  SecAggShareKeysResult,
  SecAggCollectRequest,
  SecAggCollectResult,
  SecAggUnmaskRequest,
  SecAggUnmaskResult,
  SecAggErrorReply,
  SecAggRequest,
  SecAggReply,
  SecAggReplyTo,
} from './protocol.js';
export {
  SECAGG_REPLY_STEP,
  KEY_BYTES,
  SHARE_BYTES,
  SEALED_SHARES_BYTES,
  shareKeyContext,
  shareAad,
  maskContext,
  maskSign,
  shareCoordinates,
} from './protocol.js';
export { decodeReply, decodeRequest, encodeReply, encodeRequest, isSecAggKind, KIND_PREFIX, type ReplyExpectations } from './codec.js';
export { SecAggPlusClient, type SecAggPlusClientOptions, type SecAggTrain } from './client.js';
export {
  DEFAULT_SECAGG_CONFIG,
  planSecAggRound,
  resolveNeighbours,
  secAggPlusRound,
  validateSecAggConfig,
  type SecAggCall,
  type SecAggPlusConfig,
  type SecAggRoundPlan,
} from './server.js';
export { neighbourGraph, type NeighbourGraph } from './neighbours.js';
export {
  checkRingCapacity,
  decodeWeightedSum,
  dequantizeSum,
  quantizationLevels,
  quantize,
  quantizeWeightedDelta,
  ringAdd,
  updateWeight,
  type QuantizationGrid,
  type SecAggWeighting,
} from './quantize.js';
