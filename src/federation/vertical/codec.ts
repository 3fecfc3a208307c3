/**
 * Vertical messages on the wire: each typed message of `protocol.ts` as a transport envelope body
 * and back. Ends, ids, numbers, the plan and the evaluation summary ride in the JSON header; keys,
 * seeds, sealed payloads and presence flags travel as `u8` tensors, row indices and ring shares
 * as `u32` tensors, and float64 vectors (plain logits, residuals, scores) as their little-endian
 * bytes in a `u8` tensor, since the envelope has no float64 type.
 *
 * Decoding treats the envelope as hostile: kinds, ends and roles (against {@link STEP_ROLES}),
 * integers, tensor types and lengths are checked, the plan goes through `checkTrainConfig`, and
 * when the transport names the authenticated sender it must be the message's `from`. Anything
 * else is a ValidationError (or ConfigError for a bad plan) naming the sender and the field.
 */
import { ValidationError, type ErrorCode, type ErrorInfo } from '../../core/errors.js';
import { parseEvalSummary } from '../../core/metrics.js';
import { isRecord, num, record, str, type JsonRecord } from '../../core/validate.js';
import type { Envelope, EnvelopeBody, Tensor } from '../../transport/channel.js';
import { STEP_ROLES, type DirectoryEntry, type Endpoint, type FeatureHolderMaterial, type LabelHolderMaterial, type PartyRole, type Phase, type Presence, type VerticalMessage, type VerticalRole, type VerticalStep, type VerticalTrainConfig } from './protocol.js';
import { checkTrainConfig } from './train-config.js';
import { bytesToFloat64, float64ToBytes } from './wire-arrays.js';

/** Envelope kinds of vertical jobs: `vertical.setup`, `vertical.partial-logits`, … */
export const KIND_PREFIX = 'vertical.';

const KEY_BYTES = 32;
const ROLES: readonly VerticalRole[] = ['arbiter', 'label-holder', 'feature-holder'];

function u8(name: string, data: Uint8Array): Tensor {
  return { name, shape: [data.length], data };
}

function rowsOf(name: string, rows: readonly Uint8Array[], width: number): Tensor {
  const data = new Uint8Array(rows.length * width);
  rows.forEach((r, i) => data.set(r, i * width));
  return { name, shape: [rows.length, width], data };
}

function f64(name: string, values: Float64Array): Tensor {
  return u8(name, float64ToBytes(values));
}

function i32(name: string, values: Int32Array): Tensor {
  return { name, shape: [values.length], data: new Uint32Array(values.buffer, values.byteOffset, values.length) };
}

function phaseJson(phase: Phase): JsonRecord {
  return { ...phase };
}

/** Encodes a message for the transport (sender and receiver are the transport's to fill from `from` and `to`). */
export function encodeVerticalMessage(m: VerticalMessage): EnvelopeBody {
  const base = (jobId: string, round: number, fields: JsonRecord, tensors: Tensor[]): EnvelopeBody => ({
    kind: KIND_PREFIX + m.step,
    jobId,
    round,
    header: { from: m.from, to: m.to, ...fields },
    tensors,
  });
  switch (m.step) {
    case 'hello':
    case 'evaluate':
    case 'finish':
    case 'finish-result':
      return base(m.payload.jobId, 0, {}, []);
    case 'hello-result':
      return base(m.payload.jobId, 0, {}, [u8('agreementKey', m.payload.agreementKey)]);
    case 'setup': {
      const p = m.payload;
      return base(
        p.config.jobId,
        0,
        {
          config: { ...p.config },
          directory: p.directory.map((e) => ({ id: e.id, role: e.role })),
          nTrain: p.nTrain,
          ...(p.presence !== undefined ? { presence: p.presence.map((e) => e.party) } : {}),
        },
        [
          i32('rows', p.rows),
          rowsOf('agreementKeys', p.directory.map((e) => e.agreementKey), KEY_BYTES),
          ...(p.presence !== undefined ? [rowsOf('presence', p.presence.map((e) => e.present), p.rows.length)] : []),
          ...(p.maskSeed !== undefined ? [u8('maskSeed', p.maskSeed)] : []),
        ],
      );
    }
    case 'masked-features':
      return base(m.payload.jobId, 0, { rows: m.payload.rows, cols: m.payload.cols }, [u8('sealed', m.payload.sealed)]);
    case 'setup-result':
      return base(m.payload.jobId, 0, { dim: m.payload.dim }, []);
    case 'epoch-start': {
      const material = m.payload.material;
      if (material === undefined) return base(m.payload.jobId, m.payload.epoch, {}, []);
      if (material.role === 'feature-holder') return base(m.payload.jobId, m.payload.epoch, { material: { role: material.role } }, [u8('tSeed', material.tSeed)]);
      return base(
        m.payload.jobId,
        m.payload.epoch,
        { material: { role: material.role, parties: material.shares.map((s) => s.party) } },
        [u8('sSeed', material.sSeed), ...material.shares.map((s, k): Tensor => ({ name: `tC.${k}`, shape: [s.tC.length], data: s.tC }))],
      );
    }
    case 'partial-logits': {
      const data = m.payload.data;
      return base(
        m.payload.jobId,
        m.payload.phase.kind === 'train' ? m.payload.phase.epoch : 0,
        { phase: phaseJson(m.payload.phase), batch: m.payload.batch, encoding: data.encoding },
        [data.encoding === 'plain' ? f64('values', data.values) : u8('sealed', data.sealed)],
      );
    }
    case 'embeddings':
      return base(m.payload.jobId, m.payload.phase.kind === 'train' ? m.payload.phase.epoch : 0, { phase: phaseJson(m.payload.phase), batch: m.payload.batch }, [u8('sealed', m.payload.sealed)]);
    case 'residual':
      return base(m.payload.jobId, m.payload.epoch, { batch: m.payload.batch }, [f64('residual', m.payload.residual)]);
    case 'gradient-shares':
    case 'embedding-gradients':
      return base(m.payload.jobId, m.payload.epoch, { batch: m.payload.batch }, [u8('sealed', m.payload.sealed)]);
    case 'epoch-end':
      return base(m.payload.jobId, m.payload.epoch, m.payload.loss !== undefined ? { loss: m.payload.loss } : {}, []);
    case 'evaluate-result':
      return base(m.payload.jobId, 0, { summary: m.payload.summary }, []);
    case 'score': {
      const p = m.payload;
      return base(p.jobId, 0, { queryId: p.queryId, ...(p.presence !== undefined ? { presence: p.presence.map((e) => e.party) } : {}) }, [
        i32('rows', p.rows),
        ...(p.presence !== undefined ? [rowsOf('presence', p.presence.map((e) => e.present), p.rows.length)] : []),
      ]);
    }
    case 'score-result':
      return base(m.payload.jobId, 0, { queryId: m.payload.queryId }, [f64('probabilities', m.payload.probabilities)]);
    case 'error':
      return base(m.payload.jobId, 0, { error: { code: m.payload.error.code, message: m.payload.error.message } }, []);
  }
}

// --- decoding --------------------------------------------------------------------------------

interface Reader {
  readonly e: Envelope;
  readonly h: JsonRecord;
  readonly who: string | undefined;
}

function fail(r: Reader, what: string): never {
  throw new ValidationError(r.who, `${r.e.kind}: ${what}`);
}

function tensor(r: Reader, name: string): Tensor {
  const t = r.e.tensors.find((x) => x.name === name);
  return t ?? fail(r, `missing tensor "${name}"`);
}

function bytes(r: Reader, name: string, length?: number): Uint8Array {
  const t = tensor(r, name);
  if (!(t.data instanceof Uint8Array) || t.shape.length !== 1) return fail(r, `tensor "${name}" must be a u8 vector`);
  if (length !== undefined && t.data.length !== length) fail(r, `tensor "${name}" must hold ${length} bytes, not ${t.data.length}`);
  return t.data.slice();
}

function byteRows(r: Reader, name: string, rows: number, width: number): Uint8Array[] {
  const t = tensor(r, name);
  if (!(t.data instanceof Uint8Array) || t.shape.length !== 2 || t.shape[0] !== rows || t.shape[1] !== width) {
    return fail(r, `tensor "${name}" must be u8 of shape [${rows}, ${width}]`);
  }
  const data = t.data;
  return Array.from({ length: rows }, (_, i) => data.slice(i * width, (i + 1) * width));
}

function words(r: Reader, name: string): Uint32Array {
  const t = tensor(r, name);
  if (!(t.data instanceof Uint32Array) || t.shape.length !== 1) return fail(r, `tensor "${name}" must be a u32 vector`);
  return t.data.slice();
}

function float64s(r: Reader, name: string): Float64Array {
  return bytesToFloat64(bytes(r, name), `${r.e.kind}.${name}`);
}

function int(r: Reader, h: JsonRecord, key: string, min = 0): number {
  return num(h, key, r.e.kind, { integer: true, min, ...(r.who !== undefined ? { participant: r.who } : {}) });
}

function endpoint(r: Reader, key: 'from' | 'to'): Endpoint {
  const v = record(r.h[key], `${r.e.kind}.${key}`, r.who);
  const role = v['role'];
  const id = str(v, 'id', `${r.e.kind}.${key}`, r.who);
  if (id === '') fail(r, `${key}.id is empty`);
  if (!isRole(role)) return fail(r, `${key}.role must be one of ${ROLES.join(', ')}`);
  return { role, id };
}

function isRole(x: unknown): x is VerticalRole {
  return ROLES.some((role) => role === x);
}

function isStepName(x: string): x is VerticalStep {
  return Object.prototype.hasOwnProperty.call(STEP_ROLES, x);
}

function partyRole(r: Reader, role: unknown, where: string): PartyRole {
  if (role === 'label-holder' || role === 'feature-holder') return role;
  return fail(r, `${where} must be label-holder or feature-holder`);
}

function phase(r: Reader): Phase {
  const p = record(r.h['phase'], `${r.e.kind}.phase`, r.who);
  switch (p['kind']) {
    case 'train':
      return { kind: 'train', epoch: int(r, p, 'epoch', 1) };
    case 'evaluate':
      return { kind: 'evaluate' };
    case 'score':
      return { kind: 'score', queryId: str(p, 'queryId', `${r.e.kind}.phase`, r.who) };
    default:
      return fail(r, 'phase.kind must be train, evaluate or score');
  }
}

function config(r: Reader): VerticalTrainConfig {
  const c = record(r.h['config'], `${r.e.kind}.config`, r.who);
  const split = c['splitNn'];
  const widths = (v: unknown, where: string): number[] => {
    if (!Array.isArray(v) || !v.every((x): x is number => typeof x === 'number')) return fail(r, `${where} must be an array of numbers`);
    return v;
  };
  let splitNn: VerticalTrainConfig['splitNn'];
  if (split !== undefined) {
    const s = record(split, `${r.e.kind}.config.splitNn`, r.who);
    const noise = s['noiseStd'];
    splitNn = {
      bottomHidden: widths(s['bottomHidden'], 'config.splitNn.bottomHidden'),
      embedding: num(s, 'embedding', 'config.splitNn'),
      topHidden: widths(s['topHidden'], 'config.splitNn.topHidden'),
      ...(noise !== undefined ? { noiseStd: num(s, 'noiseStd', 'config.splitNn') } : {}),
    };
  }
  const mode = str(c, 'mode', 'config', r.who);
  const parsed: VerticalTrainConfig = {
    jobId: str(c, 'jobId', 'config', r.who),
    mode: mode === 'secure-lr' || mode === 'plain-lr' || mode === 'split-nn' ? mode : fail(r, `config.mode ${JSON.stringify(mode)} is unknown`),
    epochs: num(c, 'epochs', 'config'),
    batchSize: num(c, 'batchSize', 'config'),
    learningRate: num(c, 'learningRate', 'config'),
    l2: num(c, 'l2', 'config'),
    seed: num(c, 'seed', 'config'),
    fracBits: num(c, 'fracBits', 'config'),
    ...(splitNn !== undefined ? { splitNn } : {}),
  };
  checkTrainConfig(parsed);
  return parsed;
}

function partyList(r: Reader, key: string): string[] {
  const v = r.h[key];
  if (!Array.isArray(v) || !v.every((x): x is string => typeof x === 'string' && x !== '')) return fail(r, `${key} must be a list of party ids`);
  return v;
}

function presence(r: Reader, n: number): Presence[] | undefined {
  if (r.h['presence'] === undefined) return undefined;
  const parties = partyList(r, 'presence');
  const rows = byteRows(r, 'presence', parties.length, n);
  rows.forEach((row, k) => {
    if (row.some((b) => b > 1)) fail(r, `presence of "${parties[k]}" must hold 0 or 1`);
  });
  return parties.map((party, k) => ({ party, present: rows[k] ?? new Uint8Array(n) }));
}

function alignedRows(r: Reader): Int32Array {
  const w = words(r, 'rows');
  const rows = new Int32Array(w.buffer, w.byteOffset, w.length);
  if (rows.some((x) => x < -1)) fail(r, 'rows must be row indices or −1');
  return rows;
}

const ERROR_CODES: readonly ErrorCode[] = ['DATA', 'SCHEMA', 'CONFIG', 'MODEL', 'STRATEGY', 'PROTOCOL', 'VALIDATION', 'PARTICIPANT', 'ROUND', 'INTERNAL'];

function errorInfo(r: Reader): ErrorInfo {
  const e = record(r.h['error'], `${r.e.kind}.error`, r.who);
  const code = str(e, 'code', 'error', r.who);
  const known = ERROR_CODES.find((c) => c === code);
  return { code: known ?? 'INTERNAL', message: str(e, 'message', 'error', r.who) };
}

/**
 * Decodes and validates an envelope into a vertical message.
 * @param sender the authenticated sender the transport vouches for; when given, it must be `from.id`.
 * @throws {ValidationError} naming the sender and the field for any malformed or misrouted message.
 * @throws {ConfigError} for a setup whose plan is invalid.
 */
export function decodeVerticalMessage(e: Envelope, sender?: string): VerticalMessage {
  const who = sender ?? (typeof e.sender === 'string' && e.sender !== '' ? e.sender : undefined);
  if (!isRecord(e.header)) throw new ValidationError(who, `${e.kind}: the header must be an object`);
  const r: Reader = { e, h: e.header, who };
  if (!e.kind.startsWith(KIND_PREFIX)) fail(r, `not a vertical message (kinds start with "${KIND_PREFIX}")`);
  const step = e.kind.slice(KIND_PREFIX.length);
  if (!isStepName(step)) return fail(r, 'unknown step');
  const roles = STEP_ROLES[step];
  const from = endpoint(r, 'from');
  const to = endpoint(r, 'to');
  if (!roles.from.includes(from.role) || !roles.to.includes(to.role)) fail(r, `a ${from.role} may not send ${step} to a ${to.role}`);
  if (sender !== undefined && sender !== from.id) fail(r, `claims to come from "${from.id}" but the transport authenticated "${sender}"`);
  const jobId = e.jobId;
  const arbiter = (): Endpoint<'arbiter'> => ({ role: 'arbiter', id: from.role === 'arbiter' ? from.id : to.id });
  const party = (end: Endpoint, where: string): Endpoint<PartyRole> => ({ role: partyRole(r, end.role, where), id: end.id });
  const label = (end: Endpoint, where: string): Endpoint<'label-holder'> => (end.role === 'label-holder' ? { role: 'label-holder', id: end.id } : fail(r, `${where} must be the label holder`));
  const feature = (end: Endpoint, where: string): Endpoint<'feature-holder'> => (end.role === 'feature-holder' ? { role: 'feature-holder', id: end.id } : fail(r, `${where} must be a feature holder`));
  switch (step) {
    case 'hello':
      return { step: 'hello', from: arbiter(), to: party(to, 'to'), payload: { jobId } };
    case 'hello-result':
      return { step: 'hello-result', from: party(from, 'from'), to: arbiter(), payload: { jobId, agreementKey: bytes(r, 'agreementKey', KEY_BYTES) } };
    case 'setup': {
      const rows = alignedRows(r);
      const dir = r.h['directory'];
      if (!Array.isArray(dir)) return fail(r, 'directory must be a list');
      const keys = byteRows(r, 'agreementKeys', dir.length, KEY_BYTES);
      const directory: DirectoryEntry[] = dir.map((d: unknown, k) => {
        const entry = record(d, `${e.kind}.directory[${k}]`, who);
        return { id: str(entry, 'id', `directory[${k}]`, who), role: partyRole(r, entry['role'], `directory[${k}].role`), agreementKey: keys[k] ?? new Uint8Array() };
      });
      const p = presence(r, rows.length);
      const hasSeed = e.tensors.some((t) => t.name === 'maskSeed');
      return {
        step: 'setup',
        from: arbiter(),
        to: party(to, 'to'),
        payload: { config: config(r), directory, rows, nTrain: int(r, r.h, 'nTrain', 1), ...(p !== undefined ? { presence: p } : {}), ...(hasSeed ? { maskSeed: bytes(r, 'maskSeed', KEY_BYTES) } : {}) },
      };
    }
    case 'masked-features':
      return { step: 'masked-features', from: feature(from, 'from'), to: label(to, 'to'), payload: { jobId, rows: int(r, r.h, 'rows', 1), cols: int(r, r.h, 'cols', 1), sealed: bytes(r, 'sealed') } };
    case 'setup-result':
      return { step: 'setup-result', from: party(from, 'from'), to: arbiter(), payload: { jobId, dim: int(r, r.h, 'dim', 1) } };
    case 'epoch-start': {
      const epoch = e.round;
      if (!Number.isSafeInteger(epoch) || epoch < 1) fail(r, 'the round must be the epoch, ≥ 1');
      const m = r.h['material'];
      let material: LabelHolderMaterial | FeatureHolderMaterial | undefined;
      if (m !== undefined) {
        const mr = record(m, `${e.kind}.material`, who);
        if (mr['role'] === 'feature-holder') material = { role: 'feature-holder', tSeed: bytes(r, 'tSeed', KEY_BYTES) };
        else if (mr['role'] === 'label-holder') {
          const parties = partyList({ ...r, h: mr }, 'parties');
          material = { role: 'label-holder', sSeed: bytes(r, 'sSeed', KEY_BYTES), shares: parties.map((p, k) => ({ party: p, tC: words(r, `tC.${k}`) })) };
        } else fail(r, 'material.role must be label-holder or feature-holder');
      }
      return { step: 'epoch-start', from: arbiter(), to: party(to, 'to'), payload: { jobId, epoch, ...(material !== undefined ? { material } : {}) } };
    }
    case 'partial-logits': {
      const encoding = r.h['encoding'];
      const data =
        encoding === 'plain' ? { encoding: 'plain' as const, values: float64s(r, 'values') } : encoding === 'sealed' ? { encoding: 'sealed' as const, sealed: bytes(r, 'sealed') } : fail(r, 'encoding must be plain or sealed');
      return { step: 'partial-logits', from: feature(from, 'from'), to: label(to, 'to'), payload: { jobId, phase: phase(r), batch: int(r, r.h, 'batch'), data } };
    }
    case 'embeddings':
      return { step: 'embeddings', from: feature(from, 'from'), to: label(to, 'to'), payload: { jobId, phase: phase(r), batch: int(r, r.h, 'batch'), sealed: bytes(r, 'sealed') } };
    case 'residual':
      return { step: 'residual', from: label(from, 'from'), to: feature(to, 'to'), payload: { jobId, epoch: e.round, batch: int(r, r.h, 'batch'), residual: float64s(r, 'residual') } };
    case 'gradient-shares':
      return { step: 'gradient-shares', from: label(from, 'from'), to: feature(to, 'to'), payload: { jobId, epoch: e.round, batch: int(r, r.h, 'batch'), sealed: bytes(r, 'sealed') } };
    case 'embedding-gradients':
      return { step: 'embedding-gradients', from: label(from, 'from'), to: feature(to, 'to'), payload: { jobId, epoch: e.round, batch: int(r, r.h, 'batch'), sealed: bytes(r, 'sealed') } };
    case 'epoch-end': {
      const loss = r.h['loss'];
      return { step: 'epoch-end', from: party(from, 'from'), to: arbiter(), payload: { jobId, epoch: e.round, ...(typeof loss === 'number' ? { loss } : {}) } };
    }
    case 'evaluate':
      return { step: 'evaluate', from: arbiter(), to: party(to, 'to'), payload: { jobId } };
    case 'evaluate-result':
      return { step: 'evaluate-result', from: label(from, 'from'), to: arbiter(), payload: { jobId, summary: parseEvalSummary(r.h['summary'], who) } };
    case 'score': {
      const rows = alignedRows(r);
      const p = presence(r, rows.length);
      return { step: 'score', from: arbiter(), to: party(to, 'to'), payload: { jobId, queryId: str(r.h, 'queryId', e.kind, who), rows, ...(p !== undefined ? { presence: p } : {}) } };
    }
    case 'score-result':
      return { step: 'score-result', from: label(from, 'from'), to: arbiter(), payload: { jobId, queryId: str(r.h, 'queryId', e.kind, who), probabilities: float64s(r, 'probabilities') } };
    case 'finish':
      return { step: 'finish', from: arbiter(), to: party(to, 'to'), payload: { jobId } };
    case 'finish-result':
      return { step: 'finish-result', from: party(from, 'from'), to: arbiter(), payload: { jobId } };
    case 'error':
      return { step: 'error', from: party(from, 'from'), to: arbiter(), payload: { jobId, error: errorInfo(r) } };
  }
}
