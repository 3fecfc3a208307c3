/**
 * ECDH-PSI between a label holder and a feature holder, relayed by the coordinator: every message
 * declared once. Both platforms first exchange `psi-hello` (an ephemeral X25519 public key and the
 * digest of the PSI parameters), then every other message travels sealed with AES-256-GCM under
 * agreeKey(own, peer, context) — the coordinator routes ciphertext and learns only message kinds,
 * sizes and timing.
 *
 * One stage (one ID column) of the protocol, L = label holder, F = feature holder:
 * 1. L → F `psi-blinded`: batches of a·H(x) for L's unique identifiers, ended by a batch with `last`.
 * 2. F → L `psi-double-blinded`: b·(a·H(x)) truncated to 16 bytes, one reply per batch, in order
 *    (with reveal `cardinality` the reply is empty and only acknowledges the batch).
 * 3. F → L `psi-shuffled` (reveal `cardinality` only): all of step 2's values, in a random order.
 * 4. F → L `psi-peer-blinded`: batches of b·H(y) for F's unique identifiers in a random order;
 *    L answers each with `psi-peer-ack` (flow control).
 * 5. L → F `psi-stage-result`: F's positions that matched, in the canonical order (reveal `both`),
 *    the count (`cardinality`), or nothing (`label-holder`).
 * `psi-error` (clear text) ends the protocol from either side.
 *
 * Sealed bodies are binary: u32 header length ‖ JSON header ‖ raw data (elements, fingerprints or
 * little-endian u32 positions). The authenticated data binds job, both platform ids, direction,
 * step and sequence number, so the relay cannot replay, reorder, redirect or relabel a message.
 */
import type { KeyObject } from 'node:crypto';
import { ValidationError, type ErrorInfo } from '../../../core/errors.js';
import { isRecord } from '../../../core/validate.js';
import { open, seal } from '../../../crypto/aead.js';
import { agreeKey } from '../../../crypto/key-agreement.js';
import { FINGERPRINT_BYTES } from './fingerprint-set.js';
import { ELEMENT_BYTES } from './group.js';

/** Version of this message set; both hellos must carry it. */
export const PSI_PROTOCOL_VERSION = 1;
/** Bytes of a raw X25519 public key in `psi-hello`. */
export const HELLO_KEY_BYTES = 32;

/** The two roles of a PSI. */
export const PSI_ROLES = ['label-holder', 'feature-holder'] as const;
/** A PSI role. */
export type PsiRole = (typeof PSI_ROLES)[number];

/** The other role. */
export function peerRole(role: PsiRole): PsiRole {
  return role === 'label-holder' ? 'feature-holder' : 'label-holder';
}

/** Hello: an ephemeral key-agreement public key and the parameters' digest (clear text). */
export interface PsiHello {
  readonly step: 'psi-hello';
  readonly from: PsiRole;
  readonly to: PsiRole;
  readonly payload: { readonly version: number; readonly publicKey: Uint8Array; readonly paramsDigest: string };
}

/** A failure or refusal; ends the protocol (clear text, so it can be sent before keys are agreed). */
export interface PsiErrorMessage {
  readonly step: 'psi-error';
  readonly from: PsiRole;
  readonly to: PsiRole;
  readonly payload: ErrorInfo;
}

/** Step 1: a batch of L's blinded identifiers a·H(x). */
export interface PsiBlinded {
  readonly step: 'psi-blinded';
  readonly from: 'label-holder';
  readonly to: 'feature-holder';
  /** `total` is the number of elements sent in the stage so far, this batch included. */
  readonly payload: { readonly stage: number; readonly batch: number; readonly last: boolean; readonly total: number; readonly elements: Uint8Array };
}

/** Step 2: F's answer to one `psi-blinded` batch: b·(a·H(x)) truncated, in the batch's order (empty with reveal `cardinality`). */
export interface PsiDoubleBlinded {
  readonly step: 'psi-double-blinded';
  readonly from: 'feature-holder';
  readonly to: 'label-holder';
  readonly payload: { readonly stage: number; readonly batch: number; readonly fingerprints: Uint8Array };
}

/** Step 3 (reveal `cardinality`): L's double-blinded fingerprints in an order L cannot link to its identifiers. */
export interface PsiShuffled {
  readonly step: 'psi-shuffled';
  readonly from: 'feature-holder';
  readonly to: 'label-holder';
  readonly payload: { readonly stage: number; readonly batch: number; readonly last: boolean; readonly total: number; readonly fingerprints: Uint8Array };
}

/** Step 4: a batch of F's blinded identifiers b·H(y), in a random order. */
export interface PsiPeerBlinded {
  readonly step: 'psi-peer-blinded';
  readonly from: 'feature-holder';
  readonly to: 'label-holder';
  readonly payload: { readonly stage: number; readonly batch: number; readonly last: boolean; readonly total: number; readonly elements: Uint8Array };
}

/** Step 4, flow control: L has processed one `psi-peer-blinded` batch. */
export interface PsiPeerAck {
  readonly step: 'psi-peer-ack';
  readonly from: 'label-holder';
  readonly to: 'feature-holder';
  readonly payload: { readonly stage: number; readonly batch: number };
}

/** Step 5: what F may learn of the stage. */
export interface PsiStageResult {
  readonly step: 'psi-stage-result';
  readonly from: 'label-holder';
  readonly to: 'feature-holder';
  /**
   * `positions`: F's stream positions that matched, in the canonical order (reveal `both`; empty
   * otherwise). `count`: the stage's intersection size (reveal `both` and `cardinality`).
   */
  readonly payload: { readonly stage: number; readonly count?: number; readonly positions: Uint32Array };
}

/** Every message that travels sealed. */
export type PsiSealedMessage = PsiBlinded | PsiDoubleBlinded | PsiShuffled | PsiPeerBlinded | PsiPeerAck | PsiStageResult;
/** Every PSI message, as the roles see it. */
export type PsiMessage = PsiHello | PsiErrorMessage | PsiSealedMessage;
/** Steps whose payload is sealed. */
export const SEALED_STEPS = ['psi-blinded', 'psi-double-blinded', 'psi-shuffled', 'psi-peer-blinded', 'psi-peer-ack', 'psi-stage-result'] as const;
/** A sealed step. */
export type PsiSealedStep = (typeof SEALED_STEPS)[number];
/** Every step. */
export type PsiStep = PsiMessage['step'];

/** Sender and receiver role of each sealed step (the FATE lesson: every channel names both ends). */
export const SEALED_STEP_ROUTE = {
  'psi-blinded': ['label-holder', 'feature-holder'],
  'psi-double-blinded': ['feature-holder', 'label-holder'],
  'psi-shuffled': ['feature-holder', 'label-holder'],
  'psi-peer-blinded': ['feature-holder', 'label-holder'],
  'psi-peer-ack': ['label-holder', 'feature-holder'],
  'psi-stage-result': ['label-holder', 'feature-holder'],
} as const satisfies Record<PsiSealedStep, readonly [PsiRole, PsiRole]>;

/** A sealed message as the coordinator relays it: the step and direction in clear, the body sealed. */
export interface PsiSealedEnvelope {
  readonly step: PsiSealedStep;
  readonly from: PsiRole;
  readonly to: PsiRole;
  /** `seq` counts the sealed messages of one direction from 0; `sealed` is nonce ‖ ciphertext ‖ tag. */
  readonly payload: { readonly seq: number; readonly sealed: Uint8Array };
}

/** What a role hands to its `send` function and what the coordinator relays. */
export type PsiRelayed = PsiHello | PsiErrorMessage | PsiSealedEnvelope;

/** The platforms and job a PSI channel belongs to. */
export interface PsiPair {
  readonly jobId: string;
  readonly labelHolderId: string;
  readonly featureHolderId: string;
}

/** True for a sealed step name. */
export function isSealedStep(step: unknown): step is PsiSealedStep {
  return typeof step === 'string' && (SEALED_STEPS as readonly string[]).includes(step);
}

/** HKDF context of the channel key of one PSI pair. */
export function channelContext(pair: PsiPair): string {
  return `edufed/psi/v${PSI_PROTOCOL_VERSION}/channel ${JSON.stringify([pair.jobId, pair.labelHolderId, pair.featureHolderId])}`;
}

/** Authenticated data of one sealed message. */
export function sealedAad(pair: PsiPair, step: PsiSealedStep, from: PsiRole, seq: number): string {
  return `edufed/psi/v${PSI_PROTOCOL_VERSION}/msg ${JSON.stringify([pair.jobId, pair.labelHolderId, pair.featureHolderId, from, step, seq])}`;
}

interface BodyHeader {
  readonly stage: number;
  readonly batch?: number;
  readonly last?: boolean;
  readonly total?: number;
  readonly count?: number;
}

function encodeBody(header: BodyHeader, data: Uint8Array): Uint8Array {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const out = new Uint8Array(4 + json.length + data.byteLength);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 4);
  out.set(data, 4 + json.length);
  return out;
}

function u32Bytes(values: Uint32Array): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setUint32(i * 4, values[i] as number, true);
  return out;
}

function bytesU32(data: Uint8Array): Uint32Array {
  const out = new Uint32Array(data.length / 4);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = view.getUint32(i * 4, true);
  return out;
}

function bodyOf(msg: PsiSealedMessage): Uint8Array {
  switch (msg.step) {
    case 'psi-blinded':
    case 'psi-peer-blinded': {
      const { stage, batch, last, total, elements } = msg.payload;
      return encodeBody({ stage, batch, last, total }, elements);
    }
    case 'psi-double-blinded':
      return encodeBody({ stage: msg.payload.stage, batch: msg.payload.batch }, msg.payload.fingerprints);
    case 'psi-shuffled': {
      const { stage, batch, last, total, fingerprints } = msg.payload;
      return encodeBody({ stage, batch, last, total }, fingerprints);
    }
    case 'psi-peer-ack':
      return encodeBody({ stage: msg.payload.stage, batch: msg.payload.batch }, new Uint8Array(0));
    case 'psi-stage-result': {
      const { stage, count, positions } = msg.payload;
      return encodeBody(count === undefined ? { stage } : { stage, count }, u32Bytes(positions));
    }
  }
}

function count(h: Readonly<Record<string, unknown>>, key: string, where: string, who: string): number {
  const v = h[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new ValidationError(who, `${where}.${key}: expected a non-negative integer`);
  return v;
}

function flag(h: Readonly<Record<string, unknown>>, key: string, where: string, who: string): boolean {
  const v = h[key];
  if (typeof v !== 'boolean') throw new ValidationError(who, `${where}.${key}: expected true or false`);
  return v;
}

function rows(data: Uint8Array, width: number, where: string, who: string): Uint8Array {
  if (data.length % width !== 0) throw new ValidationError(who, `${where}: ${data.length} bytes is not a whole number of ${width}-byte rows`);
  return data;
}

/**
 * Decodes an opened body into the typed message of `step`.
 * @throws ValidationError naming the sending role for any malformed field.
 */
export function decodeBody(step: PsiSealedStep, body: Uint8Array): PsiSealedMessage {
  const who = SEALED_STEP_ROUTE[step][0];
  if (body.length < 4) throw new ValidationError(who, `${step}: body too short`);
  const headerLength = new DataView(body.buffer, body.byteOffset, body.byteLength).getUint32(0, true);
  if (headerLength > body.length - 4) throw new ValidationError(who, `${step}: header length ${headerLength} exceeds the body`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(body.subarray(4, 4 + headerLength)).toString('utf8'));
  } catch (err) {
    throw new ValidationError(who, `${step}: header is not JSON`, { cause: err });
  }
  if (!isRecord(parsed)) throw new ValidationError(who, `${step}: header is not an object`);
  const h = parsed;
  // A copy, so the message owns its bytes whatever happens to the buffer it was decrypted into.
  const data = body.slice(4 + headerLength);
  const stage = count(h, 'stage', step, who);
  switch (step) {
    case 'psi-blinded':
    case 'psi-peer-blinded': {
      const payload = { stage, batch: count(h, 'batch', step, who), last: flag(h, 'last', step, who), total: count(h, 'total', step, who), elements: rows(data, ELEMENT_BYTES, `${step}.elements`, who) };
      return step === 'psi-blinded' ? { step, from: 'label-holder', to: 'feature-holder', payload } : { step, from: 'feature-holder', to: 'label-holder', payload };
    }
    case 'psi-double-blinded':
      return { step, from: 'feature-holder', to: 'label-holder', payload: { stage, batch: count(h, 'batch', step, who), fingerprints: rows(data, FINGERPRINT_BYTES, `${step}.fingerprints`, who) } };
    case 'psi-shuffled':
      return {
        step,
        from: 'feature-holder',
        to: 'label-holder',
        payload: { stage, batch: count(h, 'batch', step, who), last: flag(h, 'last', step, who), total: count(h, 'total', step, who), fingerprints: rows(data, FINGERPRINT_BYTES, `${step}.fingerprints`, who) },
      };
    case 'psi-peer-ack':
      if (data.length !== 0) throw new ValidationError(who, `${step}: unexpected data`);
      return { step, from: 'label-holder', to: 'feature-holder', payload: { stage, batch: count(h, 'batch', step, who) } };
    case 'psi-stage-result': {
      const positions = bytesU32(rows(data, 4, `${step}.positions`, who));
      const payload = h['count'] === undefined ? { stage, positions } : { stage, count: count(h, 'count', step, who), positions };
      return { step, from: 'label-holder', to: 'feature-holder', payload };
    }
  }
}

/**
 * The sealed channel between the two platforms of one PSI pair: numbers, seals and opens messages.
 * Sequence numbers are per direction; the receiver must open them in order (see `expectedSeq`).
 */
export class PsiChannel {
  private sendSeq = 0;
  private recvSeq = 0;

  constructor(
    private readonly key: Uint8Array,
    readonly pair: PsiPair,
    readonly self: PsiRole,
  ) {}

  /** The channel of `self` after the hellos: agreeKey(own private key, peer's hello key, channelContext). */
  static fromHello(privateKey: KeyObject, peerPublicKey: Uint8Array, pair: PsiPair, self: PsiRole): PsiChannel {
    return new PsiChannel(agreeKey(privateKey, peerPublicKey, channelContext(pair)), pair, self);
  }

  /** The sequence number the next opened message must carry. */
  get expectedSeq(): number {
    return this.recvSeq;
  }

  /**
   * Seals a message of this role.
   * @throws ValidationError when the message's sender is not this role.
   */
  seal(msg: PsiSealedMessage): PsiSealedEnvelope {
    if (msg.from !== this.self) throw new ValidationError(this.self, `${msg.step} is sent by the ${msg.from}, not the ${this.self}`);
    const seq = this.sendSeq++;
    return { step: msg.step, from: msg.from, to: msg.to, payload: { seq, sealed: seal(this.key, bodyOf(msg), sealedAad(this.pair, msg.step, msg.from, seq)) } };
  }

  /**
   * Opens the next message from the peer.
   * @throws ValidationError (naming the peer role) when it is out of sequence, routed wrongly,
   *   fails authentication, or its body is malformed.
   */
  open(env: PsiSealedEnvelope): PsiSealedMessage {
    const peer = peerRole(this.self);
    const [from, to] = SEALED_STEP_ROUTE[env.step];
    if (env.from !== peer || from !== peer || to !== this.self || env.to !== this.self) {
      throw new ValidationError(peer, `${env.step} from ${env.from} to ${env.to} is not a message the ${this.self} accepts`);
    }
    if (env.payload.seq !== this.recvSeq) throw new ValidationError(peer, `${env.step}: sequence number ${env.payload.seq}, expected ${this.recvSeq}`);
    let body: Uint8Array;
    try {
      body = open(this.key, env.payload.sealed, sealedAad(this.pair, env.step, env.from, env.payload.seq));
    } catch (err) {
      throw new ValidationError(peer, `${env.step} #${env.payload.seq}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    this.recvSeq++;
    return decodeBody(env.step, body);
  }
}
