/**
 * The horizontal protocol on the wire: each typed message of `protocol.ts` as a transport envelope
 * (a small JSON header plus raw float32 tensors), and back. Decoding validates everything, so a
 * message from the network becomes a typed record or a ValidationError naming the sender and field.
 */
import { ValidationError } from '../../core/errors.js';
import { parseEvalSummary, type EvalSummary } from '../../core/metrics.js';
import { isRecord, num, record, str, type JsonRecord } from '../../core/validate.js';
import { parseEncoderSpec, parseLocalStats } from '../../data/encoder.js';
import { parseSchema } from '../../data/schema-io.js';
import { parseModelSpec } from '../../models/parse-model-spec.js';
import type { LocalPrivacyInstructions, TrainInstructions } from '../../strategy/strategy.js';
import type { Envelope, EnvelopeBody } from '../../transport/channel.js';
import type { DataTask, HorizontalReply, HorizontalRequest } from './protocol.js';

/** Envelope kinds of the horizontal protocol are prefixed, so other workflows can share a link. */
export const KIND_PREFIX = 'horizontal.';

function paramsTensor(params: Float32Array): EnvelopeBody['tensors'] {
  return [{ name: 'params', shape: [params.length], data: params }];
}

/** Encodes a request for the wire. */
export function encodeRequest(jobId: string, req: HorizontalRequest): EnvelopeBody {
  const base = { kind: KIND_PREFIX + req.step, jobId };
  switch (req.step) {
    case 'stats':
      return { ...base, round: 0, header: { task: req.payload.task }, tensors: [] };
    case 'setup':
      return { ...base, round: 0, header: req.payload, tensors: [] };
    case 'train':
      return {
        ...base,
        round: req.payload.round,
        header: { instructions: req.payload.instructions, ...(req.payload.evaluate === true ? { evaluate: true } : {}) },
        tensors: paramsTensor(req.payload.params),
      };
    case 'evaluate':
      return { ...base, round: req.payload.round, header: {}, tensors: paramsTensor(req.payload.params) };
    case 'finish':
      return { ...base, round: req.payload.rounds, header: { reason: req.payload.reason }, tensors: [] };
  }
}

/** Encodes a reply for the wire. */
export function encodeReply(jobId: string, round: number, reply: HorizontalReply): EnvelopeBody {
  const base = { kind: KIND_PREFIX + reply.step, jobId, round };
  switch (reply.step) {
    case 'train-result': {
      const { params, summary, ...rest } = reply.payload;
      return { ...base, header: { ...rest, ...(summary !== undefined ? { summary: sparseSummary(summary) } : {}) }, tensors: paramsTensor(params) };
    }
    case 'evaluate-result':
      // Histograms are mostly empty bins: sent sparse, as [bin, count, bin, count, ...].
      return {
        ...base,
        header: { round: reply.payload.round, summary: sparseSummary(reply.payload.summary) },
        tensors: [],
      };
    default:
      return { ...base, header: reply.payload, tensors: [] };
  }
}

function sparseSummary(summary: EvalSummary): unknown {
  return { ...summary, positives: summary.positives.map(sparse), negatives: summary.negatives.map(sparse) };
}

function sparse(hist: readonly number[]): number[] {
  const out: number[] = [];
  hist.forEach((c, b) => {
    if (c !== 0) out.push(b, c);
  });
  return out;
}

/** Expands sparse histograms back to `bins` dense counts; anything malformed is left for the summary validator to refuse. */
function dense(summary: unknown, participant: string): unknown {
  if (!isRecord(summary)) return summary;
  const bins = summary['bins'];
  if (typeof bins !== 'number' || !Number.isInteger(bins) || bins < 1 || bins > 1 << 20) return summary;
  const expand = (lists: unknown): unknown => {
    if (!Array.isArray(lists)) return lists;
    return lists.map((pairs: unknown) => {
      if (!Array.isArray(pairs) || pairs.length % 2 !== 0) throw new ValidationError(participant, 'evaluate-result.summary: malformed sparse histogram');
      const h = new Array<number>(bins).fill(0);
      for (let i = 0; i < pairs.length; i += 2) {
        const b: unknown = pairs[i];
        const c: unknown = pairs[i + 1];
        if (typeof b !== 'number' || !Number.isInteger(b) || b < 0 || b >= bins || typeof c !== 'number') {
          throw new ValidationError(participant, `evaluate-result.summary: histogram entry ${i / 2} is out of range`);
        }
        h[b] = c;
      }
      return h;
    });
  };
  return { ...summary, positives: expand(summary['positives']), negatives: expand(summary['negatives']) };
}

function params(e: Envelope, who: string | undefined): Float32Array {
  const t = e.tensors.find((x) => x.name === 'params');
  if (t === undefined || e.tensors.length !== 1) throw new ValidationError(who, `${e.kind}: expected exactly one tensor named "params"`);
  if (!(t.data instanceof Float32Array)) throw new ValidationError(who, `${e.kind}: tensor "params" must be float32`);
  return t.data;
}

function header(e: Envelope, who: string | undefined): JsonRecord {
  return record(e.header, `${e.kind} header`, who);
}

function task(v: unknown): DataTask {
  const t = record(v, 'task');
  return {
    testFraction: num(t, 'testFraction', 'task', { min: 0, max: 1 }),
    splitSeed: num(t, 'splitSeed', 'task', { integer: true, min: 0 }),
    schema: parseSchema(t['schema'], 'job schema'),
    ...(t['splitColumn'] !== undefined ? { splitColumn: str(t, 'splitColumn', 'task') } : {}),
  };
}

function localPrivacy(v: unknown): LocalPrivacyInstructions {
  const p = record(v, 'instructions.privacy');
  const where = 'instructions.privacy';
  let dpSgd: LocalPrivacyInstructions['dpSgd'];
  if (p['dpSgd'] !== undefined) {
    const d = record(p['dpSgd'], `${where}.dpSgd`);
    dpSgd = { clipNorm: num(d, 'clipNorm', `${where}.dpSgd`, { min: Number.MIN_VALUE }), noiseMultiplier: num(d, 'noiseMultiplier', `${where}.dpSgd`, { min: 0 }) };
  }
  return {
    ...(dpSgd !== undefined ? { dpSgd } : {}),
    ...(p['clipUpdate'] !== undefined ? { clipUpdate: num(p, 'clipUpdate', where, { min: Number.MIN_VALUE }) } : {}),
    ...(p['updateNoiseStd'] !== undefined ? { updateNoiseStd: num(p, 'updateNoiseStd', where, { min: 0 }) } : {}),
    ...(p['delta'] !== undefined ? { delta: num(p, 'delta', where, { min: Number.MIN_VALUE, max: 1 }) } : {}),
  };
}

function instructions(v: unknown): TrainInstructions {
  const i = record(v, 'instructions');
  const mu = i['proximalMu'];
  const personal = i['personalBlocks'];
  if (personal !== undefined && (!Array.isArray(personal) || !personal.every((p): p is string => typeof p === 'string'))) {
    throw new ValidationError(undefined, 'instructions.personalBlocks: expected an array of strings');
  }
  const privacy = i['privacy'] !== undefined ? localPrivacy(i['privacy']) : undefined;
  return {
    ...(privacy !== undefined ? { privacy } : {}),
    epochs: num(i, 'epochs', 'instructions', { integer: true, min: 1, max: 10_000 }),
    batchSize: num(i, 'batchSize', 'instructions', { integer: true, min: 0 }),
    learningRate: num(i, 'learningRate', 'instructions', { min: 0 }),
    ...(mu !== undefined ? { proximalMu: num(i, 'proximalMu', 'instructions', { min: 0 }) } : {}),
    ...(personal !== undefined ? { personalBlocks: personal } : {}),
  };
}

/** Decodes and validates a request arriving at a participant. @throws ValidationError / ConfigError / SchemaError */
export function decodeRequest(e: Envelope): HorizontalRequest {
  const from = 'coordinator' as const;
  const to = 'participant' as const;
  const h = header(e, undefined);
  switch (e.kind) {
    case `${KIND_PREFIX}stats`:
      return { step: 'stats', from, to, payload: { task: task(h['task']) } };
    case `${KIND_PREFIX}setup`:
      return {
        step: 'setup',
        from,
        to,
        payload: { task: task(h['task']), encoder: parseEncoderSpec(h['encoder'], 'setup request'), model: parseModelSpec(h['model']) },
      };
    case `${KIND_PREFIX}train`:
      return {
        step: 'train',
        from,
        to,
        payload: { round: e.round, params: params(e, undefined), instructions: instructions(h['instructions']), ...(h['evaluate'] === true ? { evaluate: true } : {}) },
      };
    case `${KIND_PREFIX}evaluate`:
      return { step: 'evaluate', from, to, payload: { round: e.round, params: params(e, undefined) } };
    case `${KIND_PREFIX}finish`:
      return { step: 'finish', from, to, payload: { rounds: e.round, reason: str(h, 'reason', 'finish') } };
    default:
      throw new ValidationError(undefined, `unknown request kind "${e.kind}"`);
  }
}

/** Decodes and validates a participant's reply. @throws ValidationError naming the participant */
export function decodeReply(e: Envelope, participant: string): HorizontalReply {
  const from = 'participant' as const;
  const to = 'coordinator' as const;
  const h = header(e, participant);
  const opts = { participant };
  switch (e.kind) {
    case `${KIND_PREFIX}stats-result`:
      return { step: 'stats-result', from, to, payload: { stats: parseLocalStats(h['stats'], participant) } };
    case `${KIND_PREFIX}setup-result`:
      return {
        step: 'setup-result',
        from,
        to,
        payload: {
          numTrain: num(h, 'numTrain', 'setup-result', { ...opts, integer: true, min: 0 }),
          numTest: num(h, 'numTest', 'setup-result', { ...opts, integer: true, min: 0 }),
          dim: num(h, 'dim', 'setup-result', { ...opts, integer: true, min: 1 }),
          ...(h['maxEpsilon'] !== undefined ? { maxEpsilon: num(h, 'maxEpsilon', 'setup-result', { ...opts, min: Number.MIN_VALUE }) } : {}),
        },
      };
    case `${KIND_PREFIX}train-result`:
      return {
        step: 'train-result',
        from,
        to,
        payload: {
          round: num(h, 'round', 'train-result', { ...opts, integer: true, min: 0 }),
          params: params(e, participant),
          numExamples: num(h, 'numExamples', 'train-result', { ...opts, integer: true, min: 0 }),
          // A diverged local loss is reported, not fatal here; the update itself is screened separately.
          loss: typeof h['loss'] === 'number' ? h['loss'] : NaN,
          trainMs: num(h, 'trainMs', 'train-result', { ...opts, min: 0 }),
          ...(h['summary'] !== undefined ? { summary: parseEvalSummary(dense(h['summary'], participant), participant) } : {}),
        },
      };
    case `${KIND_PREFIX}evaluate-result`:
      return {
        step: 'evaluate-result',
        from,
        to,
        payload: {
          round: num(h, 'round', 'evaluate-result', { ...opts, integer: true, min: 0 }),
          summary: parseEvalSummary(dense(h['summary'], participant), participant),
        },
      };
    case `${KIND_PREFIX}finish-result`:
      return { step: 'finish-result', from, to, payload: {} };
    case `${KIND_PREFIX}error`:
      return {
        step: 'error',
        from,
        to,
        payload: { code: 'PARTICIPANT', message: str(h, 'message', 'error', participant) },
      };
    default:
      throw new ValidationError(participant, `unknown reply kind "${e.kind}"`);
  }
}
