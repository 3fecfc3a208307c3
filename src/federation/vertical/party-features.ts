/**
 * A party's own preprocessing in a vertical job: it encodes its whole table with an encoder built
 * from its own statistics (standardised numbers, one-hot categories, `<column>__missing` flags;
 * `data/encoder.ts`), then lays the rows out in the aligned order.
 *
 * Imputation of a learner the party lacks (row −1): an all-zero feature row. Zeros after the
 * party's standardisation are its column means, and its one-hot and missing-flag slots stay 0, so
 * this is mean imputation; the label holder's presence indicators let the model tell such rows
 * apart. The centralized baseline is built from exactly these rows, so it sees the same imputation.
 */
import { ConfigError, DataError } from '../../core/errors.js';
import { buildEncoder, encode, localStats, type EncoderSpec } from '../../data/encoder.js';
import type { Schema } from '../../data/schema.js';
import type { RawTable } from '../../data/table.js';
import { toTable } from '../../data/to-table.js';

/** A party's encoded table. */
export interface PartyFeatures {
  readonly party: string;
  readonly encoder: EncoderSpec;
  /** Rows of the party's table. */
  readonly n: number;
  /** Features per row. */
  readonly d: number;
  /** n × d, row-major. */
  readonly x: Float32Array;
  /** The id column's value per row. */
  readonly ids: readonly string[];
  /** Class index per row (0/1), or −1 when the table has no label column. */
  readonly labels: Int32Array;
}

/**
 * Validates and encodes a party's table with its own standardisation.
 * @throws {DataError} naming file, row and column for a cell that does not fit the schema, or if
 *   `idColumn` is not an id column of the schema.
 * @throws {ConfigError} if the table has a label that is not binary (vertical training is binary).
 */
export function encodePartyTable(party: string, raw: RawTable, schema: Schema, idColumn: string): PartyFeatures {
  const spec = schema.columns.find((c) => c.name === idColumn);
  if (spec === undefined || spec.type !== 'id') {
    throw new DataError({ file: raw.source, column: idColumn }, `party ${party}: the schema has no id column "${idColumn}"`);
  }
  const table = toTable(raw, schema);
  if (table.numClasses !== 0 && table.numClasses !== 2) {
    throw new ConfigError('schema', `party ${party}: vertical training needs a binary label (set "positive"), got ${table.numClasses} classes`);
  }
  const encoder = buildEncoder(schema, localStats(table));
  const data = encode(table, encoder);
  return {
    party,
    encoder,
    n: table.length,
    d: encoder.dim,
    x: data.x,
    ids: table.strings.get(idColumn) ?? [],
    labels: table.labels,
  };
}

/**
 * The party's feature rows at the aligned positions [start, end) of `rows`, zero rows where the
 * party lacks the learner (row −1): positions × d, row-major.
 * @throws {DataError} if a row index is outside the party's table.
 */
export function alignedFeatures(features: Pick<PartyFeatures, 'party' | 'n' | 'd' | 'x'>, rows: Int32Array, start = 0, end = rows.length): Float32Array {
  const { d, x } = features;
  const out = new Float32Array((end - start) * d);
  for (let i = start; i < end; i++) {
    const r = rows[i]!;
    if (r < 0) continue;
    if (r >= features.n) throw new DataError({ file: `party ${features.party}`, row: r + 1 }, `aligned position ${i} points past the table's ${features.n} rows`);
    out.set(x.subarray(r * d, r * d + d), (i - start) * d);
  }
  return out;
}

/**
 * Appends presence indicators (1 = the feature holder has the learner) as extra columns:
 * the label holder's view of who is missing where.
 */
export function appendColumns(x: Float32Array, n: number, d: number, columns: readonly Uint8Array[]): Float32Array {
  const width = d + columns.length;
  const out = new Float32Array(n * width);
  for (let i = 0; i < n; i++) {
    out.set(x.subarray(i * d, i * d + d), i * width);
    columns.forEach((c, k) => {
      out[i * width + d + k] = c[i] ?? 0;
    });
  }
  return out;
}
