/**
 * The data layer: reading tables (CSV, SQLite), schemas (validate, infer, save), typed tables,
 * federated preprocessing (statistics → encoder → dataset), splits and partitions.
 */
export type {
  CategoricalColumn,
  ColumnSpec,
  ColumnType,
  IdColumn,
  IgnoreColumn,
  LabelColumn,
  NumericColumn,
  OrdinalColumn,
  Schema,
} from './schema.js';
export type { RawTable, Table } from './table.js';
export type { Dataset } from './dataset.js';

export { parseCsv, readCsv, toCsv, type ParseCsvOptions, type ReadCsvOptions } from './csv.js';
export { readSqlite } from './sqlite.js';
export { loadSchema, parseSchema, saveSchema } from './schema-io.js';
export { inferSchema, type InferOptions } from './infer.js';
export { labelMapping, parseNumber, subsetTable, toTable, type LabelMapping } from './to-table.js';
export {
  buildEncoder,
  encode,
  localStats,
  mergeStats,
  parseEncoderSpec,
  parseLocalStats,
  type CategoricalColumnStats,
  type ColumnEncoding,
  type EncoderOptions,
  type EncoderSpec,
  type LocalStats,
  type NumericColumnStats,
  type NumericEncoding,
  type OneHotEncoding,
} from './encoder.js';
export { stratifiedSplit, type SplitIndices } from './split.js';
export { dirichletPartition, iidPartition, partitionByColumn } from './partition.js';
