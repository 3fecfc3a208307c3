/**
 * Where a platform's identifiers come from: random access by row and ID column, so PSI can walk
 * the rows in any order (the feature holder walks them in a random one) without copying them.
 * Column names are the *logical* names of the PSI parameters; each platform maps them to its own
 * columns when it builds its source.
 */
import { ConfigError, SchemaError } from '../../../core/errors.js';
import type { RawTable, Table } from '../../../data/table.js';

/** A platform's ID columns. */
export interface IdSource {
  /** Number of rows; row indices are 0 … rows − 1 (the indices PSI results refer to). */
  readonly rows: number;
  /** Logical column names, in the order `value` indexes them. */
  readonly columns: readonly string[];
  /** The raw identifier of `row` in column `column`; null, undefined or '' when the row has none. */
  value(row: number, column: number): string | null | undefined;
}

/** Logical name → this platform's column name, or a list when the names are the same. */
export type ColumnMapping = readonly string[] | Readonly<Record<string, string>>;

function mappingEntries(mapping: ColumnMapping): [string, string][] {
  return Array.isArray(mapping) ? mapping.map((c: string) => [c, c]) : Object.entries(mapping);
}

/**
 * An ID source over in-memory columns of equal length.
 * @throws ConfigError when there is no column or the columns' lengths differ.
 */
export function idSourceFromColumns(columns: Readonly<Record<string, readonly (string | null | undefined)[]>>): IdSource {
  const names = Object.keys(columns);
  const data = names.map((n) => columns[n] as readonly (string | null | undefined)[]);
  const rows = data[0]?.length ?? 0;
  if (names.length === 0) throw new ConfigError('columns', 'at least one ID column is needed');
  data.forEach((d, i) => {
    if (d.length !== rows) throw new ConfigError(`columns.${names[i] ?? ''}`, `has ${d.length} rows, the first column has ${rows}`);
  });
  return { rows, columns: names, value: (row, column) => data[column]?.[row] };
}

/**
 * An ID source over a schema-validated table's id or categorical columns.
 * @throws SchemaError naming the table and the column when a mapped column is not a string column.
 */
export function idSourceFromTable(table: Table, mapping: ColumnMapping): IdSource {
  const entries = mappingEntries(mapping);
  const data = entries.map(([, local]) => {
    const col = table.strings.get(local);
    if (col === undefined) throw new SchemaError({ file: table.source, column: local }, 'is not an id or categorical column of this table');
    return col;
  });
  return { rows: table.length, columns: entries.map(([logical]) => logical), value: (row, column) => data[column]?.[row] };
}

/**
 * An ID source over raw (unvalidated) cells, e.g. a CSV read for PSI only.
 * @throws SchemaError naming the source and the column when a mapped column is missing.
 */
export function idSourceFromRawTable(raw: RawTable, mapping: ColumnMapping): IdSource {
  const entries = mappingEntries(mapping);
  const indices = entries.map(([, local]) => {
    const i = raw.header.indexOf(local);
    if (i < 0) throw new SchemaError({ file: raw.source, column: local }, 'no such column');
    return i;
  });
  return { rows: raw.rows.length, columns: entries.map(([logical]) => logical), value: (row, column) => raw.rows[row]?.[indices[column] ?? -1] };
}

/** The index of logical column `name`. @throws ConfigError when the source lacks it. */
export function idColumnIndex(source: IdSource, name: string): number {
  const i = source.columns.indexOf(name);
  if (i < 0) throw new ConfigError('columns', `the ID source has no column "${name}" (it has ${source.columns.join(', ')})`);
  return i;
}
