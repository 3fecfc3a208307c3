/**
 * Reading, validating and writing schema files (JSON). A schema arrives as `unknown` and leaves as
 * a {@link Schema} only after every field has been checked, so later stages can trust it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { SchemaError } from '../core/errors.js';
import type { ColumnSpec, ColumnType, Schema } from './schema.js';

const COLUMN_TYPES: readonly ColumnType[] = ['id', 'numeric', 'categorical', 'ordinal', 'label', 'ignore'];

/** Keys each column type accepts; anything else is most likely a typo and is rejected. */
const ALLOWED_KEYS: Readonly<Record<ColumnType, readonly string[]>> = {
  id: ['name', 'type'],
  numeric: ['name', 'type', 'missing', 'scale'],
  categorical: ['name', 'type', 'categories'],
  ordinal: ['name', 'type', 'levels'],
  label: ['name', 'type', 'classes', 'positive'],
  ignore: ['name', 'type'],
};

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

/**
 * Validates a parsed JSON value as a {@link Schema}.
 *
 * @param json the parsed JSON (untrusted).
 * @param source file name or other origin, quoted in errors.
 * @throws {SchemaError} naming the source, the column index and name, and what is wrong: not an
 *   object, wrong version, no columns, a column without a name, an unknown type or key, a
 *   duplicate column, more than one label column, an ordinal without levels, a label with fewer
 *   than two classes, a positive class not among the classes, duplicate values in a list.
 */
export function parseSchema(json: unknown, source: string): Schema {
  const fail = (message: string, column?: string): never => {
    throw new SchemaError(column === undefined ? { file: source } : { file: source, column }, message);
  };
  if (!isRecord(json)) return fail(`a schema must be a JSON object, got ${describe(json)}`);
  for (const key of Object.keys(json)) {
    if (key !== 'version' && key !== 'name' && key !== 'columns') {
      fail(`unknown top-level key ${JSON.stringify(key)} (allowed: version, name, columns)`);
    }
  }
  if (json['version'] !== 1) fail(`"version" must be 1, got ${describe(json['version'])}`);
  const name = json['name'];
  if (name !== undefined && typeof name !== 'string') fail(`"name" must be a string, got ${describe(name)}`);
  const rawColumns = json['columns'];
  if (!Array.isArray(rawColumns)) return fail(`"columns" must be an array, got ${describe(rawColumns)}`);
  if (rawColumns.length === 0) fail('"columns" is empty; list at least one column');

  const columns: ColumnSpec[] = [];
  const seen = new Map<string, number>();
  let labelAt: number | undefined;
  rawColumns.forEach((raw: unknown, index) => {
    const at = `columns[${index}]`;
    if (!isRecord(raw)) return fail(`${at} must be an object, got ${describe(raw)}`);
    const colName = raw['name'];
    if (typeof colName !== 'string' || colName.trim() === '') {
      return fail(`${at} needs a non-empty string "name", got ${describe(colName)}`);
    }
    const bad = (message: string): never => fail(`${at}: ${message}`, colName);
    const type = raw['type'];
    const known = COLUMN_TYPES.find((t) => t === type);
    if (known === undefined) {
      return bad(`unknown type ${describe(type)}; expected one of ${COLUMN_TYPES.join(', ')}`);
    }
    for (const key of Object.keys(raw)) {
      if (!ALLOWED_KEYS[known].includes(key)) {
        bad(`unknown key ${JSON.stringify(key)} for type "${known}" (allowed: ${ALLOWED_KEYS[known].join(', ')})`);
      }
    }
    const first = seen.get(colName);
    if (first !== undefined) bad(`duplicate column; "${colName}" is already columns[${first}]`);
    seen.set(colName, index);

    const stringList = (key: string, minLength: number): string[] => {
      const list = raw[key];
      if (!Array.isArray(list)) return bad(`"${key}" must be an array of strings, got ${describe(list)}`);
      const out: string[] = [];
      const dup = new Set<string>();
      list.forEach((item: unknown, i) => {
        if (typeof item !== 'string') bad(`"${key}"[${i}] must be a string, got ${describe(item)}`);
        const s = String(item);
        if (dup.has(s)) bad(`"${key}" lists ${JSON.stringify(s)} twice`);
        dup.add(s);
        out.push(s);
      });
      if (out.length < minLength) bad(`"${key}" needs at least ${minLength} value${minLength === 1 ? '' : 's'}, got ${out.length}`);
      return out;
    };

    switch (known) {
      case 'id':
      case 'ignore':
        columns.push({ name: colName, type: known });
        break;
      case 'numeric': {
        const missing = raw['missing'];
        const scale = raw['scale'];
        if (missing !== undefined && missing !== 'allow' && missing !== 'error') {
          bad(`"missing" must be "allow" or "error", got ${describe(missing)}`);
        } else if (scale !== undefined && scale !== 'standard' && scale !== 'none') {
          bad(`"scale" must be "standard" or "none", got ${describe(scale)}`);
        } else {
          columns.push({
            name: colName,
            type: 'numeric',
            ...(missing !== undefined ? { missing } : {}),
            ...(scale !== undefined ? { scale } : {}),
          });
        }
        break;
      }
      case 'categorical':
        if (raw['categories'] === undefined) {
          columns.push({ name: colName, type: 'categorical' });
        } else {
          columns.push({ name: colName, type: 'categorical', categories: stringList('categories', 1) });
        }
        break;
      case 'ordinal':
        if (raw['levels'] === undefined) bad('an ordinal column needs "levels", its values from lowest to highest');
        columns.push({ name: colName, type: 'ordinal', levels: stringList('levels', 2) });
        break;
      case 'label': {
        if (labelAt !== undefined) {
          bad(`a second label column; columns[${labelAt}] is already the label (a schema has at most one)`);
        }
        labelAt = index;
        if (raw['classes'] === undefined) bad('a label column needs "classes", the values the label takes');
        const classes = stringList('classes', 2);
        if (raw['positive'] === undefined) {
          columns.push({ name: colName, type: 'label', classes });
        } else {
          const positive = stringList('positive', 1);
          for (const p of positive) {
            if (!classes.includes(p)) bad(`positive class ${JSON.stringify(p)} is not in "classes" (${classes.join(', ')})`);
          }
          if (positive.length === classes.length) {
            bad('"positive" lists every class, so no example could be negative');
          }
          columns.push({ name: colName, type: 'label', classes, positive });
        }
        break;
      }
    }
    return undefined;
  });
  return typeof name === 'string' ? { version: 1, name, columns } : { version: 1, columns };
}

/**
 * Reads and validates a schema JSON file.
 *
 * @throws {SchemaError} if the file is missing or unreadable, is not JSON (with the parser's
 *   position), or fails {@link parseSchema}.
 */
export function loadSchema(path: string): Schema {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = err instanceof Error && 'code' in err ? String(err.code) : '';
    throw new SchemaError({ file: path }, code === 'ENOENT' ? 'schema file not found' : 'cannot read schema file', {
      cause: err,
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new SchemaError({ file: path }, `not valid JSON: ${why}`, { cause: err });
  }
  return parseSchema(json, path);
}

/**
 * Validates a schema and writes it as pretty-printed JSON (two-space indent, final newline).
 *
 * @throws {SchemaError} if the schema is invalid (nothing is written) or the file cannot be written.
 */
export function saveSchema(path: string, schema: Schema): void {
  const checked = parseSchema(schema, path);
  try {
    writeFileSync(path, `${JSON.stringify(checked, null, 2)}\n`, 'utf8');
  } catch (err) {
    throw new SchemaError({ file: path }, 'cannot write schema file', { cause: err });
  }
}
