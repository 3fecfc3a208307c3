/**
 * The feature schema: what each column of a participant's table means. A platform that brings its
 * own table writes (or infers with `edufed schema infer`, then edits) one of these as JSON.
 */

/** An identifier column (learner id, enrolment key). Never a feature. */
export interface IdColumn {
  readonly name: string;
  readonly type: 'id';
}

/** A real-valued column. Missing values are the empty cell; they are imputed with the federated mean and flagged. */
export interface NumericColumn {
  readonly name: string;
  readonly type: 'numeric';
  /** 'allow' (default): empty cells are missing values; 'error': an empty cell is a data error. */
  readonly missing?: 'allow' | 'error';
  /**
   * 'standard' (default): standardised with the federation's mean and standard deviation;
   * 'none': used as it is (for features already on a common scale); missing values then become 0.
   */
  readonly scale?: 'standard' | 'none';
}

/** A nominal column, one-hot encoded from the federation's agreed vocabulary. */
export interface CategoricalColumn {
  readonly name: string;
  readonly type: 'categorical';
  /** If given, the closed set of allowed values; any other value is a data error naming file, row and column. */
  readonly categories?: readonly string[];
}

/** An ordered column: each value maps to its index in `levels`, then is standardised. */
export interface OrdinalColumn {
  readonly name: string;
  readonly type: 'ordinal';
  readonly levels: readonly string[];
}

/** The target. `classes` lists the raw values; `positive`, if given, makes the task binary (1 = any positive class). */
export interface LabelColumn {
  readonly name: string;
  readonly type: 'label';
  readonly classes: readonly string[];
  readonly positive?: readonly string[];
}

/** A column present in the file but not used. */
export interface IgnoreColumn {
  readonly name: string;
  readonly type: 'ignore';
}

export type ColumnSpec = IdColumn | NumericColumn | CategoricalColumn | OrdinalColumn | LabelColumn | IgnoreColumn;
export type ColumnType = ColumnSpec['type'];

/** A table schema. At most one label column. */
export interface Schema {
  readonly version: 1;
  readonly name?: string;
  readonly columns: readonly ColumnSpec[];
}
