/**
 * Applying a schema to raw cells: every cell is checked against its column's type, and the first
 * bad cell is reported with file, row, column and value.
 */
import { DataError, ValidationError } from '../core/errors.js';
import type { LabelColumn, Schema } from './schema.js';
import type { RawTable, Table } from './table.js';

/** Decimal numbers as written in data files: optional sign, digits, optional fraction and exponent. */
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * Parses a cell as a finite decimal number; surrounding spaces are allowed.
 * Returns `undefined` for anything else (empty, hex, `Infinity`, `NaN`, `1,5`, overflow), so callers
 * decide how to report it.
 */
export function parseNumber(cell: string): number | undefined {
  const s = cell.trim();
  if (!NUMBER.test(s)) return undefined;
  const v = Number(s);
  return Number.isFinite(v) ? v : undefined;
}

/** How label values map to class indices; shared with the encoder so both agree. */
export interface LabelMapping {
  readonly numClasses: number;
  readonly classNames: readonly string[];
  /** Raw label value → class index. */
  readonly index: ReadonlyMap<string, number>;
}

/**
 * The class mapping of a label column: with `positive`, a binary task (0 = the other classes,
 * 1 = any positive class); without, one class per entry of `classes`, in order.
 */
export function labelMapping(label: LabelColumn): LabelMapping {
  const index = new Map<string, number>();
  if (label.positive !== undefined) {
    const positive = new Set(label.positive);
    for (const c of label.classes) index.set(c, positive.has(c) ? 1 : 0);
    const negatives = label.classes.filter((c) => !positive.has(c));
    return { numClasses: 2, classNames: [negatives.join('|'), label.positive.join('|')], index };
  }
  label.classes.forEach((c, i) => index.set(c, i));
  return { numClasses: label.classes.length, classNames: [...label.classes], index };
}

/** At most this many allowed values are quoted in an error; long vocabularies are cut. */
const MAX_LISTED = 20;

function listValues(values: readonly string[]): string {
  const shown = values.slice(0, MAX_LISTED).map((v) => JSON.stringify(v));
  return values.length > MAX_LISTED ? `${shown.join(', ')}, ... (${values.length} in all)` : shown.join(', ');
}

/**
 * Validates a raw table against a schema and converts it to a column-oriented {@link Table}.
 * Columns in the file but not in the schema are ignored; 'ignore' columns need not exist.
 * The schema is assumed valid (see `parseSchema`).
 *
 * @throws {DataError} naming the file (and row, column and value where they apply) when: a schema
 *   column is missing from the header (the header is listed); a numeric cell is not a finite
 *   number; a numeric cell is empty and the column says `missing: 'error'`; a categorical value is
 *   outside its closed `categories`; an ordinal value is not among its `levels`; a label is empty
 *   or not among its `classes`.
 */
export function toTable(raw: RawTable, schema: Schema): Table {
  const file = raw.source;
  const position = new Map<string, number>();
  raw.header.forEach((name, i) => position.set(name, i));
  const missingColumns = schema.columns.filter((c) => c.type !== 'ignore' && !position.has(c.name)).map((c) => c.name);
  if (missingColumns.length > 0) {
    const first = missingColumns[0] ?? '';
    const which = missingColumns.length === 1 ? 'is missing' : `is missing (as are ${listValues(missingColumns.slice(1))})`;
    throw new DataError({ file, column: first }, `${which}; the header has ${listValues(raw.header)}`);
  }

  const n = raw.rows.length;
  const cellsOf = (name: string): ((row: number) => string) => {
    const col = position.get(name) ?? -1;
    return (row) => raw.rows[row]?.[col] ?? '';
  };
  const numeric = new Map<string, Float64Array>();
  const strings = new Map<string, readonly string[]>();
  let labels = new Int32Array(n).fill(-1);
  let numClasses = 0;
  let classNames: readonly string[] = [];

  for (const spec of schema.columns) {
    const column = spec.name;
    const cell = cellsOf(column);
    const fail = (row: number, message: string): never => {
      throw new DataError({ file, row: row + 1, column }, message);
    };
    switch (spec.type) {
      case 'ignore':
        break;
      case 'id': {
        const out: string[] = new Array<string>(n);
        for (let r = 0; r < n; r++) out[r] = cell(r);
        strings.set(column, out);
        break;
      }
      case 'numeric': {
        const out = new Float64Array(n);
        const required = spec.missing === 'error';
        for (let r = 0; r < n; r++) {
          const value = cell(r);
          if (value.trim() === '') {
            if (required) fail(r, 'empty value, but the schema says missing: "error" for this numeric column');
            out[r] = Number.NaN;
            continue;
          }
          const v = parseNumber(value);
          if (v === undefined) {
            const hint = /^[+-]?\d+,\d+$/.test(value.trim()) ? ' (a decimal comma? write "." instead)' : '';
            fail(r, `${JSON.stringify(value)} is not a number, but the column is numeric${hint}`);
          }
          out[r] = v ?? Number.NaN;
        }
        numeric.set(column, out);
        break;
      }
      case 'ordinal': {
        const levels = new Map<string, number>();
        spec.levels.forEach((level, i) => levels.set(level, i));
        const out = new Float64Array(n);
        for (let r = 0; r < n; r++) {
          const value = cell(r);
          if (value === '') {
            out[r] = Number.NaN;
            continue;
          }
          const level = levels.get(value);
          if (level === undefined) fail(r, `${JSON.stringify(value)} is not one of the ordinal levels ${listValues(spec.levels)}`);
          out[r] = level ?? Number.NaN;
        }
        numeric.set(column, out);
        break;
      }
      case 'categorical': {
        const allowed = spec.categories === undefined ? undefined : new Set(spec.categories);
        const out: string[] = new Array<string>(n);
        for (let r = 0; r < n; r++) {
          const value = cell(r);
          if (allowed !== undefined && value !== '' && !allowed.has(value)) {
            fail(r, `${JSON.stringify(value)} is not an allowed category; allowed: ${listValues(spec.categories ?? [])}`);
          }
          out[r] = value;
        }
        strings.set(column, out);
        break;
      }
      case 'label': {
        const mapping = labelMapping(spec);
        labels = new Int32Array(n);
        for (let r = 0; r < n; r++) {
          const value = cell(r);
          if (value === '') fail(r, 'empty label; every row needs a value in the label column');
          const k = mapping.index.get(value);
          if (k === undefined) fail(r, `label ${JSON.stringify(value)} is not one of the classes ${listValues(spec.classes)}`);
          labels[r] = k ?? -1;
        }
        numClasses = mapping.numClasses;
        classNames = mapping.classNames;
        break;
      }
    }
  }

  const rowNumbers = new Uint32Array(n);
  for (let r = 0; r < n; r++) rowNumbers[r] = r + 1;
  return { source: file, schema, length: n, numeric, strings, labels, numClasses, classNames, rowNumbers };
}

/**
 * The rows of a table at the given indices, in that order (repeats allowed); row numbers are kept,
 * so errors still point into the original file.
 *
 * @throws {ValidationError} if an index is not an integer in [0, t.length).
 */
export function subsetTable(t: Table, rows: ArrayLike<number>): Table {
  const m = rows.length;
  const idx = new Uint32Array(m);
  for (let i = 0; i < m; i++) {
    const r = rows[i] ?? -1;
    if (!Number.isInteger(r) || r < 0 || r >= t.length) {
      throw new ValidationError(undefined, `subsetTable(${t.source}): rows[${i}] = ${r} is not a row index in [0, ${t.length})`);
    }
    idx[i] = r;
  }
  const numeric = new Map<string, Float64Array>();
  for (const [name, col] of t.numeric) {
    const out = new Float64Array(m);
    for (let i = 0; i < m; i++) out[i] = col[idx[i] ?? 0] ?? Number.NaN;
    numeric.set(name, out);
  }
  const strings = new Map<string, readonly string[]>();
  for (const [name, col] of t.strings) {
    const out: string[] = new Array<string>(m);
    for (let i = 0; i < m; i++) out[i] = col[idx[i] ?? 0] ?? '';
    strings.set(name, out);
  }
  const labels = new Int32Array(m);
  const rowNumbers = new Uint32Array(m);
  for (let i = 0; i < m; i++) {
    const r = idx[i] ?? 0;
    labels[i] = t.labels[r] ?? -1;
    rowNumbers[i] = t.rowNumbers[r] ?? 0;
  }
  return { ...t, length: m, numeric, strings, labels, rowNumbers };
}
