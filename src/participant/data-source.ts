/**
 * Where a participant's rows come from: a CSV file, a SQLite table or query, or an embedded public
 * dataset, each with the schema that types it. The data never leaves the participant.
 */
import { ConfigError } from '../core/errors.js';
import { readCsv } from '../data/csv.js';
import { buildOulad, type OuladOptions } from '../data/datasets/oulad.js';
import type { Schema } from '../data/schema.js';
import { loadSchema } from '../data/schema-io.js';
import { readSqlite } from '../data/sqlite.js';
import type { RawTable } from '../data/table.js';

/** A data source, as written in a participant's configuration or given by CLI flags. */
export type DataSourceConfig =
  | { readonly kind: 'csv'; readonly path: string; readonly schema: string; readonly delimiter?: string }
  | { readonly kind: 'sqlite'; readonly path: string; readonly table: string; readonly schema: string }
  | ({ readonly kind: 'oulad' } & OuladOptions);

/** Optional row filter: keep only rows whose `column` equals `value` (e.g. one region's rows). */
export interface RowFilter {
  readonly column: string;
  readonly value: string;
}

/** Loads a data source's rows and schema. @throws DataError / SchemaError naming the file */
export function loadDataSource(source: DataSourceConfig, filter?: RowFilter): { raw: RawTable; schema: Schema } {
  let raw: RawTable;
  let schema: Schema;
  switch (source.kind) {
    case 'csv':
      raw = source.delimiter !== undefined ? readCsv(source.path, { delimiter: source.delimiter }) : readCsv(source.path);
      schema = loadSchema(source.schema);
      break;
    case 'sqlite':
      raw = readSqlite(source.path, source.table);
      schema = loadSchema(source.schema);
      break;
    case 'oulad': {
      const built = buildOulad(source);
      raw = built.raw;
      schema = built.schema;
      break;
    }
  }
  if (filter === undefined) return { raw, schema };
  const col = raw.header.indexOf(filter.column);
  if (col < 0) throw new ConfigError('filter.column', `"${filter.column}" is not a column of ${raw.source}`);
  const rows = raw.rows.filter((r) => r[col] === filter.value);
  if (rows.length === 0) throw new ConfigError('filter.value', `no rows of ${raw.source} have ${filter.column} = "${filter.value}"`);
  return { raw: { source: `${raw.source}[${filter.column}=${filter.value}]`, header: raw.header, rows }, schema };
}
