/**
 * Reading a table (or the result of a query) from an SQLite database, e.g. a learning platform's
 * own export, into the same {@link RawTable} the CSV reader produces.
 */
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { DataError } from '../core/errors.js';
import type { RawTable } from './table.js';

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const QUERY = /^\s*(select|with)\s/i;

function cellToString(value: unknown, source: string, row: number, column: string): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  throw new DataError({ file: source, row, column }, 'binary (BLOB) values cannot be read as table cells; CAST the column or leave it out of the query');
}

/**
 * Reads every row of a table, or of a `SELECT`/`WITH` query, from an SQLite file opened read-only.
 *
 * Values become strings as a CSV would hold them: NULL → '', integers exactly (64-bit included),
 * reals in JavaScript's shortest round-trip form. The source is `sqlite:<path>#<table or query>`.
 *
 * @throws {DataError} naming the file (and table, row, column) when: the file does not exist or is
 *   not an SQLite database; the name is neither a plain identifier nor a query; the table does not
 *   exist (existing tables are listed); the query fails; result columns have duplicate names; a
 *   value is a BLOB.
 */
export function readSqlite(path: string, tableOrQuery: string): RawTable {
  const isQuery = QUERY.test(tableOrQuery);
  const what = isQuery ? tableOrQuery.trim().replace(/\s+/g, ' ') : tableOrQuery;
  const source = `sqlite:${path}#${what}`;
  if (!existsSync(path)) throw new DataError({ file: path }, 'SQLite database file not found');
  if (!isQuery && !IDENTIFIER.test(tableOrQuery)) {
    throw new DataError(
      { file: path },
      `${JSON.stringify(tableOrQuery)} is neither a table name (letters, digits and _, not starting with a digit) nor a SELECT query`,
    );
  }

  let db: Database.Database;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
  } catch (err) {
    throw new DataError({ file: path }, `cannot open as an SQLite database: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  try {
    const sqliteFailure = (err: unknown, doing: string): DataError =>
      new DataError({ file: source }, `${doing}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });

    if (!isQuery) {
      let tables: string[];
      try {
        tables = db
          .prepare<[], string>("SELECT name FROM sqlite_master WHERE type IN ('table', 'view') ORDER BY name")
          .pluck()
          .all();
      } catch (err) {
        throw new DataError({ file: path }, `not a readable SQLite database: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      }
      if (!tables.some((t) => t.toLowerCase() === tableOrQuery.toLowerCase())) {
        const list = tables.length === 0 ? 'the database has no tables' : `tables: ${tables.join(', ')}`;
        throw new DataError({ file: path }, `no table or view named "${tableOrQuery}" (${list})`);
      }
    }

    const sql = isQuery ? tableOrQuery : `SELECT * FROM "${tableOrQuery}"`;
    let statement: Database.Statement<[], unknown[]>;
    try {
      statement = db.prepare<[], unknown[]>(sql);
    } catch (err) {
      throw sqliteFailure(err, 'the query is invalid');
    }
    if (!statement.reader) throw new DataError({ file: source }, 'the statement returns no rows; give a table name or a SELECT query');
    statement.raw(true).safeIntegers(true);

    const header = statement.columns().map((c) => c.name);
    const seen = new Set<string>();
    for (const name of header) {
      if (seen.has(name)) {
        throw new DataError({ file: source, column: name }, 'two result columns have this name; rename one with AS');
      }
      seen.add(name);
    }

    let values: unknown[][];
    try {
      values = statement.all();
    } catch (err) {
      throw sqliteFailure(err, 'the query failed');
    }
    const rows = values.map((row, r) => header.map((name, c) => cellToString(row[c], source, r + 1, name)));
    return { source, header, rows };
  } finally {
    db.close();
  }
}
