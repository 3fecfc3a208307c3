/**
 * CKKS secure aggregation: every message between the coordinator and a participant, declared once.
 * The coordinator holds only the CKKS public key; every participant holds the secret key; the
 * coordinator adds the participants' ciphertexts and asks one participant to decrypt the sum.
 *
 * Key setup, once per job (and again for participants that join later or lost their key):
 * 1. `ckks-hello` to each participant → a fresh X25519 public key (its "agreement key").
 * 2. `ckks-keygen` to one leader, with the others' agreement keys → the CKKS public key, and for
 *    each other participant the CKKS secret key sealed with AES-256-GCM under
 *    agreeKey(leader, peer, job context) (RFC 7748 + RFC 5869). The coordinator relays it and cannot open it.
 *    For a participant joining later, `ckks-share` asks any current key holder for the same sealing.
 * 3. `ckks-install` to each recipient: the sealed secret key, the sealer's agreement key and the
 *    CKKS public key → ok (the recipient checks that the secret key matches the public key).
 *
 * Each round:
 * 4. `ckks-collect` (a horizontal train request) → ciphertexts of [1, w, w·(x_k − global)] and plain meta.
 * 5. `ckks-decrypt` to one participant, with the summed ciphertexts and the contributor list → the
 *    plaintext sum as float64.
 *
 * Threat note (honest-but-curious coordinator; see also docs/threat-model.md):
 * - The coordinator never holds the secret key; alone it learns only the decrypted sums.
 * - Every participant holds the same secret key (SEAL has no threshold decryption): a coordinator
 *   colluding with any one participant can decrypt every individual ciphertext.
 * - A decryptor refuses a sum with fewer than its `minInputs` contributors, one whose count slot
 *   disagrees with the contributor list, and a second, different contributor list for a round it
 *   already decrypted. None of this binds a malicious coordinator: it holds the public key, so it
 *   can encrypt a fake count, or add one participant's ciphertext to encryptions of zero, and
 *   present a single input as a sum; it can also ask another decryptor for a different subset. The
 *   checks stop mistakes, not a coordinator that lies.
 * - The agreement keys are relayed by the coordinator unauthenticated: a coordinator that replaces
 *   them (an active attack) can read the sealed secret key. The design assumes the coordinator
 *   relays them faithfully; binding them to the participants' TLS certificates would remove this.
 * - Inputs cannot be inspected: a participant can put any value within the per-input bound into the sum.
 */
import type { ErrorCode } from '../../core/errors.js';
import type { CkksParams } from '../../crypto/ckks.js';
import type { TrainRequest } from '../horizontal/protocol.js';
import type { SecureMeta } from '../secure-round.js';

/** How a participant's delta is weighted: by its training examples n_k, or 1 each. */
export type CkksWeighting = 'examples' | 'uniform';

/** Slot layout of a participant's plaintext vector: [count = 1, w, w·delta_1, …, w·delta_P]. */
export const SLOT_COUNT = 0;
/** Slot of the weight w. */
export const SLOT_WEIGHT = 1;
/** First slot of the weighted delta. */
export const SLOT_DELTA = 2;

/** A participant's X25519 public key, as relayed by the coordinator. */
export interface AgreementKey {
  readonly participantId: string;
  /** Raw 32-byte X25519 public key. */
  readonly publicKey: Uint8Array;
}

/** The CKKS secret key sealed for one participant. */
export interface SealedSecretKey {
  readonly participantId: string;
  /** AES-256-GCM: nonce ‖ ciphertext ‖ tag. */
  readonly sealed: Uint8Array;
}

interface Down<S extends string, P> {
  readonly step: S;
  readonly from: 'coordinator';
  readonly to: 'participant';
  readonly payload: P;
}

interface Up<S extends string, P> {
  readonly step: S;
  readonly from: 'participant';
  readonly to: 'coordinator';
  readonly payload: P;
}

/** Key setup 1: asks for a fresh agreement key for this job (replacing any earlier one). */
export type CkksHelloRequest = Down<'ckks-hello', { readonly params: CkksParams }>;
/** The participant's fresh agreement key (raw X25519 public key, 32 bytes). */
export type CkksHelloResult = Up<'ckks-hello-result', { readonly agreementKey: Uint8Array }>;

/** Key setup 2: the leader creates the job's CKKS keys and seals the secret key to each peer. */
export type CkksKeygenRequest = Down<'ckks-keygen', { readonly params: CkksParams; readonly peers: readonly AgreementKey[] }>;
/** The new CKKS public key, and the secret key sealed to each peer whose agreement key was usable. */
export type CkksKeygenResult = Up<'ckks-keygen-result', { readonly publicKey: Uint8Array; readonly sealed: readonly SealedSecretKey[] }>;

/** Key setup 2 for late joiners: a key holder seals the secret key it holds to new peers. */
export type CkksShareRequest = Down<'ckks-share', { readonly peers: readonly AgreementKey[] }>;
/** The job's secret key sealed to each new peer whose agreement key was usable. */
export type CkksShareResult = Up<'ckks-share-result', { readonly sealed: readonly SealedSecretKey[] }>;

/** Key setup 3: a participant opens and installs the secret key sealed to it. */
export type CkksInstallRequest = Down<
  'ckks-install',
  {
    readonly params: CkksParams;
    /** Who sealed the key (the leader or a key holder). */
    readonly sealer: string;
    /** The sealer's agreement key. */
    readonly sealerKey: Uint8Array;
    readonly publicKey: Uint8Array;
    readonly sealedSecretKey: Uint8Array;
  }
>;
/** The id (`ckksKeyId`: SHA-256 of the public key) of the key now installed. */
export type CkksInstallResult = Up<'ckks-install-result', { readonly keyId: string }>;

/** Round step 1: train, then send the encrypted weighted delta. */
export type CkksCollectRequest = Down<
  'ckks-collect',
  {
    readonly train: TrainRequest['payload'];
    readonly weighting: CkksWeighting;
    /** Most contributors a sum may have: each slot of an input must stay within capacity / maxInputs. */
    readonly maxInputs: number;
    /** SHA-256 (hex) of the CKKS public key the coordinator aggregates under. */
    readonly keyId: string;
  }
>;
/** The encrypted weighted delta and the plain metadata. */
export type CkksCollectResult = Up<
  'ckks-collect-result',
  {
    readonly round: number;
    /** Serialised ciphertexts of [1, w, w·delta], 4096 slots each. */
    readonly ciphertexts: readonly Uint8Array[];
    /** Plain metadata every mode reveals: loss, training time, evaluation summary. */
    readonly meta: SecureMeta;
  }
>;

/** Round step 2: decrypt the coordinator's sum. */
export type CkksDecryptRequest = Down<
  'ckks-decrypt',
  {
    readonly round: number;
    readonly keyId: string;
    /** Who is in the sum, sorted. The decryptor cannot verify this list; see the threat note. */
    readonly contributors: readonly string[];
    /** Number of slots to return (2 + model size). */
    readonly length: number;
    readonly ciphertexts: readonly Uint8Array[];
  }
>;
/** The decrypted sum, all `length` slots as float64 (count, weight sum, weighted delta sum). */
export type CkksDecryptResult = Up<'ckks-decrypt-result', { readonly round: number; readonly values: Float64Array }>;

/** A participant's failure, as a value. */
export type CkksErrorReply = Up<
  'ckks-error',
  {
    readonly code: ErrorCode;
    readonly message: string;
    /** True when the participant holds no CKKS key for this job, or another one: install it again. */
    readonly needsKey: boolean;
  }
>;

/** Every request of the CKKS protocol. */
export type CkksRequest = CkksHelloRequest | CkksKeygenRequest | CkksShareRequest | CkksInstallRequest | CkksCollectRequest | CkksDecryptRequest;
/** Every reply of the CKKS protocol. */
export type CkksReply =
  | CkksHelloResult
  | CkksKeygenResult
  | CkksShareResult
  | CkksInstallResult
  | CkksCollectResult
  | CkksDecryptResult
  | CkksErrorReply;

/** The reply step that answers each request step. */
export const CKKS_REPLY_STEP = {
  'ckks-hello': 'ckks-hello-result',
  'ckks-keygen': 'ckks-keygen-result',
  'ckks-share': 'ckks-share-result',
  'ckks-install': 'ckks-install-result',
  'ckks-collect': 'ckks-collect-result',
  'ckks-decrypt': 'ckks-decrypt-result',
} as const satisfies Record<CkksRequest['step'], CkksReply['step']>;

/** The reply type that answers request type R. */
export type CkksReplyTo<R extends CkksRequest> = Extract<CkksReply, { step: (typeof CKKS_REPLY_STEP)[R['step']] }>;
