/**
 * The pure core of ECDH-PSI (Meadows 1986; Huberman, Franklin and Hogg 1999; the semi-honest
 * protocol of De Cristofaro and Tsudik 2010): parameters both platforms agree on, the identifier
 * stream, de-duplication, and the memory-bounded matching. No I/O; the roles in session.ts drive it.
 *
 * With H = hash_to_ristretto255 (RFC 9380 App. B), L the label holder with secret a and F the
 * feature holder with secret b: L sends a·H(x) for its identifiers, F returns b·a·H(x) and sends
 * b·H(y) for its own, L computes a·b·H(y) and matches. Blinding commutes, so equal identifiers meet;
 * DDH hides the others. Values L only compares are truncated to 128-bit fingerprints.
 *
 * ## Options
 * - `reveal: 'both'`: both platforms learn their own rows in the intersection, listed in one
 *   canonical order (ascending double-blinded fingerprint: unrelated to either side's row order), so
 *   row k of one list and row k of the other are the same learner.
 * - `reveal: 'label-holder'`: only L learns its rows; F learns nothing but L's set size.
 * - `reveal: 'cardinality'`: both learn only |X ∩ Y|. F returns L's double-blinded values in a
 *   random order, so L cannot tell which of its identifiers matched. One ID column only.
 * - Several ID columns, "match on any": one stage per column, in the given order (a priority).
 *   With `both`, a row matched in one stage leaves both sides' later stages, so each row is aligned
 *   at most once; with `label-holder`, only L's matched rows leave (F learns none of them).
 *
 * ## What leaks (semi-honest parties; the coordinator sees only ciphertext sizes and timing)
 * - Each side learns the other's number of distinct identifiers per stage (its stream length); the
 *   coordinator learns the same from message sizes, and with `both` also the intersection size.
 * - Per stage: with `both` each side learns the intersection size and its own matched rows, hence
 *   which column matched each aligned row; with several columns, whether a row's earlier-column
 *   identifier was absent or unmatched is not revealed, but the stage sizes are.
 * - Duplicates are removed locally before anything is sent (the lowest row index wins), so neither
 *   side learns the other's duplicate structure; each side only learns its own duplicate count.
 * - Nothing about identifiers outside the intersection, beyond these sizes, under DDH in ristretto255
 *   with H a random oracle.
 */
import { createHash } from 'node:crypto';
import { ConfigError, ValidationError } from '../../../core/errors.js';
import { cryptoRng, permutation } from '../../../core/rng.js';
import { FINGERPRINT_BYTES, FingerprintSet } from './fingerprint-set.js';
import { ELEMENT_BYTES, PSI_SUITES, type PackedMessages, type PsiSuite } from './group.js';
import type { IdSource } from './id-source.js';
import { checkSalt, resolveIdRule, type IdRule, type IdRuleSpec } from './normalize.js';
import { PSI_PROTOCOL_VERSION } from './protocol.js';

/** Who learns what. */
export const PSI_REVEALS = ['both', 'label-holder', 'cardinality'] as const;
/** A reveal option. */
export type PsiReveal = (typeof PSI_REVEALS)[number];

/** Identifiers per batch by default (128 KiB of elements per message). */
export const DEFAULT_BATCH_SIZE = 4096;

/** One ID column, by its logical name, and how its values are normalised. */
export interface PsiColumn {
  readonly name: string;
  readonly rule: IdRule;
}

/** Everything both platforms of a PSI must agree on (compared by digest in the hello). */
export interface PsiParams {
  readonly suite: PsiSuite;
  readonly reveal: PsiReveal;
  /** In priority order. */
  readonly columns: readonly PsiColumn[];
  /** Per-job salt, part of every hashed identifier. */
  readonly salt: Uint8Array;
}

/** The parameters as a job configuration gives them. */
export interface PsiParamsSpec {
  /** Default `x25519`. */
  readonly suite?: PsiSuite;
  /** Default `both`. */
  readonly reveal?: PsiReveal;
  /** Column names (rule `text`), or names with rules. */
  readonly columns: readonly (string | { readonly name: string; readonly rule?: IdRuleSpec })[];
  readonly salt: Uint8Array;
}

/**
 * Validated, complete parameters.
 * @throws ConfigError naming the field: unknown suite or reveal, no or duplicate columns, a bad
 *   rule, a salt outside 16–255 bytes, several columns with `cardinality`.
 */
export function resolvePsiParams(spec: PsiParamsSpec): PsiParams {
  const suite = spec.suite ?? 'x25519';
  if (!PSI_SUITES.includes(suite)) throw new ConfigError('suite', `expected one of ${PSI_SUITES.join(', ')}`);
  const reveal = spec.reveal ?? 'both';
  if (!PSI_REVEALS.includes(reveal)) throw new ConfigError('reveal', `expected one of ${PSI_REVEALS.join(', ')}`);
  if (!Array.isArray(spec.columns) || spec.columns.length === 0) throw new ConfigError('columns', 'at least one ID column is needed');
  const columns = spec.columns.map((c, i): PsiColumn => {
    const name = typeof c === 'string' ? c : c.name;
    if (typeof name !== 'string' || name.length === 0 || Buffer.byteLength(name) > 1024) throw new ConfigError(`columns[${i}].name`, 'expected a non-empty name (at most 1024 bytes)');
    return { name, rule: resolveIdRule(typeof c === 'string' ? 'text' : (c.rule ?? 'text'), `columns[${i}].rule`) };
  });
  if (new Set(columns.map((c) => c.name)).size !== columns.length) throw new ConfigError('columns', 'a column is listed twice');
  if (reveal === 'cardinality' && columns.length > 1) {
    throw new ConfigError('columns', 'cardinality-only PSI takes one ID column (counting "match on any" needs rows linked across columns, which only the reveal modes do)');
  }
  return { suite, reveal, columns, salt: checkSalt(spec.salt).slice() };
}

/** SHA-256 (hex) of a canonical serialisation of the parameters, as the hellos compare them. */
export function psiParamsDigest(p: PsiParams): string {
  const canonical = JSON.stringify([
    'edufed-psi',
    PSI_PROTOCOL_VERSION,
    p.suite,
    p.reveal,
    p.columns.map((c) => [c.name, c.rule.unicode, c.rule.caseFold, c.rule.trim, c.rule.collapseSpaces, c.rule.removeSpaces, c.rule.removeChars, c.rule.digitsOnly, c.rule.stripLeadingZeros]),
    Buffer.from(p.salt).toString('hex'),
  ]);
  return createHash('sha256').update(canonical).digest('hex');
}

/** What one stage does. */
export interface PsiStagePlan {
  readonly stage: number;
  /** Index into the parameters' columns. */
  readonly column: number;
  /** Whether the label holder's rows matched in earlier stages stay out of this one. */
  readonly excludeLabelMatched: boolean;
  /** Whether the feature holder's rows matched in earlier stages stay out of this one. */
  readonly excludeFeatureMatched: boolean;
}

/** The stages of a PSI: one per column, in priority order. */
export function planStages(p: PsiParams): PsiStagePlan[] {
  return p.columns.map((_, i) => ({
    stage: i,
    column: i,
    excludeLabelMatched: p.reveal !== 'cardinality',
    excludeFeatureMatched: p.reveal === 'both',
  }));
}

/**
 * The bytes every hashed identifier of one column starts with: I2OSP(len salt, 1) ‖ salt ‖
 * I2OSP(len name, 2) ‖ name. With the identifier's UTF-8 after it, (salt, column, identifier) ↦
 * message is injective, so equal messages mean the same identifier in the same column and job.
 */
export function itemPrefix(salt: Uint8Array, columnName: string): Uint8Array {
  const name = Buffer.from(columnName, 'utf8');
  const out = new Uint8Array(1 + salt.length + 2 + name.length);
  out[0] = salt.length;
  out.set(salt, 1);
  out[1 + salt.length] = name.length >>> 8;
  out[2 + salt.length] = name.length & 0xff;
  out.set(name, 3 + salt.length);
  return out;
}

/** One batch of identifiers to hash: their rows and their messages. */
export interface ItemBatch {
  readonly rows: Uint32Array;
  readonly messages: PackedMessages;
  /** Rows walked so far, skipped ones included (for progress). */
  readonly walked: number;
}

/** What {@link itemBatches} walks. */
export interface ItemWalk {
  readonly source: IdSource;
  /** Index of the column in `source`. */
  readonly column: number;
  readonly normalize: (value: string) => string | undefined;
  /** {@link itemPrefix} of the column. */
  readonly prefix: Uint8Array;
  /** Row order; natural when absent. */
  readonly order?: Uint32Array;
  /** Rows to skip (non-zero entries), e.g. rows matched in an earlier stage. */
  readonly exclude?: Uint8Array;
  readonly batchSize: number;
}

const encoder = new TextEncoder();

/**
 * Batches of the rows' normalised identifiers as hash messages (prefix ‖ UTF-8), skipping rows
 * without an identifier and excluded rows. Lazy: one batch in memory at a time.
 */
export function* itemBatches(walk: ItemWalk): Generator<ItemBatch> {
  const { source, column, normalize, prefix, order, exclude, batchSize } = walk;
  let bytes = new Uint8Array(batchSize * (prefix.length + 48));
  let rows = new Uint32Array(batchSize);
  let offsets = new Uint32Array(batchSize + 1);
  let n = 0;
  let used = 0;
  for (let k = 0; k < source.rows; k++) {
    const row = order === undefined ? k : (order[k] as number);
    if (exclude !== undefined && exclude[row] !== 0) continue;
    const raw = source.value(row, column);
    if (raw === null || raw === undefined || raw === '') continue;
    const id = normalize(raw);
    if (id === undefined) continue;
    const need = used + prefix.length + id.length * 3;
    if (need > bytes.length) {
      const grown = new Uint8Array(Math.max(need, bytes.length * 2));
      grown.set(bytes.subarray(0, used));
      bytes = grown;
    }
    bytes.set(prefix, used);
    used += prefix.length;
    used += encoder.encodeInto(id, bytes.subarray(used)).written;
    rows[n] = row;
    offsets[++n] = used;
    if (n === batchSize) {
      yield { rows, messages: { bytes: bytes.subarray(0, used), offsets }, walked: k + 1 };
      bytes = new Uint8Array(bytes.length);
      rows = new Uint32Array(batchSize);
      offsets = new Uint32Array(batchSize + 1);
      n = 0;
      used = 0;
    }
  }
  if (n > 0) yield { rows: rows.subarray(0, n), messages: { bytes: bytes.subarray(0, used), offsets: offsets.subarray(0, n + 1) }, walked: source.rows };
}

/** The first 16 bytes of each 32-byte element: what is compared, never exponentiated again. */
export function fingerprintsOf(elements: Uint8Array): Uint8Array {
  const n = elements.length / ELEMENT_BYTES;
  const out = new Uint8Array(n * FINGERPRINT_BYTES);
  for (let i = 0; i < n; i++) out.set(elements.subarray(i * ELEMENT_BYTES, i * ELEMENT_BYTES + FINGERPRINT_BYTES), i * FINGERPRINT_BYTES);
  return out;
}

/**
 * One side's own identifiers of a stage: de-duplicates blinded elements before they are sent and
 * remembers the row behind each stream position (the lowest row among duplicates).
 */
export class OwnItems {
  private readonly seen: FingerprintSet;
  private readonly rowOf: Uint32Array;
  private dups = 0;

  /** `capacity`: at most this many distinct identifiers (the row count is always enough). */
  constructor(capacity: number) {
    this.seen = new FingerprintSet(capacity);
    this.rowOf = new Uint32Array(capacity);
  }

  /** Distinct identifiers admitted, i.e. the stream length. */
  get size(): number {
    return this.seen.size;
  }

  /** Rows dropped as duplicates of an earlier identifier. */
  get duplicates(): number {
    return this.dups;
  }

  /** Bytes held. */
  get byteLength(): number {
    return this.seen.byteLength + this.rowOf.byteLength;
  }

  /**
   * Admits a batch of blinded elements (row i ↔ element i) and returns the new distinct ones, in
   * order; they take the next stream positions.
   */
  admit(rows: Uint32Array, blinded: Uint8Array): Uint8Array {
    const n = rows.length;
    const keep = new Uint8Array(n * ELEMENT_BYTES);
    let k = 0;
    for (let i = 0; i < n; i++) {
      const row = rows[i] as number;
      const existing = this.seen.add(blinded, i * ELEMENT_BYTES);
      if (existing >= 0) {
        this.dups++;
        if (row < (this.rowOf[existing] as number)) this.rowOf[existing] = row;
        continue;
      }
      this.rowOf[this.seen.size - 1] = row;
      keep.set(blinded.subarray(i * ELEMENT_BYTES, (i + 1) * ELEMENT_BYTES), k * ELEMENT_BYTES);
      k++;
    }
    return k === n ? keep : keep.slice(0, k * ELEMENT_BYTES);
  }

  /**
   * The row behind a stream position.
   * @throws ValidationError (naming `who`) for a position never sent.
   */
  row(position: number, who: string): number {
    if (!Number.isInteger(position) || position < 0 || position >= this.seen.size) {
      throw new ValidationError(who, `position ${position} is outside the ${this.seen.size} identifiers sent`);
    }
    return this.rowOf[position] as number;
  }
}

class GrowableU32 {
  private data = new Uint32Array(1024);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const grown = new Uint32Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.length++] = v;
  }
  view(): Uint32Array {
    return this.data.subarray(0, this.length);
  }
}

/**
 * The label holder's matching: its own double-blinded fingerprints, indexed by stream position
 * (in arrival order), probed with the feature holder's. Memory is one {@link FingerprintSet} plus
 * the matches; the feature holder's values are never stored.
 */
export class MatchIndex {
  private readonly own: FingerprintSet;
  private readonly hit: Uint8Array;
  private readonly ownHits = new GrowableU32();
  private readonly peerHits = new GrowableU32();

  constructor(capacity: number) {
    this.own = new FingerprintSet(capacity);
    this.hit = new Uint8Array(capacity);
  }

  /** Own fingerprints received so far. */
  get ownSize(): number {
    return this.own.size;
  }

  /** Matches found so far. */
  get matches(): number {
    return this.ownHits.length;
  }

  /** Bytes held. */
  get byteLength(): number {
    return this.own.byteLength + this.hit.byteLength;
  }

  /**
   * Appends own double-blinded fingerprints (n × 16 bytes), taking the next positions.
   * @throws ValidationError (naming the feature holder) for a repeated fingerprint (distinct
   *   identifiers cannot double-blind to equal values) or more values than identifiers sent.
   */
  addOwn(fingerprints: Uint8Array): void {
    for (let o = 0; o < fingerprints.length; o += FINGERPRINT_BYTES) {
      if (this.own.size >= this.own.capacity) throw new ValidationError('feature-holder', `more double-blinded values than the ${this.own.capacity} identifiers sent`);
      if (this.own.add(fingerprints, o) >= 0) throw new ValidationError('feature-holder', `double-blinded value at position ${this.own.size} repeats an earlier one`);
    }
  }

  /**
   * Looks up the feature holder's double-blinded fingerprints, the first being stream position
   * `firstPeerPosition`; returns the matches found in this batch.
   * @throws ValidationError (naming the feature holder) when two of its identifiers match the same one.
   */
  probe(fingerprints: Uint8Array, firstPeerPosition: number): number {
    let found = 0;
    for (let o = 0, j = firstPeerPosition; o < fingerprints.length; o += FINGERPRINT_BYTES, j++) {
      const i = this.own.indexOf(fingerprints, o);
      if (i < 0) continue;
      if (this.hit[i] !== 0) throw new ValidationError('feature-holder', `identifier at position ${j} repeats an earlier one`);
      this.hit[i] = 1;
      this.ownHits.push(i);
      this.peerHits.push(j);
      found++;
    }
    return found;
  }

  /** The matched pairs (own position, peer position) in the canonical order: ascending fingerprint. */
  canonical(): { readonly own: Uint32Array; readonly peer: Uint32Array } {
    const own = this.ownHits.view();
    const peer = this.peerHits.view();
    const order = new Uint32Array(own.length);
    for (let k = 0; k < order.length; k++) order[k] = k;
    order.sort((x, y) => this.own.compare(own[x] as number, own[y] as number));
    return { own: order.map((k) => own[k] as number), peer: order.map((k) => peer[k] as number) };
  }
}

/**
 * The feature holder's buffer of the label holder's double-blinded fingerprints under reveal
 * `cardinality`: everything is collected, then handed out in a uniformly random order.
 */
export class ShuffleBuffer {
  private data = new Uint8Array(1024 * FINGERPRINT_BYTES);
  private count = 0;

  /** Fingerprints held. */
  get size(): number {
    return this.count;
  }

  /** Appends n × 16 bytes of fingerprints. */
  add(fingerprints: Uint8Array): void {
    const need = (this.count * FINGERPRINT_BYTES) + fingerprints.length;
    if (need > this.data.length) {
      const grown = new Uint8Array(Math.max(need, this.data.length * 2));
      grown.set(this.data.subarray(0, this.count * FINGERPRINT_BYTES));
      this.data = grown;
    }
    this.data.set(fingerprints, this.count * FINGERPRINT_BYTES);
    this.count += fingerprints.length / FINGERPRINT_BYTES;
  }

  /** The fingerprints in a random order (`crypto.getRandomValues`), in batches. */
  *batches(batchSize: number): Generator<Uint8Array> {
    const perm = permutation(this.count, cryptoRng());
    for (let start = 0; start < this.count; start += batchSize) {
      const end = Math.min(this.count, start + batchSize);
      const out = new Uint8Array((end - start) * FINGERPRINT_BYTES);
      for (let k = start; k < end; k++) {
        const from = (perm[k] as number) * FINGERPRINT_BYTES;
        out.set(this.data.subarray(from, from + FINGERPRINT_BYTES), (k - start) * FINGERPRINT_BYTES);
      }
      yield out;
    }
  }
}
