/**
 * Splitting one table into simulated participants: by the value of a column (region, module), or by
 * a Dirichlet(α) draw over labels for non-IID experiments. Simulation only: in deployment each
 * platform simply holds its own table.
 */
import { ConfigError, DataError } from '../core/errors.js';
import { dirichletPartition, iidPartition } from '../data/partition.js';
import type { Schema } from '../data/schema.js';
import type { RawTable } from '../data/table.js';
import { toTable } from '../data/to-table.js';

/** How to split a table into participants. */
export type PartitionSpec =
  | { readonly kind: 'column'; readonly column: string }
  | { readonly kind: 'dirichlet'; readonly participants: number; readonly alpha: number; readonly seed: number }
  | { readonly kind: 'iid'; readonly participants: number; readonly seed: number };

/** One simulated participant's own rows. */
export interface RawPart {
  readonly id: string;
  readonly raw: RawTable;
}

function subsetRaw(raw: RawTable, rows: ArrayLike<number>, source: string): RawTable {
  const out: (readonly string[])[] = new Array<readonly string[]>(rows.length);
  for (let i = 0; i < rows.length; i++) out[i] = raw.rows[rows[i] as number] as readonly string[];
  return { source, header: raw.header, rows: out };
}

/** Splits a raw table into participants. @throws ConfigError for an unknown column or bad counts */
export function partitionRaw(raw: RawTable, schema: Schema, spec: PartitionSpec): RawPart[] {
  // Validate the whole table first, so data errors name the row of the original file, not of a part.
  const table = toTable(raw, schema);
  if (spec.kind === 'column') {
    const col = raw.header.indexOf(spec.column);
    if (col < 0) {
      throw new DataError({ file: raw.source, column: spec.column }, `partition column not found; columns are: ${raw.header.join(', ')}`);
    }
    const groups = new Map<string, number[]>();
    raw.rows.forEach((row, i) => {
      const key = row[col] ?? '';
      let g = groups.get(key);
      if (g === undefined) groups.set(key, (g = []));
      g.push(i);
    });
    return [...groups.keys()].sort().map((key) => ({
      id: key === '' ? '(missing)' : key,
      raw: subsetRaw(raw, groups.get(key) as number[], `${raw.source}[${spec.column}=${key}]`),
    }));
  }
  if (!Number.isInteger(spec.participants) || spec.participants < 1) {
    throw new ConfigError('participants', `must be a positive integer, got ${spec.participants}`);
  }
  const width = String(spec.participants - 1).length;
  const name = (i: number): string => `p${String(i).padStart(width, '0')}`;
  let parts: Uint32Array[];
  if (spec.kind === 'iid') {
    parts = iidPartition(raw.rows.length, spec.participants, spec.seed);
  } else {
    if (!(spec.alpha > 0)) throw new ConfigError('alpha', `must be positive, got ${spec.alpha}`);
    parts = dirichletPartition(table.labels, table.numClasses, spec.participants, spec.alpha, spec.seed);
  }
  return parts
    .map((rows, i) => ({ id: name(i), raw: subsetRaw(raw, rows, `${raw.source}[${name(i)}]`) }))
    .filter((p) => p.raw.rows.length > 0);
}
