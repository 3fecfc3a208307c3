/**
 * The OULAD learner-outcome tasks: one row per module enrolment (32,593), built at run time from
 * the embedded original tables in `data/oulad/` and typed by a {@link Schema}, so it goes through
 * the same `toTable(raw, schema)` path as any platform's own CSV.
 *
 * Data: Kuzilek, J., Hlosta, M., Zdrahal, Z. (2017). Open University Learning Analytics dataset.
 * Scientific Data 4, 170171. doi:10.1038/sdata.2017.171. Licence CC BY 4.0.
 */
import { join } from 'node:path';
import { ConfigError } from '../../core/errors.js';
import { projectRoot } from '../../core/paths.js';
import { readCsv } from '../csv.js';
import type { ColumnSpec, LabelColumn, Schema } from '../schema.js';
import type { RawTable } from '../table.js';
import {
  earlyWarningColumns,
  idColumns,
  indexEnrolments,
  learnerColumns,
  outcomeAssessmentColumns,
  resultCells,
  vleColumns,
} from './oulad-features.js';
import type { FeatureColumn } from './oulad-features.js';

/**
 * `early-warning`: predict the result from what is known on a cutoff day (registration data and
 * assessments due and submitted by then). `outcome`: explain the result from the whole
 * presentation (all assessments, exam included, and VLE clicks); retrospective, not predictive.
 */
export type OuladTask = 'early-warning' | 'outcome';

/**
 * `pass`: Pass or Distinction vs Fail or Withdrawn (binary). `dropout`: Withdrawn vs the rest
 * (binary). `result`: the four classes Distinction, Fail, Pass, Withdrawn.
 */
export type OuladLabel = 'pass' | 'dropout' | 'result';

/** Options of {@link buildOulad}. */
export interface OuladOptions {
  readonly task: OuladTask;
  /** Default 'pass'. */
  readonly label?: OuladLabel;
  /** Early-warning only: days from the presentation's start; default 60. */
  readonly cutoffDay?: number;
  /** Folder holding the gzipped OULAD files; default `<project root>/data/oulad`. */
  readonly dataDir?: string;
}

/** A built OULAD task: string cells as if read from a CSV, the schema that types them, and a one-line summary. */
export interface OuladData {
  readonly raw: RawTable;
  readonly schema: Schema;
  readonly description: string;
}

/**
 * Columns to partition OULAD by (for `partitionByColumn`): `region` gives 13 participants
 * (1,184 to 3,446 enrolments each), `module` gives 7 (748 to 7,909 enrolments each).
 */
export const OULAD_PARTITIONS = { region: 'region', module: 'code_module' } as const;

/** The values of `final_result`, the label column. */
export const OULAD_CLASSES: readonly string[] = ['Distinction', 'Fail', 'Pass', 'Withdrawn'];

/** Default early-warning cutoff: day 60, about a quarter into a presentation (234 to 269 days). */
export const OULAD_DEFAULT_CUTOFF_DAY = 60;

const FILES = {
  info: 'studentInfo.csv.gz',
  registration: 'studentRegistration.csv.gz',
  submissions: 'studentAssessment.csv.gz',
  assessments: 'assessments.csv.gz',
  courses: 'courses.csv.gz',
  clicks: 'vle_clicks_by_category_per_enrollment.csv.gz',
} as const;

const TASKS: readonly OuladTask[] = ['early-warning', 'outcome'];
const LABELS: readonly OuladLabel[] = ['pass', 'dropout', 'result'];

// Thirteen participants in one process each build the task: parse each file once, and build
// each variant once (the result is read-only, so sharing it is safe).
const parsedFiles = new Map<string, RawTable>();
const builtTables = new Map<string, TaskTable>();
const builtTasks = new Map<string, OuladData>();

function readCached(path: string): RawTable {
  let table = parsedFiles.get(path);
  if (table === undefined) {
    table = readCsv(path);
    parsedFiles.set(path, table);
  }
  return table;
}

const LABEL_NAME = 'final_result';

function labelColumn(label: OuladLabel): LabelColumn {
  const base = { name: LABEL_NAME, type: 'label', classes: OULAD_CLASSES } as const;
  switch (label) {
    case 'pass':
      return { ...base, positive: ['Distinction', 'Pass'] };
    case 'dropout':
      return { ...base, positive: ['Withdrawn'] };
    case 'result':
      return base;
  }
}

const LABEL_TEXT: Readonly<Record<OuladLabel, string>> = {
  pass: 'pass (Pass or Distinction vs Fail or Withdrawn)',
  dropout: 'dropout (Withdrawn vs the rest)',
  result: 'result (Distinction, Fail, Pass, Withdrawn)',
};

function checkOptions(options: OuladOptions): { task: OuladTask; label: OuladLabel; cutoffDay: number } {
  if (!TASKS.includes(options.task)) {
    throw new ConfigError('task', `expected one of ${TASKS.join(', ')}, got ${JSON.stringify(options.task)}`);
  }
  const label = options.label ?? 'pass';
  if (!LABELS.includes(label)) {
    throw new ConfigError('label', `expected one of ${LABELS.join(', ')}, got ${JSON.stringify(label)}`);
  }
  if (options.cutoffDay !== undefined) {
    if (options.task !== 'early-warning') {
      throw new ConfigError('cutoffDay', `applies to the early-warning task only, not to ${options.task}`);
    }
    if (!Number.isFinite(options.cutoffDay)) {
      throw new ConfigError('cutoffDay', `must be a finite number of days, got ${String(options.cutoffDay)}`);
    }
  }
  return { task: options.task, label, cutoffDay: options.cutoffDay ?? OULAD_DEFAULT_CUTOFF_DAY };
}

/**
 * Builds an OULAD task table: one row per enrolment, in `studentInfo.csv` order.
 *
 * Columns: ids `enrolment_id`, `id_student`, `code_presentation`; the registration-time learner
 * columns (see `learnerColumns`); the task's assessment columns (`earlyWarningColumns` or
 * `outcomeAssessmentColumns`, plus `vleColumns` for the outcome task); the label `final_result`.
 * `data/oulad/README.md` lists every column with its leak reasoning.
 *
 * Parsed files and built tasks are cached in-process, so repeated calls (one per simulated
 * participant) cost nothing after the first; the returned object is shared and read-only.
 *
 * @throws {ConfigError} for an unknown task or label, a non-finite cutoff, or a cutoff given to the outcome task.
 * @throws {DataError} naming file, row and column if an OULAD file is missing or malformed.
 */
export function buildOulad(options: OuladOptions): OuladData {
  const { task, label, cutoffDay } = checkOptions(options);
  const dir = options.dataDir ?? join(projectRoot(), 'data', 'oulad');
  const tableKey = [dir, task, task === 'early-warning' ? cutoffDay : ''].join('\u0000');
  const key = `${tableKey}\u0000${label}`;
  const cached = builtTasks.get(key);
  if (cached !== undefined) return cached;

  let table = builtTables.get(tableKey);
  if (table === undefined) {
    table = buildTable(dir, task, cutoffDay);
    builtTables.set(tableKey, table);
  }
  const what =
    task === 'early-warning'
      ? `early-warning at day ${cutoffDay} (registration data and assessments due and submitted by then)`
      : 'outcome (whole presentation: all assessments and VLE clicks; retrospective)';
  const name = task === 'early-warning' ? `oulad-early-warning-day${cutoffDay}-${label}` : `oulad-outcome-${label}`;
  const n = table.raw.rows.length;
  const built: OuladData = {
    raw: table.raw,
    schema: { version: 1, name, columns: [...table.features, labelColumn(label)] },
    description: `OULAD ${what}, label ${LABEL_TEXT[label]}: ${n.toLocaleString('en-GB')} enrolments. ${ouladAttribution()}`,
  };
  builtTasks.set(key, built);
  return built;
}

/** The cells of a task and the specs of every column but the label, which alone depends on the label option. */
interface TaskTable {
  readonly raw: RawTable;
  readonly features: readonly ColumnSpec[];
}

function buildTable(dir: string, task: OuladTask, cutoffDay: number): TaskTable {
  const file = (name: string): RawTable => readCached(join(dir, name));
  const info = file(FILES.info);
  const index = indexEnrolments(info);
  const assessments = file(FILES.assessments);
  const submissions = file(FILES.submissions);
  const columns: FeatureColumn[] = [
    ...idColumns(index),
    ...learnerColumns(index, file(FILES.registration), file(FILES.courses)),
    ...(task === 'early-warning'
      ? earlyWarningColumns(index, submissions, assessments, cutoffDay)
      : [...outcomeAssessmentColumns(index, submissions, assessments), ...vleColumns(index, file(FILES.clicks))]),
  ];
  const label = resultCells(index);
  const n = info.rows.length;
  const rows = new Array<string[]>(n);
  for (let r = 0; r < n; r++) {
    const row = columns.map((c) => c.cells[r] ?? '');
    row.push(label[r] ?? '');
    rows[r] = row;
  }
  const header = [...columns.map((c) => c.spec.name), LABEL_NAME];
  return { raw: { source: `${dir} (OULAD ${task})`, header, rows }, features: columns.map((c) => c.spec) };
}

/** One-line attribution of the OULAD data, for reports and CLI output (CC BY 4.0 requires it). */
export function ouladAttribution(): string {
  return 'Data: OULAD, Kuzilek, Hlosta & Zdrahal (2017), Scientific Data 4:170171, doi:10.1038/sdata.2017.171, CC BY 4.0.';
}
