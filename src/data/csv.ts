/**
 * CSV reading and writing (RFC 4180), with error messages that point at the file, row, line and
 * column of the problem.
 *
 * Accepted beyond the strict RFC: LF or lone-CR line ends as well as CRLF, a missing final newline,
 * a UTF-8 byte-order mark, any single-character delimiter, and blank lines, which are skipped
 * (so a lone empty value in a one-column file must be written `""`, as {@link toCsv} does).
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { ConfigError, DataError } from '../core/errors.js';
import type { RawTable } from './table.js';

/** Options of {@link parseCsv}. */
export interface ParseCsvOptions {
  /** Name of the data's origin (usually the file path), quoted in every error. */
  readonly source: string;
  /** Field separator, a single character; default ','. */
  readonly delimiter?: string;
}

/** Options of {@link readCsv}. */
export interface ReadCsvOptions {
  /** Field separator, a single character; default ','. */
  readonly delimiter?: string;
}

const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;
const BOM = 0xfeff;

/** Delimiters we recognise when a header comes out as a single field (likely the wrong one). */
const LIKELY_DELIMITERS = [',', ';', '\t', '|'] as const;

function showDelimiter(d: string): string {
  return d === '\t' ? "'\\t'" : `'${d}'`;
}

function delimiterCode(delimiter: string): number {
  if (delimiter.length !== 1 || delimiter === '"' || delimiter === '\n' || delimiter === '\r') {
    throw new ConfigError(
      'delimiter',
      `must be a single character other than a quote or line break, got ${JSON.stringify(delimiter)}`,
    );
  }
  return delimiter.charCodeAt(0);
}

/**
 * Parses CSV text into a {@link RawTable}; the first record is the header.
 *
 * Implements RFC 4180: quoted fields, `""` inside quotes, delimiters and line breaks inside quotes.
 * Row numbers in errors count data records from 1 (the header is row 0); line numbers count
 * physical lines from 1.
 *
 * @throws {ConfigError} if the delimiter is not a single usable character.
 * @throws {DataError} naming source, row and column for: an empty input (no header), empty or
 *   duplicate header names, a single-field header that looks like another delimiter, a record
 *   whose field count differs from the header's, an unterminated quote (at the row where it
 *   started), a quote inside an unquoted value, or text after a closing quote.
 */
export function parseCsv(text: string, options: ParseCsvOptions): RawTable {
  const source = options.source;
  const delimiter = options.delimiter ?? ',';
  const delim = delimiterCode(delimiter);
  const len = text.length;
  let pos = len > 0 && text.charCodeAt(0) === BOM ? 1 : 0;
  let line = 1;
  let header: string[] | undefined;
  const rows: string[][] = [];
  let fields: string[] = [];
  let recordLine = 1;
  let atRecordStart = true;

  const rowNumber = (): number => (header === undefined ? 0 : rows.length + 1);
  const columnName = (index: number): string =>
    header?.[index] ?? (header === undefined ? `#${index + 1}` : `#${index + 1} (beyond the header)`);

  const endRecord = (): void => {
    if (header === undefined) {
      header = checkHeader(fields, source, delimiter);
    } else if (fields.length !== header.length) {
      const hint =
        fields.length > header.length
          ? `; is there an unquoted ${showDelimiter(delimiter)} inside a value?`
          : '';
      throw new DataError(
        { file: source, row: rows.length + 1 },
        `has ${fields.length} field${fields.length === 1 ? '' : 's'}, header has ${header.length} (line ${recordLine})${hint}`,
      );
    } else {
      rows.push(fields);
    }
    fields = [];
  };

  while (pos < len) {
    let c = text.charCodeAt(pos);
    if (atRecordStart) {
      if (c === LF || c === CR) {
        // Blank line: skipped rather than read as a record of one empty field.
        pos += c === CR && pos + 1 < len && text.charCodeAt(pos + 1) === LF ? 2 : 1;
        line++;
        continue;
      }
      atRecordStart = false;
      recordLine = line;
    }

    let value: string;
    if (c === QUOTE) {
      const startLine = line;
      pos++;
      let chunkStart = pos;
      let acc = '';
      for (;;) {
        if (pos >= len) {
          throw new DataError(
            { file: source, row: rowNumber(), column: columnName(fields.length) },
            `unterminated quoted value starting on line ${startLine}; every opening '"' needs a closing '"' (write "" for a quote inside a value)`,
          );
        }
        const d = text.charCodeAt(pos);
        if (d === QUOTE) {
          if (pos + 1 < len && text.charCodeAt(pos + 1) === QUOTE) {
            acc += text.slice(chunkStart, pos + 1);
            pos += 2;
            chunkStart = pos;
            continue;
          }
          value = acc + text.slice(chunkStart, pos);
          pos++;
          break;
        }
        if (d === LF || (d === CR && (pos + 1 >= len || text.charCodeAt(pos + 1) !== LF))) line++;
        pos++;
      }
      if (pos < len) {
        c = text.charCodeAt(pos);
        if (c !== delim && c !== LF && c !== CR) {
          throw new DataError(
            { file: source, row: rowNumber(), column: columnName(fields.length) },
            `unexpected ${JSON.stringify(text[pos])} after the closing quote (line ${line}); a quoted value must end at a ${showDelimiter(delimiter)} or line end`,
          );
        }
      }
    } else {
      const start = pos;
      while (pos < len) {
        const d = text.charCodeAt(pos);
        if (d === delim || d === LF || d === CR) break;
        if (d === QUOTE) {
          throw new DataError(
            { file: source, row: rowNumber(), column: columnName(fields.length) },
            `'"' inside an unquoted value (line ${line}); wrap the value in quotes and double the inner quote ("")`,
          );
        }
        pos++;
      }
      value = text.slice(start, pos);
    }
    fields.push(value);

    if (pos >= len) break;
    c = text.charCodeAt(pos);
    if (c === delim) {
      pos++;
      if (pos >= len) fields.push('');
      continue;
    }
    pos += c === CR && pos + 1 < len && text.charCodeAt(pos + 1) === LF ? 2 : 1;
    line++;
    endRecord();
    atRecordStart = true;
  }
  if (!atRecordStart) endRecord();

  if (header === undefined) {
    throw new DataError({ file: source }, 'empty file: expected a header row naming the columns');
  }
  return { source, header, rows };
}

function checkHeader(names: string[], source: string, delimiter: string): string[] {
  if (names.length === 1) {
    const only = names[0] ?? '';
    let best: string | undefined;
    let bestCount = 0;
    for (const candidate of LIKELY_DELIMITERS) {
      if (candidate === delimiter) continue;
      const count = only.split(candidate).length - 1;
      if (count > bestCount) {
        best = candidate;
        bestCount = count;
      }
    }
    if (best !== undefined) {
      const shown = showDelimiter(best);
      throw new DataError(
        { file: source, row: 0 },
        `the header is a single column ${JSON.stringify(only)}; looks like ${shown}-delimited; pass --delimiter ${shown}`,
      );
    }
  }
  const seen = new Map<string, number>();
  for (let i = 0; i < names.length; i++) {
    const name = names[i] ?? '';
    if (name.trim() === '') {
      throw new DataError({ file: source, row: 0 }, `header column ${i + 1} has an empty name; every column needs a name`);
    }
    const first = seen.get(name);
    if (first !== undefined) {
      throw new DataError(
        { file: source, row: 0, column: name },
        `duplicate column name (header columns ${first + 1} and ${i + 1})`,
      );
    }
    seen.set(name, i);
  }
  return names;
}

/**
 * Reads a CSV file (gunzipping it first if the path ends in `.gz`) and parses it with {@link parseCsv}.
 *
 * @throws {DataError} if the file cannot be read, is not valid gzip or UTF-8, or is malformed CSV.
 * @throws {ConfigError} if the delimiter is not a single usable character.
 */
export function readCsv(path: string, options: ReadCsvOptions = {}): RawTable {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    const code = err instanceof Error && 'code' in err ? String(err.code) : '';
    const why = code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'is a directory, not a file' : 'cannot read file';
    throw new DataError({ file: path }, why, { cause: err });
  }
  if (path.toLowerCase().endsWith('.gz')) {
    try {
      bytes = gunzipSync(bytes);
    } catch (err) {
      throw new DataError({ file: path }, 'the name ends in .gz but the content is not valid gzip', { cause: err });
    }
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (err) {
    throw new DataError(
      { file: path },
      'not valid UTF-8 text; convert it first (e.g. iconv -f latin1 -t utf-8)',
      { cause: err },
    );
  }
  const parseOptions: ParseCsvOptions =
    options.delimiter === undefined ? { source: path } : { source: path, delimiter: options.delimiter };
  return parseCsv(text, parseOptions);
}

function quoteIfNeeded(value: string, delim: string, alone: boolean): string {
  if (alone && value === '') return '""';
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    if (ch === '"' || ch === '\n' || ch === '\r' || ch === delim) {
      return `"${value.replaceAll('"', '""')}"`;
    }
  }
  return value;
}

/**
 * Writes a {@link RawTable} as RFC 4180 CSV (CRLF line ends, final newline), quoting only the
 * values that need it; `parseCsv(toCsv(t))` gives back `t`'s header and rows.
 *
 * @throws {ConfigError} if the delimiter is not a single usable character.
 */
export function toCsv(table: RawTable, options: ReadCsvOptions = {}): string {
  const delimiter = options.delimiter ?? ',';
  delimiterCode(delimiter);
  const out: string[] = [];
  const line = (cells: readonly string[]): string =>
    cells.map((v) => quoteIfNeeded(v, delimiter, cells.length === 1)).join(delimiter);
  out.push(line(table.header));
  for (const row of table.rows) out.push(line(row));
  return out.join('\r\n') + '\r\n';
}
