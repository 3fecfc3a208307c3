/**
 * PSI messages on the wire: each relayed message of `protocol.ts` as a transport envelope and back.
 * The step, direction and sequence number ride in the JSON header; the sealed body (or the hello's
 * public key) travels as one `u8` tensor, so the coordinator forwards bytes it cannot read.
 *
 * Decoding validates everything and turns the network's `unknown` into a typed {@link PsiRelayed}
 * or a ValidationError naming the sender.
 */
import { ValidationError } from '../../../core/errors.js';
import { isRecord, type JsonRecord } from '../../../core/validate.js';
import type { Envelope, EnvelopeBody, Tensor } from '../../../transport/channel.js';
import { HELLO_KEY_BYTES, isSealedStep, PSI_ROLES, type PsiRelayed, type PsiRole } from './protocol.js';

/** Envelope kinds of PSI: `psi.hello`, `psi.blinded`, … */
export const PSI_KIND_PREFIX = 'psi.';
const STEP_PREFIX = 'psi-';
/** AES-GCM nonce plus tag: the smallest sealed body. */
const MIN_SEALED_BYTES = 12 + 16;
const ERROR_CODES = ['DATA', 'SCHEMA', 'CONFIG', 'MODEL', 'STRATEGY', 'PROTOCOL', 'VALIDATION', 'PARTICIPANT', 'ROUND', 'INTERNAL'] as const;

/** The envelope kind of a step. */
export function psiKind(step: PsiRelayed['step']): string {
  return PSI_KIND_PREFIX + step.slice(STEP_PREFIX.length);
}

/** True for envelope kinds of this protocol. */
export function isPsiKind(kind: string): boolean {
  return kind.startsWith(PSI_KIND_PREFIX);
}

function bytesTensor(name: string, data: Uint8Array): Tensor {
  return { name, shape: [data.length], data };
}

/** Encodes a relayed PSI message of job `jobId` for the transport (round 0: PSI is not round-bound). */
export function encodePsiEnvelope(jobId: string, msg: PsiRelayed): EnvelopeBody {
  const base = { kind: psiKind(msg.step), jobId, round: 0 };
  switch (msg.step) {
    case 'psi-hello':
      return { ...base, header: { from: msg.from, to: msg.to, version: msg.payload.version, paramsDigest: msg.payload.paramsDigest }, tensors: [bytesTensor('publicKey', msg.payload.publicKey)] };
    case 'psi-error':
      return { ...base, header: { from: msg.from, to: msg.to, code: msg.payload.code, message: msg.payload.message }, tensors: [] };
    default:
      return { ...base, header: { from: msg.from, to: msg.to, seq: msg.payload.seq }, tensors: [bytesTensor('sealed', msg.payload.sealed)] };
  }
}

function role(h: JsonRecord, key: 'from' | 'to', where: string, who: string): PsiRole {
  const v = h[key];
  if (typeof v !== 'string' || !(PSI_ROLES as readonly string[]).includes(v)) throw new ValidationError(who, `${where}.${key}: expected ${PSI_ROLES.join(' or ')}`);
  return v === 'label-holder' ? 'label-holder' : 'feature-holder';
}

function onlyTensor(e: Envelope, name: string, who: string): Uint8Array {
  const t = e.tensors[0];
  if (e.tensors.length !== 1 || t === undefined || t.name !== name) throw new ValidationError(who, `${e.kind}: expected exactly one tensor "${name}"`);
  const data: unknown = t.data;
  if (!(data instanceof Uint8Array) || t.shape.length !== 1) throw new ValidationError(who, `${e.kind}.${name}: expected a 1-D u8 tensor`);
  return data;
}

/**
 * Decodes a PSI envelope into the relayed message.
 * @throws ValidationError naming the envelope's sender for an unknown kind or any malformed field.
 */
export function decodePsiEnvelope(e: Envelope): PsiRelayed {
  const who = e.sender;
  if (!isPsiKind(e.kind)) throw new ValidationError(who, `${e.kind}: not a PSI message`);
  const step = STEP_PREFIX + e.kind.slice(PSI_KIND_PREFIX.length);
  if (!isRecord(e.header)) throw new ValidationError(who, `${e.kind}: header is not an object`);
  const h = e.header;
  const from = role(h, 'from', e.kind, who);
  const to = role(h, 'to', e.kind, who);
  if (from === to) throw new ValidationError(who, `${e.kind}: sender and receiver roles are both ${from}`);
  if (step === 'psi-hello') {
    const version = h['version'];
    const paramsDigest = h['paramsDigest'];
    if (typeof version !== 'number' || !Number.isSafeInteger(version)) throw new ValidationError(who, `${e.kind}.version: expected an integer`);
    if (typeof paramsDigest !== 'string' || !/^[0-9a-f]{64}$/.test(paramsDigest)) throw new ValidationError(who, `${e.kind}.paramsDigest: expected 64 hex digits`);
    const publicKey = onlyTensor(e, 'publicKey', who);
    if (publicKey.length !== HELLO_KEY_BYTES) throw new ValidationError(who, `${e.kind}.publicKey: expected ${HELLO_KEY_BYTES} bytes`);
    return { step, from, to, payload: { version, publicKey: publicKey.slice(), paramsDigest } };
  }
  if (step === 'psi-error') {
    const code = h['code'];
    const message = h['message'];
    if (typeof code !== 'string' || !(ERROR_CODES as readonly string[]).includes(code)) throw new ValidationError(who, `${e.kind}.code: not an error code`);
    if (typeof message !== 'string') throw new ValidationError(who, `${e.kind}.message: expected a string`);
    const known = ERROR_CODES.find((c) => c === code) ?? 'INTERNAL';
    return { step, from, to, payload: { code: known, message: message.slice(0, 2000) } };
  }
  if (!isSealedStep(step)) throw new ValidationError(who, `${e.kind}: unknown PSI step`);
  const seq = h['seq'];
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) throw new ValidationError(who, `${e.kind}.seq: expected a non-negative integer`);
  const sealed = onlyTensor(e, 'sealed', who);
  if (sealed.length < MIN_SEALED_BYTES) throw new ValidationError(who, `${e.kind}.sealed: ${sealed.length} bytes is too short`);
  return { step, from, to, payload: { seq, sealed } };
}
