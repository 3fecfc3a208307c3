/**
 * SecAgg+ (Bell et al. CCS 2020, on Bonawitz et al. CCS 2017): every message between the
 * coordinator and a participant in one secure round, declared once. The coordinator asks; each
 * participant answers with the matching result or an error value. Participants never talk to each
 * other directly: what one sends another (public keys, encrypted shares) is relayed by the
 * coordinator, and the shares are end-to-end encrypted so that the relay learns nothing.
 *
 * One round: `secagg-setup` (fresh key pairs) → `secagg-share-keys` (Shamir shares of the self-mask
 * seed b_u and of the mask key s_sk_u, one sealed pair per neighbour) → `secagg-collect` (train,
 * then send the masked input) → `secagg-unmask` (shares that remove the masks: b for survivors,
 * s_sk for dropouts, never both for one participant).
 *
 * Also declared here, because both roles must agree on them bit for bit: the key-derivation labels,
 * the authenticated data of a sealed share and the x-coordinate each holder's share sits at.
 */
import type { ErrorInfo } from '../../core/errors.js';
import { shamir521 } from '../../crypto/shamir.js';
import type { TrainRequest } from '../horizontal/protocol.js';
import type { SecureMeta } from '../secure-round.js';
import type { SecAggWeighting } from './quantize.js';

/** Raw X25519 public key length. */
export const KEY_BYTES = 32;
/** Length of one Shamir share's y (GF(2^521 − 1)). */
export const SHARE_BYTES = shamir521.shareBytes;
/** Length of one sealed pair of shares: AES-GCM nonce (12) ‖ b-share ‖ s_sk-share ‖ tag (16). */
export const SEALED_SHARES_BYTES = 12 + 2 * SHARE_BYTES + 16;

/** What a participant is told about one round. */
export interface SecAggSetupConfig {
  /** t: shares needed to reconstruct a secret; a strict majority of the neighbourhood (with the participant). */
  readonly threshold: number;
  /** This participant's neighbours in the round's graph (sorted, without itself). */
  readonly neighbours: readonly string[];
  /** Update values are clipped to [−clipRange, clipRange] before quantisation. */
  readonly clipRange: number;
  /** Codes have this many bits (values 0 … 2^bits − 1) in the 2^32 ring. */
  readonly quantizationBits: number;
  readonly weighting: SecAggWeighting;
  /** `examples` weighting: w = min(numExamples, maxWeight) / maxWeight. */
  readonly maxWeight: number;
}

/** A participant's two fresh public keys: `cPk` seals shares, `sPk` agrees pairwise masks. */
export interface PublicKeys {
  readonly cPk: Uint8Array;
  readonly sPk: Uint8Array;
}

/** A neighbour's public keys, relayed by the coordinator. */
export interface NeighbourKeys extends PublicKeys {
  readonly participantId: string;
}

/** One participant's share of an owner's secret. */
export interface OwnedShare {
  readonly owner: string;
  /** The y of the share (x is implied by {@link shareX}). */
  readonly share: Uint8Array;
}

/** Stage 1 request: the round's settings and this participant's neighbours. */
export interface SecAggSetupRequest {
  readonly step: 'secagg-setup';
  readonly from: 'coordinator';
  readonly to: 'participant';
  readonly payload: { readonly round: number; readonly config: SecAggSetupConfig };
}
/** Stage 1 reply: two fresh public keys. */
export interface SecAggSetupResult {
  readonly step: 'secagg-setup-result';
  readonly from: 'participant';
  readonly to: 'coordinator';
  readonly payload: { readonly round: number } & PublicKeys;
}

/** Stage 2 request: the live neighbours' public keys. */
export interface SecAggShareKeysRequest {
  readonly step: 'secagg-share-keys';
  readonly from: 'coordinator';
  readonly to: 'participant';
  /** The public keys of the neighbours still in the round. */
  readonly payload: { readonly round: number; readonly keys: readonly NeighbourKeys[] };
}
/** Stage 2 reply: sealed share pairs, one per neighbour. */
export interface SecAggShareKeysResult {
  readonly step: 'secagg-share-keys-result';
  readonly from: 'participant';
  readonly to: 'coordinator';
  /** One sealed (b-share ‖ s_sk-share) per neighbour in the request, for the coordinator to forward. */
  readonly payload: { readonly round: number; readonly shares: readonly { readonly to: string; readonly ciphertext: Uint8Array }[] };
}

/** Stage 3 request: train on the global model; the sealed shares addressed to this participant. */
export interface SecAggCollectRequest {
  readonly step: 'secagg-collect';
  readonly from: 'coordinator';
  readonly to: 'participant';
  readonly payload: {
    readonly round: number;
    /** The horizontal train request of this round (its `round` equals the payload's). */
    readonly train: TrainRequest['payload'];
    /** The sealed shares neighbours addressed to this participant. */
    readonly shares: readonly { readonly from: string; readonly ciphertext: Uint8Array }[];
  };
}
/** Stage 3 reply: the masked input and plain metadata. */
export interface SecAggCollectResult {
  readonly step: 'secagg-collect-result';
  readonly from: 'participant';
  readonly to: 'coordinator';
  readonly payload: {
    readonly round: number;
    /** [Q(w), Q(w·Δ_1), …, Q(w·Δ_m)] + PRG(b_u) ± pairwise masks, modulo 2^32. */
    readonly masked: Uint32Array;
    /** Plain metadata, revealed as in plain rounds. */
    readonly meta: SecureMeta;
  };
}

/** Stage 4 request: who survived and who dropped, within the recipient's neighbourhood. */
export interface SecAggUnmaskRequest {
  readonly step: 'secagg-unmask';
  readonly from: 'coordinator';
  readonly to: 'participant';
  /** Restricted to the recipient's neighbourhood: whose masked input is in the sum, and who dropped after sharing keys. */
  readonly payload: { readonly round: number; readonly survivors: readonly string[]; readonly dropped: readonly string[] };
}
/** Stage 4 reply: the shares that remove the masks. */
export interface SecAggUnmaskResult {
  readonly step: 'secagg-unmask-result';
  readonly from: 'participant';
  readonly to: 'coordinator';
  /** A b-share for each survivor of the request, an s_sk-share for each dropped one. */
  readonly payload: { readonly round: number; readonly bShares: readonly OwnedShare[]; readonly sShares: readonly OwnedShare[] };
}

/** A participant's failure or refusal at any stage, as a value. */
export interface SecAggErrorReply {
  readonly step: 'secagg-error';
  readonly from: 'participant';
  readonly to: 'coordinator';
  readonly payload: ErrorInfo;
}

/** Every request the coordinator sends in a SecAgg+ round. */
export type SecAggRequest = SecAggSetupRequest | SecAggShareKeysRequest | SecAggCollectRequest | SecAggUnmaskRequest;
/** Every reply a participant sends in a SecAgg+ round. */
export type SecAggReply = SecAggSetupResult | SecAggShareKeysResult | SecAggCollectResult | SecAggUnmaskResult | SecAggErrorReply;

/** The reply step that answers each request step. */
export const SECAGG_REPLY_STEP = {
  'secagg-setup': 'secagg-setup-result',
  'secagg-share-keys': 'secagg-share-keys-result',
  'secagg-collect': 'secagg-collect-result',
  'secagg-unmask': 'secagg-unmask-result',
} as const satisfies Record<SecAggRequest['step'], SecAggReply['step']>;

/** The reply type that answers request type R. */
export type SecAggReplyTo<R extends SecAggRequest> = Extract<SecAggReply, { step: (typeof SECAGG_REPLY_STEP)[R['step']] }>;

/** HKDF context of the key that seals shares between two participants in one round. */
export function shareKeyContext(jobId: string, round: number): string {
  return `edufed/secagg+/share-key ${JSON.stringify([jobId, round])}`;
}

/** Authenticated data of a sealed share: binds job, round, sender and recipient (JSON, so no id can be confused with another). */
export function shareAad(jobId: string, round: number, from: string, to: string): string {
  return `edufed/secagg+/share ${JSON.stringify([jobId, round, from, to])}`;
}

/** HKDF context of the pairwise mask seed of participants a and b in one round (symmetric in a, b). */
export function maskContext(jobId: string, round: number, a: string, b: string): string {
  return `edufed/secagg+/mask ${JSON.stringify([jobId, round, a < b ? a : b, a < b ? b : a])}`;
}

/** The pairwise mask's sign in u's input: + when u sorts before v, − otherwise, so the pair cancels. */
export function maskSign(u: string, v: string): 1 | -1 {
  return u < v ? 1 : -1;
}

/**
 * The x-coordinates of the shares of `owner`'s secrets: holder → 1 + its rank in the owner's closed
 * neighbourhood (its neighbours and itself, sorted). Fixed at setup, so both roles compute the same.
 */
export function shareCoordinates(owner: string, ownerNeighbours: readonly string[]): ReadonlyMap<string, number> {
  return new Map([...ownerNeighbours, owner].sort().map((id, i) => [id, i + 1]));
}
