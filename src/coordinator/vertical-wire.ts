/**
 * The control envelopes of a deployed vertical job, around the training protocol of
 * `federation/vertical/protocol.ts` and the PSI of `federation/vertical/psi/`: opening the job at a
 * platform, running its PSI with one peer, the alignment step (the label holder tells each feature
 * holder, sealed end to end, which of its intersecting rows sits at which position), and the
 * long-poll `vertical.pull` that carries a platform's outgoing messages (participants only answer).
 *
 * Coordinator → platform:
 * - `vertical.job.open` {role, idColumn, labelHolder, featureHolders, config, psi {suite, reveal, salt}} → `vertical.job.opened` {role}
 * - `vertical.job.psi` {peer} → `vertical.job.psi-done` {size}; a feature holder adds tensor `alignKey` (X25519)
 * - `vertical.job.align` (label holder) {testFraction, peers}, tensors `alignKey.<peer>` →
 *   `vertical.job.aligned` {n, nTrain, peers}, tensors `rows`, `key`, `sealed.<peer>`
 * - `vertical.job.deliver` (feature holder) {n, nTrain}, tensors `key`, `sealed` → `vertical.job.aligned` {n, nTrain}, tensor `rows`
 * - `vertical.pull` → the platform's next outgoing `psi.*` or `vertical.*` envelope, or `vertical.idle`
 * - any `psi.*` (header `peer` added by the relay) or `vertical.<step>` → `vertical.ack`
 *
 * Row maps reach the coordinator as indices into private tables (−1 = imputed), never identifiers:
 * the arbiter forwards each to its party at setup, as `protocol.ts` states it sees them.
 */
import { ValidationError } from '../core/errors.js';
import type { Envelope, EnvelopeBody, Tensor } from '../transport/channel.js';

/** Control kinds. */
export const VERTICAL_KINDS = {
  open: 'vertical.job.open',
  opened: 'vertical.job.opened',
  psi: 'vertical.job.psi',
  psiDone: 'vertical.job.psi-done',
  align: 'vertical.job.align',
  deliver: 'vertical.job.deliver',
  aligned: 'vertical.job.aligned',
  pull: 'vertical.pull',
  idle: 'vertical.idle',
  ack: 'vertical.ack',
} as const;

/** True for the control kinds above (not training steps). */
export function isVerticalControlKind(kind: string): boolean {
  return kind.startsWith('vertical.job.') || kind === VERTICAL_KINDS.pull || kind === VERTICAL_KINDS.idle || kind === VERTICAL_KINDS.ack;
}

/** A control envelope body. */
export function controlBody(kind: string, jobId: string, header: Readonly<Record<string, unknown>>, tensors: readonly Tensor[] = []): EnvelopeBody {
  return { kind, jobId, round: 0, header, tensors };
}

/** A byte tensor. */
export function bytesTensor(name: string, data: Uint8Array): Tensor {
  return { name, shape: [data.length], data };
}

/** Row indices (−1 allowed) as a `u32` tensor of their two's-complement bits. */
export function rowsTensor(name: string, rows: Int32Array): Tensor {
  return { name, shape: [rows.length], data: new Uint32Array(rows.buffer, rows.byteOffset, rows.length) };
}

/**
 * The named byte tensor of `e`.
 * @throws {ValidationError} naming the sender when it is missing or not bytes.
 */
export function bytesOf(e: Envelope, name: string, length?: number): Uint8Array {
  const t = e.tensors.find((x) => x.name === name);
  if (t === undefined || !(t.data instanceof Uint8Array)) throw new ValidationError(e.sender, `${e.kind}: expected a u8 tensor "${name}"`);
  if (length !== undefined && t.data.length !== length) throw new ValidationError(e.sender, `${e.kind}.${name}: expected ${length} bytes, got ${t.data.length}`);
  return t.data;
}

/**
 * The named row-index tensor of `e`, each index in [−1, maxRow).
 * @throws {ValidationError} naming the sender for a missing tensor, a wrong length or an index out of range.
 */
export function rowsOf(e: Envelope, name: string, length: number, maxRow: number): Int32Array {
  const t = e.tensors.find((x) => x.name === name);
  if (t === undefined || !(t.data instanceof Uint32Array)) throw new ValidationError(e.sender, `${e.kind}: expected a u32 tensor "${name}"`);
  if (t.data.length !== length) throw new ValidationError(e.sender, `${e.kind}.${name}: expected ${length} rows, got ${t.data.length}`);
  const rows = new Int32Array(t.data.buffer.slice(t.data.byteOffset, t.data.byteOffset + 4 * t.data.length));
  for (const r of rows) if (r < -1 || r >= maxRow) throw new ValidationError(e.sender, `${e.kind}.${name}: row ${r} out of range`);
  return rows;
}

/**
 * The header of `e` as a record.
 * @throws {ValidationError} naming the sender when it is not an object.
 */
export function headerOf(e: Envelope): Readonly<Record<string, unknown>> {
  const h: unknown = e.header;
  if (typeof h !== 'object' || h === null || Array.isArray(h)) throw new ValidationError(e.sender, `${e.kind}: the header must be an object`);
  return Object.fromEntries(Object.entries(h));
}

/**
 * A non-negative integer field of a header.
 * @throws {ValidationError} naming the sender and the field.
 */
export function intField(e: Envelope, h: Readonly<Record<string, unknown>>, key: string): number {
  const v = h[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new ValidationError(e.sender, `${e.kind}.${key}: expected a non-negative integer`);
  return v;
}

/** Context string binding the alignment key to job and pair. */
export function alignContext(jobId: string, labelHolder: string, featureHolder: string): string {
  return `edufed/vertical/align ${JSON.stringify([jobId, labelHolder, featureHolder])}`;
}
