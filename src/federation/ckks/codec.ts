/**
 * The CKKS protocol on the wire: each typed message of `protocol.ts` as a transport envelope (a
 * small JSON header plus byte tensors for keys and ciphertexts), and back. Decoding validates
 * everything, so a message from the network becomes a typed record or a ValidationError naming the
 * sender and the field.
 *
 * The training part of `ckks-collect` and the evaluation summary of `ckks-collect-result` travel
 * exactly as in the horizontal protocol, through its codec, so both protocols share one format for them.
 */
import { ConfigError, ValidationError } from '../../core/errors.js';
import type { EvalSummary } from '../../core/metrics.js';
import { num, record, str, strArray, type JsonRecord } from '../../core/validate.js';
import { validateCkksParams, type CkksParams } from '../../crypto/ckks.js';
import type { Envelope, EnvelopeBody, Tensor } from '../../transport/channel.js';
import { decodeReply, decodeRequest, encodeReply, encodeRequest, KIND_PREFIX as HORIZONTAL_PREFIX } from '../horizontal/codec.js';
import type { AgreementKey, CkksReply, CkksRequest, CkksWeighting, SealedSecretKey } from './protocol.js';

/** Envelope kinds of the CKKS protocol: `ckks.` followed by the step without its `ckks-` prefix. */
export const CKKS_KIND_PREFIX = 'ckks.';

/** Most peers one key-setup message may name. */
export const MAX_PEERS = 100_000;
/** Most ciphertexts one message may carry (4096 slots each: about 64M parameters). */
export const MAX_CIPHERTEXTS = 16_384;

const AGREEMENT_KEY_BYTES = 32;
const STEP_PREFIX = 'ckks-';

function kindOf(step: string): string {
  return CKKS_KIND_PREFIX + step.slice(STEP_PREFIX.length);
}

/** A byte tensor (dtype u8): keys and ciphertexts travel as raw bytes, never as JSON. */
function bytesTensor(name: string, data: Uint8Array): Tensor {
  return { name, shape: [data.length], data };
}

function float64Bytes(values: Float64Array): Uint8Array {
  const out = new Uint8Array(values.length * 8);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat64(i * 8, values[i] as number, true);
  return out;
}

/** Encodes a request for the wire. */
export function encodeCkksRequest(jobId: string, req: CkksRequest): EnvelopeBody {
  const kind = kindOf(req.step);
  switch (req.step) {
    case 'ckks-hello':
      return { kind, jobId, round: 0, header: { params: req.payload.params }, tensors: [] };
    case 'ckks-keygen':
      return {
        kind,
        jobId,
        round: 0,
        header: { params: req.payload.params, peers: req.payload.peers.map((p) => p.participantId) },
        tensors: req.payload.peers.map((p) => bytesTensor('agreement-key', p.publicKey)),
      };
    case 'ckks-share':
      return {
        kind,
        jobId,
        round: 0,
        header: { peers: req.payload.peers.map((p) => p.participantId) },
        tensors: req.payload.peers.map((p) => bytesTensor('agreement-key', p.publicKey)),
      };
    case 'ckks-install': {
      const p = req.payload;
      return {
        kind,
        jobId,
        round: 0,
        header: { params: p.params, sealer: p.sealer },
        tensors: [bytesTensor('sealer-key', p.sealerKey), bytesTensor('public-key', p.publicKey), bytesTensor('sealed-secret-key', p.sealedSecretKey)],
      };
    }
    case 'ckks-collect': {
      const { train, weighting, maxInputs, keyId } = req.payload;
      const inner = encodeRequest(jobId, { step: 'train', from: 'coordinator', to: 'participant', payload: train });
      return { ...inner, kind, header: { train: inner.header, weighting, maxInputs, keyId } };
    }
    case 'ckks-decrypt': {
      const p = req.payload;
      return {
        kind,
        jobId,
        round: p.round,
        header: { keyId: p.keyId, contributors: p.contributors, length: p.length },
        tensors: p.ciphertexts.map((c) => bytesTensor('ciphertext', c)),
      };
    }
  }
}

/** Encodes a reply for the wire. */
export function encodeCkksReply(jobId: string, round: number, reply: CkksReply): EnvelopeBody {
  const kind = kindOf(reply.step);
  const base = { kind, jobId, round };
  switch (reply.step) {
    case 'ckks-hello-result':
      return { ...base, header: {}, tensors: [bytesTensor('agreement-key', reply.payload.agreementKey)] };
    case 'ckks-keygen-result':
      return {
        ...base,
        header: { recipients: reply.payload.sealed.map((s) => s.participantId) },
        tensors: [bytesTensor('public-key', reply.payload.publicKey), ...reply.payload.sealed.map((s) => bytesTensor('sealed-secret-key', s.sealed))],
      };
    case 'ckks-share-result':
      return {
        ...base,
        header: { recipients: reply.payload.sealed.map((s) => s.participantId) },
        tensors: reply.payload.sealed.map((s) => bytesTensor('sealed-secret-key', s.sealed)),
      };
    case 'ckks-install-result':
      return { ...base, header: { keyId: reply.payload.keyId }, tensors: [] };
    case 'ckks-collect-result': {
      const { round: r, ciphertexts, meta } = reply.payload;
      const evaluation =
        meta.summary !== undefined
          ? encodeReply(jobId, r, { step: 'evaluate-result', from: 'participant', to: 'coordinator', payload: { round: r, summary: meta.summary } }).header
          : undefined;
      return {
        ...base,
        header: { round: r, loss: meta.loss, trainMs: meta.trainMs, ...(evaluation !== undefined ? { evaluation } : {}) },
        tensors: ciphertexts.map((c) => bytesTensor('ciphertext', c)),
      };
    }
    case 'ckks-decrypt-result':
      return {
        ...base,
        header: { round: reply.payload.round, length: reply.payload.values.length },
        tensors: [bytesTensor('values', float64Bytes(reply.payload.values))],
      };
    case 'ckks-error':
      return { ...base, header: { code: reply.payload.code, message: reply.payload.message, needsKey: reply.payload.needsKey }, tensors: [] };
  }
}

/** Reads the envelope's tensors as byte strings, checking their names in order. */
function byteTensors(e: Envelope, names: readonly string[], who: string | undefined): Uint8Array[] {
  if (e.tensors.length !== names.length) {
    throw new ValidationError(who, `${e.kind}: expected ${names.length} tensors, got ${e.tensors.length}`);
  }
  return e.tensors.map((t, i) => {
    const name = names[i] as string;
    if (t.name !== name) throw new ValidationError(who, `${e.kind}: tensor ${i} is "${t.name}", expected "${name}"`);
    if (!(t.data instanceof Uint8Array)) throw new ValidationError(who, `${e.kind}: tensor ${i} ("${name}") must hold bytes (dtype u8)`);
    if (t.data.length === 0) throw new ValidationError(who, `${e.kind}: tensor ${i} ("${name}") is empty`);
    return t.data;
  });
}

function repeat(name: string, count: number): string[] {
  return new Array<string>(count).fill(name);
}

function header(e: Envelope, who: string | undefined): JsonRecord {
  return record(e.header, `${e.kind} header`, who);
}

function params(v: unknown, where: string, who: string | undefined): CkksParams {
  try {
    return validateCkksParams(v, where);
  } catch (err) {
    if (err instanceof ConfigError) throw new ValidationError(who, err.message, { cause: err });
    throw err;
  }
}

/** A list of distinct, non-empty participant ids. */
function ids(h: JsonRecord, key: string, where: string, who: string | undefined, max: number): string[] {
  const list = strArray(h, key, where, who);
  if (list.length > max) throw new ValidationError(who, `${where}.${key}: ${list.length} entries, above the limit of ${max}`);
  const seen = new Set<string>();
  for (const id of list) {
    if (id.length === 0) throw new ValidationError(who, `${where}.${key}: empty participant id`);
    if (seen.has(id)) throw new ValidationError(who, `${where}.${key}: "${id}" appears twice`);
    seen.add(id);
  }
  return list;
}

function agreementKeys(e: Envelope, h: JsonRecord, where: string): AgreementKey[] {
  const peers = ids(h, 'peers', where, undefined, MAX_PEERS);
  const keys = byteTensors(e, repeat('agreement-key', peers.length), undefined);
  return peers.map((participantId, i) => {
    const publicKey = keys[i] as Uint8Array;
    if (publicKey.length !== AGREEMENT_KEY_BYTES) {
      throw new ValidationError(undefined, `${where}: agreement key of "${participantId}" has ${publicKey.length} bytes, expected ${AGREEMENT_KEY_BYTES}`);
    }
    return { participantId, publicKey };
  });
}

function keyId(h: JsonRecord, where: string, who: string | undefined): string {
  const id = str(h, 'keyId', where, who);
  if (!/^[0-9a-f]{64}$/.test(id)) throw new ValidationError(who, `${where}.keyId: expected 64 lowercase hex digits`);
  return id;
}

function weighting(h: JsonRecord, where: string): CkksWeighting {
  const w = h['weighting'];
  if (w !== 'examples' && w !== 'uniform') throw new ValidationError(undefined, `${where}.weighting: expected "examples" or "uniform", got ${JSON.stringify(w)}`);
  return w;
}

function ciphertexts(e: Envelope, who: string | undefined): Uint8Array[] {
  if (e.tensors.length === 0 || e.tensors.length > MAX_CIPHERTEXTS) {
    throw new ValidationError(who, `${e.kind}: ${e.tensors.length} ciphertexts, expected 1 to ${MAX_CIPHERTEXTS}`);
  }
  return byteTensors(e, repeat('ciphertext', e.tensors.length), who);
}

/** The recipients' sealed secret keys, after `leading` other byte tensors (returned first). */
function sealedKeys(e: Envelope, h: JsonRecord, where: string, who: string, leading: readonly string[]): { leading: Uint8Array[]; sealed: SealedSecretKey[] } {
  const recipients = ids(h, 'recipients', where, who, MAX_PEERS);
  const tensors = byteTensors(e, [...leading, ...repeat('sealed-secret-key', recipients.length)], who);
  const sealed = tensors.slice(leading.length);
  return { leading: tensors.slice(0, leading.length), sealed: recipients.map((participantId, i) => ({ participantId, sealed: sealed[i] as Uint8Array })) };
}

/** Decodes and validates a request arriving at a participant. @throws ValidationError naming the field */
export function decodeCkksRequest(e: Envelope): CkksRequest {
  const from = 'coordinator' as const;
  const to = 'participant' as const;
  const h = header(e, undefined);
  switch (e.kind) {
    case kindOf('ckks-hello'):
      byteTensors(e, [], undefined);
      return { step: 'ckks-hello', from, to, payload: { params: params(h['params'], 'ckks-hello.params', undefined) } };
    case kindOf('ckks-keygen'):
      return {
        step: 'ckks-keygen',
        from,
        to,
        payload: { params: params(h['params'], 'ckks-keygen.params', undefined), peers: agreementKeys(e, h, 'ckks-keygen') },
      };
    case kindOf('ckks-share'):
      return { step: 'ckks-share', from, to, payload: { peers: agreementKeys(e, h, 'ckks-share') } };
    case kindOf('ckks-install'): {
      const [sealerKey, publicKey, sealedSecretKey] = byteTensors(e, ['sealer-key', 'public-key', 'sealed-secret-key'], undefined) as [Uint8Array, Uint8Array, Uint8Array];
      if (sealerKey.length !== AGREEMENT_KEY_BYTES) {
        throw new ValidationError(undefined, `ckks-install: sealer key has ${sealerKey.length} bytes, expected ${AGREEMENT_KEY_BYTES}`);
      }
      const sealer = str(h, 'sealer', 'ckks-install');
      if (sealer.length === 0) throw new ValidationError(undefined, 'ckks-install.sealer: empty participant id');
      return {
        step: 'ckks-install',
        from,
        to,
        payload: { params: params(h['params'], 'ckks-install.params', undefined), sealer, sealerKey, publicKey, sealedSecretKey },
      };
    }
    case kindOf('ckks-collect'): {
      const train = decodeRequest({ ...e, kind: `${HORIZONTAL_PREFIX}train`, header: h['train'] });
      if (train.step !== 'train') throw new ValidationError(undefined, 'ckks-collect.train: not a train request');
      return {
        step: 'ckks-collect',
        from,
        to,
        payload: {
          train: train.payload,
          weighting: weighting(h, 'ckks-collect'),
          maxInputs: num(h, 'maxInputs', 'ckks-collect', { integer: true, min: 1 }),
          keyId: keyId(h, 'ckks-collect', undefined),
        },
      };
    }
    case kindOf('ckks-decrypt'): {
      if (e.round < 1) throw new ValidationError(undefined, 'ckks-decrypt: round must be at least 1');
      return {
        step: 'ckks-decrypt',
        from,
        to,
        payload: {
          round: e.round,
          keyId: keyId(h, 'ckks-decrypt', undefined),
          contributors: ids(h, 'contributors', 'ckks-decrypt', undefined, MAX_PEERS),
          length: num(h, 'length', 'ckks-decrypt', { integer: true, min: 1, max: 2 ** 31 }),
          ciphertexts: ciphertexts(e, undefined),
        },
      };
    }
    default:
      throw new ValidationError(undefined, `unknown CKKS request kind "${e.kind}"`);
  }
}

function summaryOf(e: Envelope, evaluation: unknown, participant: string): EvalSummary {
  const decoded = decodeReply({ ...e, kind: `${HORIZONTAL_PREFIX}evaluate-result`, header: evaluation, tensors: [] }, participant);
  if (decoded.step !== 'evaluate-result') throw new ValidationError(participant, 'ckks-collect-result.evaluation: not an evaluation');
  return decoded.payload.summary;
}

function float64Values(bytes: Uint8Array, length: number, participant: string): Float64Array {
  if (bytes.length !== length * 8) {
    throw new ValidationError(participant, `ckks-decrypt-result.values: ${bytes.length} bytes, expected ${length * 8} (${length} float64 values)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float64Array(length);
  for (let i = 0; i < length; i++) out[i] = view.getFloat64(i * 8, true);
  return out;
}

/** Decodes and validates a participant's reply. @throws ValidationError naming the participant and the field */
export function decodeCkksReply(e: Envelope, participant: string): CkksReply {
  const from = 'participant' as const;
  const to = 'coordinator' as const;
  const h = header(e, participant);
  const opts = { participant };
  switch (e.kind) {
    case kindOf('ckks-hello-result'): {
      const [agreementKey] = byteTensors(e, ['agreement-key'], participant) as [Uint8Array];
      if (agreementKey.length !== AGREEMENT_KEY_BYTES) {
        throw new ValidationError(participant, `ckks-hello-result: agreement key has ${agreementKey.length} bytes, expected ${AGREEMENT_KEY_BYTES}`);
      }
      return { step: 'ckks-hello-result', from, to, payload: { agreementKey } };
    }
    case kindOf('ckks-keygen-result'): {
      const { leading, sealed } = sealedKeys(e, h, 'ckks-keygen-result', participant, ['public-key']);
      const [publicKey] = leading as [Uint8Array];
      return { step: 'ckks-keygen-result', from, to, payload: { publicKey, sealed } };
    }
    case kindOf('ckks-share-result'):
      return { step: 'ckks-share-result', from, to, payload: { sealed: sealedKeys(e, h, 'ckks-share-result', participant, []).sealed } };
    case kindOf('ckks-install-result'):
      byteTensors(e, [], participant);
      return { step: 'ckks-install-result', from, to, payload: { keyId: keyId(h, 'ckks-install-result', participant) } };
    case kindOf('ckks-collect-result'): {
      const round = num(h, 'round', 'ckks-collect-result', { ...opts, integer: true, min: 0 });
      const evaluation = h['evaluation'];
      return {
        step: 'ckks-collect-result',
        from,
        to,
        payload: {
          round,
          ciphertexts: ciphertexts(e, participant),
          meta: {
            // A diverged local loss is reported (as in plain mode), not fatal: JSON carries NaN as null.
            loss: typeof h['loss'] === 'number' ? h['loss'] : NaN,
            trainMs: num(h, 'trainMs', 'ckks-collect-result', { ...opts, min: 0 }),
            ...(evaluation !== undefined ? { summary: summaryOf(e, evaluation, participant) } : {}),
          },
        },
      };
    }
    case kindOf('ckks-decrypt-result'): {
      const length = num(h, 'length', 'ckks-decrypt-result', { ...opts, integer: true, min: 1, max: 2 ** 31 });
      const [bytes] = byteTensors(e, ['values'], participant) as [Uint8Array];
      return {
        step: 'ckks-decrypt-result',
        from,
        to,
        payload: { round: num(h, 'round', 'ckks-decrypt-result', { ...opts, integer: true, min: 0 }), values: float64Values(bytes, length, participant) },
      };
    }
    case kindOf('ckks-error'): {
      const needsKey = h['needsKey'];
      if (typeof needsKey !== 'boolean') throw new ValidationError(participant, 'ckks-error.needsKey: expected a boolean');
      return { step: 'ckks-error', from, to, payload: { code: 'PARTICIPANT', message: str(h, 'message', 'ckks-error', participant), needsKey } };
    }
    default:
      throw new ValidationError(participant, `unknown CKKS reply kind "${e.kind}"`);
  }
}
