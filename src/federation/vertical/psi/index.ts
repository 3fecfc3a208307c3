/**
 * Private set intersection for vertical federated learning: ECDH-PSI over ristretto255
 * (hash-to-group per RFC 9380 / RFC 9496) between the label holder and a feature holder, relayed
 * end-to-end encrypted through the coordinator; exponentiation in ristretto255 (reference) or with
 * native X25519 (fast; see group.ts for why it is the same protocol).
 */
export {
  PSI_PROTOCOL_VERSION,
  PSI_ROLES,
  SEALED_STEPS,
  SEALED_STEP_ROUTE,
  HELLO_KEY_BYTES,
  PsiChannel,
  channelContext,
  decodeBody,
  isSealedStep,
  peerRole,
  sealedAad,
  type PsiBlinded,
  type PsiDoubleBlinded,
  type PsiErrorMessage,
  type PsiHello,
  type PsiMessage,
  type PsiPair,
  type PsiPeerAck,
  type PsiPeerBlinded,
  type PsiRelayed,
  type PsiRole,
  type PsiSealedEnvelope,
  type PsiSealedMessage,
  type PsiSealedStep,
  type PsiShuffled,
  type PsiStageResult,
  type PsiStep,
} from './protocol.js';
export { decodePsiEnvelope, encodePsiEnvelope, isPsiKind, psiKind, PSI_KIND_PREFIX } from './codec.js';
export {
  checkSalt,
  createJobSalt,
  createNormalizer,
  ID_RULES,
  MAX_SALT_BYTES,
  MIN_SALT_BYTES,
  normalizeId,
  resolveIdRule,
  SALT_BYTES,
  type IdRule,
  type IdRuleName,
  type IdRuleSpec,
} from './normalize.js';
export { expandMessageXmd, hashToRistretto255, loadSodium, PSI_DST, RISTRETTO_BYTES, RISTRETTO_HASH_BYTES, Xmd64, type Sodium } from './hash-to-group.js';
export {
  ELEMENT_BYTES,
  isCanonicalU,
  loadPsiGroup,
  PSI_SUITES,
  ristrettoToMontgomery,
  SECRET_BYTES,
  type PackedMessages,
  type PsiGroup,
  type PsiSecret,
  type PsiSuite,
} from './group.js';
export { FINGERPRINT_BYTES, FingerprintSet } from './fingerprint-set.js';
export { idColumnIndex, idSourceFromColumns, idSourceFromRawTable, idSourceFromTable, type ColumnMapping, type IdSource } from './id-source.js';
export {
  DEFAULT_BATCH_SIZE,
  fingerprintsOf,
  itemBatches,
  itemPrefix,
  MatchIndex,
  OwnItems,
  planStages,
  PSI_REVEALS,
  psiParamsDigest,
  resolvePsiParams,
  ShuffleBuffer,
  type ItemBatch,
  type ItemWalk,
  type PsiColumn,
  type PsiParams,
  type PsiParamsSpec,
  type PsiReveal,
  type PsiStagePlan,
} from './ecdh-psi.js';
export { inlineCompute, type PsiCompute, type PsiSecretHandle } from './compute.js';
export { workerCompute, type WorkerComputeOptions } from './worker-compute.js';
export {
  DEFAULT_PREFETCH,
  DEFAULT_WINDOW,
  FeatureHolderPsi,
  LabelHolderPsi,
  type PsiProgress,
  type PsiResult,
  type PsiSessionOptions,
  type PsiStageSummary,
} from './session.js';
