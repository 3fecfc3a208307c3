/**
 * Tables: what readers produce ({@link RawTable}, untyped cells) and what the rest of EduFed
 * consumes ({@link Table}, validated against a {@link Schema}, column-oriented).
 */
import type { Schema } from './schema.js';

/** Cells as read from a source, before any schema is applied. Missing cells are ''. */
export interface RawTable {
  /** File path or `sqlite:path#table`, used in error messages. */
  readonly source: string;
  readonly header: readonly string[];
  readonly rows: readonly (readonly string[])[];
}

/** A validated, typed, column-oriented table. Row numbers in errors refer to `rowNumbers`. */
export interface Table {
  readonly source: string;
  readonly schema: Schema;
  readonly length: number;
  /** Numeric columns (NaN = missing) and ordinal columns (level index, NaN = missing). */
  readonly numeric: ReadonlyMap<string, Float64Array>;
  /** Id and categorical columns ('' = missing). */
  readonly strings: ReadonlyMap<string, readonly string[]>;
  /** Class index per row: 0/1 for binary (positive set), else index in the label's `classes`; -1 if no label column. */
  readonly labels: Int32Array;
  /** Number of label classes (2 for binary tasks), 0 without a label column. */
  readonly numClasses: number;
  /** Names of the classes, index-aligned with `labels` values. */
  readonly classNames: readonly string[];
  /** Original 1-based row number in the source of each row, for error messages after subsetting. */
  readonly rowNumbers: Uint32Array;
}
