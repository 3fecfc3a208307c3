/**
 * Transport and identity: how the coordinator and the participants exchange envelopes, in memory
 * or as separate processes over gRPC with mutual TLS, and how their certificates are made.
 * The wire contract is `edufed.proto` beside this file.
 */
export {
  COORDINATOR_ID,
  RESERVED_KIND_PREFIX,
  HELLO_KIND,
  WELCOME_KIND,
  ERROR_KIND,
  CANCEL_KIND,
  type Envelope,
  type Tensor,
  type EnvelopeBody,
  type RequestOptions,
  type ParticipantLink,
  type CoordinatorTransport,
  type RequestContext,
  type RequestHandler,
} from './channel.js';
export {
  encodeEnvelope,
  encodeEnvelopeParts,
  firstTensorDataOffset,
  type EncodedEnvelope,
  decodeEnvelope,
  shapeSize, tensorBytes, MAX_SHORT_STRING_BYTES, MAX_TENSOR_RANK, TENSOR_DTYPE_F32 } from './envelope.js';
export {
  encodeFrame,
  decodeFrame,
  splitIntoFrames,
  FrameSplitter,
  type EncodedFrame,
  FrameAssembler,
  DEFAULT_CHUNK_BYTES,
  DEFAULT_MAX_ENVELOPE_BYTES,
  type Frame,
} from './frame.js';
export { TransportError, type TransportFailure } from './errors.js';
export { messageRecord, type MessageRecord, type AuditSink } from './audit.js';
export { stderrLogger, silentLogger, type TransportLogger, type LogFields } from './logger.js';
export { MemoryTransport, type MemoryTransportOptions, type MemoryParticipantOptions, type MemoryParticipant } from './memory.js';
export { startCoordinatorServer, GrpcCoordinatorTransport, type CoordinatorServerOptions } from './grpc-server.js';
export {
  connectParticipant,
  type ConnectParticipantOptions,
  type ParticipantConnection,
  type ParticipantConnectionState,
  type ParticipantTls,
} from './grpc-client.js';
export {
  FEDERATION_SERVICE,
  CONNECT_PATH,
  TRANSPORT_PROTOCOL_VERSION,
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_KEEPALIVE_MS,
  DEFAULT_KEEPALIVE_TIMEOUT_MS,
  type LinkTuning,
} from './grpc-service.js';
export { backoffDelay, DEFAULT_BACKOFF_INITIAL_MS, DEFAULT_BACKOFF_MAX_MS, type BackoffOptions } from './backoff.js';
export {
  identityFromCertificate,
  admitParticipant,
  isParticipantId,
  assertParticipantId,
  PARTICIPANT_URI_PREFIX,
  COORDINATOR_URI,
  type CertificateIdentity,
  type TlsPeerFacts,
  type Admission,
} from './identity.js';
export {
  REVOCATION_REASONS,
  isRevocationReason,
  normalizeSerial,
  revocationList,
  parseRevocationList,
  readRevocationList,
  writeRevocationList,
  RevocationFile,
  EMPTY_REVOCATION_LIST,
  type RevocationReason,
  type RevocationEntry,
  type RevocationList,
} from './revocation.js';
export {
  initFederation,
  issueCoordinator,
  issueParticipant,
  revokeParticipant,
  listCertificates,
  readTlsMaterial,
  caCertFile,
  caKeyFile,
  revocationFile,
  coordinatorFolder,
  participantFolder,
  DEFAULT_CA_DAYS,
  DEFAULT_LEAF_DAYS,
  type TlsMaterial,
  type CertificateSummary,
  type CertificateStatus,
} from './pki.js';
