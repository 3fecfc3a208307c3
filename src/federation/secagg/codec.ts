/**
 * SecAgg+ on the wire: each typed message of `protocol.ts` as a transport envelope and back. Ids,
 * numbers and lists ride in the JSON header; keys, sealed shares and shares travel as `u8` tensors
 * (one row per neighbour), masked inputs as a `u32` tensor, the global model as `f32`. The train
 * request inside `secagg-collect` and the evaluation summary inside its reply are encoded exactly as
 * the horizontal protocol encodes them, and validated by its codec.
 *
 * Decoding validates everything (kinds, ids, lengths of keys, sealed shares and shares, the masked
 * vector's length when the caller knows it), so a message from the network becomes a typed record
 * or a ValidationError naming the sender and the field.
 */
import { ValidationError } from '../../core/errors.js';
import { num, record, strArray, type JsonRecord } from '../../core/validate.js';
import {
  decodeReply as decodeHorizontalReply,
  decodeRequest as decodeHorizontalRequest,
  encodeReply as encodeHorizontalReply,
  encodeRequest as encodeHorizontalRequest,
  KIND_PREFIX as HORIZONTAL_PREFIX,
} from '../horizontal/codec.js';
import type { TrainRequest } from '../horizontal/protocol.js';
import type { SecureMeta } from '../secure-round.js';
import type { Envelope, EnvelopeBody, Tensor } from '../../transport/channel.js';
import { KEY_BYTES, SEALED_SHARES_BYTES, SHARE_BYTES, type OwnedShare, type SecAggReply, type SecAggRequest, type SecAggSetupConfig } from './protocol.js';

/** Envelope kinds of SecAgg+ are prefixed, so other workflows can share a link: `secagg.setup`, `secagg.setup-result`, … */
export const KIND_PREFIX = 'secagg.';

const STEP_PREFIX = 'secagg-';

function kindOf(step: string): string {
  return KIND_PREFIX + step.slice(STEP_PREFIX.length);
}

/** Rows of equal width as one [rows, width] u8 tensor. */
function rowsTensor(name: string, rows: readonly Uint8Array[], width: number): Tensor {
  const data = new Uint8Array(rows.length * width);
  rows.forEach((r, i) => data.set(r, i * width));
  return { name, shape: [rows.length, width], data };
}

function tensorNamed(e: Envelope, name: string, who: string | undefined): Tensor {
  const t = e.tensors.find((x) => x.name === name);
  if (t === undefined) throw new ValidationError(who, `${e.kind}: missing tensor "${name}"`);
  return t;
}

function expectTensors(e: Envelope, names: readonly string[], who: string | undefined): void {
  const got = e.tensors.map((t) => t.name).sort();
  const want = [...names].sort();
  if (got.length !== want.length || got.some((n, i) => n !== want[i])) {
    throw new ValidationError(who, `${e.kind}: expected tensors [${want.join(', ')}], got [${got.join(', ')}]`);
  }
}

/** A [rows, width] u8 tensor split into row copies (copies, so secrets can be wiped and buffers freed). */
function readRows(e: Envelope, name: string, rows: number, width: number, who: string | undefined): Uint8Array[] {
  const t = tensorNamed(e, name, who);
  const data: unknown = t.data;
  if (!(data instanceof Uint8Array)) throw new ValidationError(who, `${e.kind}.${name}: expected u8 data`);
  if (t.shape.length !== 2 || t.shape[0] !== rows || t.shape[1] !== width || data.length !== rows * width) {
    throw new ValidationError(who, `${e.kind}.${name}: expected shape [${rows}, ${width}], got [${t.shape.join(', ')}]`);
  }
  return Array.from({ length: rows }, (_, i) => data.slice(i * width, (i + 1) * width));
}

function readBytes(e: Envelope, name: string, length: number, who: string | undefined): Uint8Array {
  const t = tensorNamed(e, name, who);
  const data: unknown = t.data;
  if (!(data instanceof Uint8Array)) throw new ValidationError(who, `${e.kind}.${name}: expected u8 data`);
  if (t.shape.length !== 1 || data.length !== length) throw new ValidationError(who, `${e.kind}.${name}: expected ${length} bytes, got shape [${t.shape.join(', ')}]`);
  return data.slice();
}

function header(e: Envelope, who: string | undefined): JsonRecord {
  return record(e.header, `${e.kind} header`, who);
}

/** Distinct non-empty ids. */
function ids(h: JsonRecord, key: string, where: string, who: string | undefined): string[] {
  const list = strArray(h, key, where, who);
  const seen = new Set<string>();
  for (const id of list) {
    if (id.length === 0) throw new ValidationError(who, `${where}.${key}: ids must not be empty`);
    if (seen.has(id)) throw new ValidationError(who, `${where}.${key}: "${id}" appears twice`);
    seen.add(id);
  }
  return list;
}

function setupConfig(v: unknown): SecAggSetupConfig {
  const where = 'secagg.setup.config';
  const c = record(v, where);
  const weighting = c['weighting'];
  if (weighting !== 'examples' && weighting !== 'uniform') throw new ValidationError(undefined, `${where}.weighting: expected "examples" or "uniform"`);
  return {
    threshold: num(c, 'threshold', where, { integer: true, min: 1 }),
    neighbours: ids(c, 'neighbours', where, undefined),
    clipRange: num(c, 'clipRange', where, { min: Number.MIN_VALUE }),
    quantizationBits: num(c, 'quantizationBits', where, { integer: true, min: 1, max: 31 }),
    weighting,
    maxWeight: num(c, 'maxWeight', where, { min: Number.MIN_VALUE }),
  };
}

/** Encodes a request for the wire. */
export function encodeRequest(jobId: string, req: SecAggRequest): EnvelopeBody {
  const base = { kind: kindOf(req.step), jobId, round: req.payload.round };
  switch (req.step) {
    case 'secagg-setup':
      return { ...base, header: { config: { ...req.payload.config, neighbours: [...req.payload.config.neighbours] } }, tensors: [] };
    case 'secagg-share-keys': {
      const { keys } = req.payload;
      return {
        ...base,
        header: { neighbours: keys.map((k) => k.participantId) },
        tensors: [rowsTensor('cPk', keys.map((k) => k.cPk), KEY_BYTES), rowsTensor('sPk', keys.map((k) => k.sPk), KEY_BYTES)],
      };
    }
    case 'secagg-collect': {
      const train = encodeHorizontalRequest(jobId, { step: 'train', from: 'coordinator', to: 'participant', payload: req.payload.train });
      const { shares } = req.payload;
      return {
        ...base,
        header: { train: train.header, from: shares.map((s) => s.from) },
        tensors: [...train.tensors, rowsTensor('ciphertexts', shares.map((s) => s.ciphertext), SEALED_SHARES_BYTES)],
      };
    }
    case 'secagg-unmask':
      return { ...base, header: { survivors: [...req.payload.survivors], dropped: [...req.payload.dropped] }, tensors: [] };
  }
}

/** Encodes a reply for the wire. */
export function encodeReply(jobId: string, round: number, reply: SecAggReply): EnvelopeBody {
  const base = { kind: kindOf(reply.step), jobId, round };
  switch (reply.step) {
    case 'secagg-setup-result':
      return {
        ...base,
        header: {},
        tensors: [
          { name: 'cPk', shape: [KEY_BYTES], data: reply.payload.cPk },
          { name: 'sPk', shape: [KEY_BYTES], data: reply.payload.sPk },
        ],
      };
    case 'secagg-share-keys-result': {
      const { shares } = reply.payload;
      return { ...base, header: { to: shares.map((s) => s.to) }, tensors: [rowsTensor('ciphertexts', shares.map((s) => s.ciphertext), SEALED_SHARES_BYTES)] };
    }
    case 'secagg-collect-result': {
      const { masked, meta } = reply.payload;
      const summary =
        meta.summary !== undefined
          ? record(encodeHorizontalReply(jobId, round, { step: 'evaluate-result', from: 'participant', to: 'coordinator', payload: { round, summary: meta.summary } }).header, 'summary')['summary']
          : undefined;
      return {
        ...base,
        header: { loss: meta.loss, trainMs: meta.trainMs, ...(summary !== undefined ? { summary } : {}) },
        tensors: [{ name: 'masked', shape: [masked.length], data: masked }],
      };
    }
    case 'secagg-unmask-result': {
      const { bShares, sShares } = reply.payload;
      return {
        ...base,
        header: { bOwners: bShares.map((s) => s.owner), sOwners: sShares.map((s) => s.owner) },
        tensors: [rowsTensor('bShares', bShares.map((s) => s.share), SHARE_BYTES), rowsTensor('sShares', sShares.map((s) => s.share), SHARE_BYTES)],
      };
    }
    case 'secagg-error':
      return { ...base, header: { code: reply.payload.code, message: reply.payload.message }, tensors: [] };
  }
}

/** Decodes and validates a request arriving at a participant. @throws ValidationError naming the field */
export function decodeRequest(e: Envelope): SecAggRequest {
  const from = 'coordinator' as const;
  const to = 'participant' as const;
  const h = header(e, undefined);
  const round = e.round;
  switch (e.kind) {
    case kindOf('secagg-setup'):
      expectTensors(e, [], undefined);
      return { step: 'secagg-setup', from, to, payload: { round, config: setupConfig(h['config']) } };
    case kindOf('secagg-share-keys'): {
      expectTensors(e, ['cPk', 'sPk'], undefined);
      const neighbours = ids(h, 'neighbours', e.kind, undefined);
      const c = readRows(e, 'cPk', neighbours.length, KEY_BYTES, undefined);
      const s = readRows(e, 'sPk', neighbours.length, KEY_BYTES, undefined);
      return {
        step: 'secagg-share-keys',
        from,
        to,
        payload: { round, keys: neighbours.map((participantId, i) => ({ participantId, cPk: c[i] as Uint8Array, sPk: s[i] as Uint8Array })) },
      };
    }
    case kindOf('secagg-collect'): {
      expectTensors(e, ['params', 'ciphertexts'], undefined);
      const senders = ids(h, 'from', e.kind, undefined);
      const ciphertexts = readRows(e, 'ciphertexts', senders.length, SEALED_SHARES_BYTES, undefined);
      const decoded = decodeHorizontalRequest({ ...e, kind: `${HORIZONTAL_PREFIX}train`, header: h['train'], tensors: [tensorNamed(e, 'params', undefined)] });
      if (decoded.step !== 'train') throw new ValidationError(undefined, `${e.kind}.train: not a train request`);
      const train: TrainRequest['payload'] = decoded.payload;
      return { step: 'secagg-collect', from, to, payload: { round, train, shares: senders.map((s, i) => ({ from: s, ciphertext: ciphertexts[i] as Uint8Array })) } };
    }
    case kindOf('secagg-unmask'):
      expectTensors(e, [], undefined);
      return { step: 'secagg-unmask', from, to, payload: { round, survivors: ids(h, 'survivors', e.kind, undefined), dropped: ids(h, 'dropped', e.kind, undefined) } };
    default:
      throw new ValidationError(undefined, `unknown SecAgg+ request kind "${e.kind}"`);
  }
}

/** What the coordinator knows to expect in a reply. */
export interface ReplyExpectations {
  /** Length of the masked vector of a collect result: number of parameters + 1. */
  readonly maskedLength?: number;
}

function meta(e: Envelope, h: JsonRecord, participant: string): SecureMeta {
  const where = e.kind;
  // A diverged local loss is reported (JSON turns NaN into null), not fatal here.
  const loss = typeof h['loss'] === 'number' ? h['loss'] : NaN;
  const trainMs = num(h, 'trainMs', where, { min: 0, participant });
  if (h['summary'] === undefined) return { loss, trainMs };
  const evaluated = decodeHorizontalReply({ ...e, kind: `${HORIZONTAL_PREFIX}evaluate-result`, header: { round: e.round, summary: h['summary'] }, tensors: [] }, participant);
  if (evaluated.step !== 'evaluate-result') throw new ValidationError(participant, `${where}.summary: malformed`);
  return { loss, trainMs, summary: evaluated.payload.summary };
}

function owned(owners: readonly string[], rows: readonly Uint8Array[]): OwnedShare[] {
  return owners.map((owner, i) => ({ owner, share: rows[i] as Uint8Array }));
}

/** Decodes and validates a participant's reply. @throws ValidationError naming the participant and the field */
export function decodeReply(e: Envelope, participant: string, expected: ReplyExpectations = {}): SecAggReply {
  const from = 'participant' as const;
  const to = 'coordinator' as const;
  const who = participant;
  const h = header(e, who);
  const round = e.round;
  switch (e.kind) {
    case kindOf('secagg-setup-result'):
      expectTensors(e, ['cPk', 'sPk'], who);
      return { step: 'secagg-setup-result', from, to, payload: { round, cPk: readBytes(e, 'cPk', KEY_BYTES, who), sPk: readBytes(e, 'sPk', KEY_BYTES, who) } };
    case kindOf('secagg-share-keys-result'): {
      expectTensors(e, ['ciphertexts'], who);
      const recipients = ids(h, 'to', e.kind, who);
      const rows = readRows(e, 'ciphertexts', recipients.length, SEALED_SHARES_BYTES, who);
      return { step: 'secagg-share-keys-result', from, to, payload: { round, shares: recipients.map((r, i) => ({ to: r, ciphertext: rows[i] as Uint8Array })) } };
    }
    case kindOf('secagg-collect-result'): {
      expectTensors(e, ['masked'], who);
      const t = tensorNamed(e, 'masked', who);
      const data: unknown = t.data;
      if (!(data instanceof Uint32Array)) throw new ValidationError(who, `${e.kind}.masked: expected u32 data`);
      if (t.shape.length !== 1 || data.length < 2) throw new ValidationError(who, `${e.kind}.masked: expected a vector of at least 2 elements, got shape [${t.shape.join(', ')}]`);
      if (expected.maskedLength !== undefined && data.length !== expected.maskedLength) {
        throw new ValidationError(who, `${e.kind}.masked: expected ${expected.maskedLength} elements (parameters + weight), got ${data.length}`);
      }
      return { step: 'secagg-collect-result', from, to, payload: { round, masked: data, meta: meta(e, h, who) } };
    }
    case kindOf('secagg-unmask-result'): {
      expectTensors(e, ['bShares', 'sShares'], who);
      const bOwners = ids(h, 'bOwners', e.kind, who);
      const sOwners = ids(h, 'sOwners', e.kind, who);
      return {
        step: 'secagg-unmask-result',
        from,
        to,
        payload: {
          round,
          bShares: owned(bOwners, readRows(e, 'bShares', bOwners.length, SHARE_BYTES, who)),
          sShares: owned(sOwners, readRows(e, 'sShares', sOwners.length, SHARE_BYTES, who)),
        },
      };
    }
    case kindOf('secagg-error'): {
      const message = h['message'];
      if (typeof message !== 'string') throw new ValidationError(who, `${e.kind}.message: expected a string`);
      return { step: 'secagg-error', from, to, payload: { code: 'PARTICIPANT', message } };
    }
    default:
      throw new ValidationError(who, `unknown SecAgg+ reply kind "${e.kind}"`);
  }
}

/** True when an envelope kind belongs to SecAgg+. */
export function isSecAggKind(kind: string): boolean {
  return kind.startsWith(KIND_PREFIX);
}
