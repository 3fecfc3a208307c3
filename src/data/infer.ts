/**
 * A first guess at a table's schema, for the user to review and edit (`edufed schema infer`).
 */
import { ConfigError, DataError } from '../core/errors.js';
import type { ColumnSpec, Schema } from './schema.js';
import type { RawTable } from './table.js';
import { parseNumber } from './to-table.js';

/** Options of {@link inferSchema}. */
export interface InferOptions {
  /** Name of the label column; its distinct values become the classes. */
  readonly label?: string;
  /** A text column with at most this many distinct values is categorical; default 50. */
  readonly maxCategories?: number;
}

/** Names such as `id`, `id_student`, `learner_id`. */
const ID_NAME = /(^id$|_id$|^id_)/i;

/** Sorts numerically when every value is a number (so "10" follows "9"), else by code unit. */
function sortValues(values: Iterable<string>): string[] {
  const list = [...values];
  if (list.every((v) => parseNumber(v) !== undefined)) {
    return list.sort((a, b) => (parseNumber(a) ?? 0) - (parseNumber(b) ?? 0) || (a < b ? -1 : a > b ? 1 : 0));
  }
  return list.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Guesses a schema from a raw table.
 *
 * Per column: the label (if named) lists its distinct values as classes. A column whose every
 * non-empty cell is a finite number is numeric, except when its name looks like an id
 * (`id`, `*_id`, `id_*`) and it holds only integers: then it is 'id' if it has more than
 * `maxCategories` distinct values, else categorical (a small set of codes, such as a school id,
 * names groups, not quantities). A text column with at most `maxCategories` distinct values is
 * categorical with its sorted `categories`; with more it is 'id' if its name looks like one, else
 * 'ignore' (free text). A column with no values at all is 'ignore'.
 *
 * @throws {DataError} if the label column is not in the header, or has fewer than two distinct values.
 * @throws {ConfigError} if `maxCategories` is not a positive integer.
 */
export function inferSchema(raw: RawTable, options: InferOptions = {}): Schema {
  const maxCategories = options.maxCategories ?? 50;
  if (!Number.isInteger(maxCategories) || maxCategories < 1) {
    throw new ConfigError('maxCategories', `must be a positive integer, got ${maxCategories}`);
  }
  const label = options.label;
  if (label !== undefined && !raw.header.includes(label)) {
    throw new DataError(
      { file: raw.source, column: label },
      `label column not found; the header has ${raw.header.map((h) => JSON.stringify(h)).join(', ')}`,
    );
  }

  const columns: ColumnSpec[] = raw.header.map((name, col): ColumnSpec => {
    const distinct = new Set<string>();
    let numeric = true;
    let integers = true;
    for (const row of raw.rows) {
      const cell = row[col] ?? '';
      if (cell === '') continue;
      distinct.add(cell);
      if (numeric) {
        const v = parseNumber(cell);
        if (v === undefined) numeric = false;
        else if (!Number.isInteger(v)) integers = false;
      }
    }
    if (name === label) {
      if (distinct.size < 2) {
        throw new DataError(
          { file: raw.source, column: name },
          `the label column has ${distinct.size} distinct value${distinct.size === 1 ? '' : 's'}; a label needs at least two classes`,
        );
      }
      return { name, type: 'label', classes: sortValues(distinct) };
    }
    if (distinct.size === 0) return { name, type: 'ignore' };
    const looksLikeId = ID_NAME.test(name);
    if (numeric) {
      if (!(looksLikeId && integers)) return { name, type: 'numeric' };
      return distinct.size > maxCategories ? { name, type: 'id' } : { name, type: 'categorical', categories: sortValues(distinct) };
    }
    if (distinct.size <= maxCategories) return { name, type: 'categorical', categories: sortValues(distinct) };
    return { name, type: looksLikeId ? 'id' : 'ignore' };
  });
  return { version: 1, columns };
}
