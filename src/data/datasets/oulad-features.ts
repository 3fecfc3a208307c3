/**
 * Per-enrolment feature columns of OULAD (Kuzilek et al. 2017), computed from the original tables:
 * demographics, assessment aggregates (up to a cutoff day, or over the whole presentation) and the
 * VLE click categories. Pure functions of parsed tables; reading the files is `oulad.ts`'s job.
 *
 * Every column is built together with its {@link ColumnSpec}, so the schema cannot drift from the
 * cells. Cells are strings, as if read from a CSV: numbers via `String`, missing values as ''.
 */
import { DataError } from '../../core/errors.js';
import type { ColumnSpec } from '../schema.js';
import type { RawTable } from '../table.js';

/** One built column: its schema entry and one cell per enrolment, in `studentInfo.csv` order. */
export interface FeatureColumn {
  readonly spec: ColumnSpec;
  readonly cells: readonly string[];
}

/** The enrolments (rows of `studentInfo.csv`) and a lookup from enrolment key to row index. */
export interface EnrolmentIndex {
  readonly info: RawTable;
  /** `code_module|code_presentation|id_student` → 0-based row index in `info`. */
  readonly rowOf: ReadonlyMap<string, number>;
  /** Module and presentation of each row, `code_module|code_presentation`. */
  readonly presentationOf: readonly string[];
  /** `code_module|code_presentation` → `id_student` → row index; spares building a key per submission. */
  readonly rowByPresentation: ReadonlyMap<string, ReadonlyMap<string, number>>;
}

/** The seven OULAD modules. */
export const OULAD_MODULES: readonly string[] = ['AAA', 'BBB', 'CCC', 'DDD', 'EEE', 'FFF', 'GGG'];

/** The thirteen UK/Irish regions of `studentInfo.csv`. */
export const OULAD_REGIONS: readonly string[] = [
  'East Anglian Region',
  'East Midlands Region',
  'Ireland',
  'London Region',
  'North Region',
  'North Western Region',
  'Scotland',
  'South East Region',
  'South Region',
  'South West Region',
  'Wales',
  'West Midlands Region',
  'Yorkshire Region',
];

const EDUCATION_LEVELS = [
  'No Formal quals',
  'Lower Than A Level',
  'A Level or Equivalent',
  'HE Qualification',
  'Post Graduate Qualification',
] as const;

const IMD_LEVELS = [
  '0-10%',
  '10-20%',
  '20-30%',
  '30-40%',
  '40-50%',
  '50-60%',
  '60-70%',
  '70-80%',
  '80-90%',
  '90-100%',
] as const;

const AGE_LEVELS = ['0-35', '35-55', '55<='] as const;

type AssessmentType = 'TMA' | 'CMA' | 'Exam';
const ASSESSMENT_TYPES: readonly AssessmentType[] = ['TMA', 'CMA', 'Exam'];

/** The key of an enrolment, also the value of the `enrolment_id` column: `AAA|2013J|11391`. */
export function enrolmentKey(module: string, presentation: string, student: string): string {
  return `${module}|${presentation}|${student}`;
}

/**
 * Index of a named column of a source table.
 * @throws {DataError} naming the file and the column if the header lacks it.
 */
function columnIndex(table: RawTable, name: string): number {
  const i = table.header.indexOf(name);
  if (i < 0) {
    throw new DataError(
      { file: table.source, row: 0, column: name },
      `missing column; the header has ${table.header.join(', ')}`,
    );
  }
  return i;
}

function cellAt(table: RawTable, row: number, column: number): string {
  return table.rows[row]?.[column] ?? '';
}

/** A number from a cell; '' is NaN (missing). */
function numberAt(table: RawTable, row: number, column: number): number {
  const text = cellAt(table, row, column);
  if (text === '') return Number.NaN;
  const value = Number(text);
  if (!Number.isFinite(value)) {
    throw new DataError(
      { file: table.source, row: row + 1, column: table.header[column] ?? `#${column + 1}` },
      `expected a number, got ${JSON.stringify(text)}`,
    );
  }
  return value;
}

function formatNumber(value: number): string {
  return Number.isNaN(value) ? '' : String(value);
}

function numericColumn(name: string, values: ArrayLike<number>, missing: 'allow' | 'error'): FeatureColumn {
  const cells = new Array<string>(values.length);
  for (let i = 0; i < values.length; i++) cells[i] = formatNumber(values[i] ?? Number.NaN);
  return { spec: { name, type: 'numeric', missing }, cells };
}

function copyColumn(info: RawTable, source: string, spec: ColumnSpec, map?: (v: string) => string): FeatureColumn {
  const c = columnIndex(info, source);
  const cells = info.rows.map((_, r) => {
    const v = cellAt(info, r, c);
    return map === undefined ? v : map(v);
  });
  return { spec, cells };
}

/**
 * Indexes the enrolments of `studentInfo.csv`.
 * @throws {DataError} if a key column is missing or an enrolment appears twice.
 */
export function indexEnrolments(info: RawTable): EnrolmentIndex {
  const m = columnIndex(info, 'code_module');
  const p = columnIndex(info, 'code_presentation');
  const s = columnIndex(info, 'id_student');
  const rowOf = new Map<string, number>();
  const presentationOf = new Array<string>(info.rows.length);
  const rowByPresentation = new Map<string, Map<string, number>>();
  for (let r = 0; r < info.rows.length; r++) {
    const presentation = `${cellAt(info, r, m)}|${cellAt(info, r, p)}`;
    const student = cellAt(info, r, s);
    const key = `${presentation}|${student}`;
    const first = rowOf.get(key);
    if (first !== undefined) {
      throw new DataError({ file: info.source, row: r + 1 }, `enrolment ${key} repeats row ${first + 1}`);
    }
    rowOf.set(key, r);
    presentationOf[r] = presentation;
    let students = rowByPresentation.get(presentation);
    if (students === undefined) {
      students = new Map<string, number>();
      rowByPresentation.set(presentation, students);
    }
    students.set(student, r);
  }
  return { info, rowOf, presentationOf, rowByPresentation };
}

/**
 * The identifier columns: `enrolment_id` (the enrolment key), `id_student` (to keep one learner's
 * enrolments together in a split) and `code_presentation` (for temporal splits). Ids are never features.
 */
export function idColumns(index: EnrolmentIndex): FeatureColumn[] {
  const { info } = index;
  const m = columnIndex(info, 'code_module');
  const p = columnIndex(info, 'code_presentation');
  const s = columnIndex(info, 'id_student');
  return [
    {
      spec: { name: 'enrolment_id', type: 'id' },
      cells: info.rows.map((_, r) => enrolmentKey(cellAt(info, r, m), cellAt(info, r, p), cellAt(info, r, s))),
    },
    copyColumn(info, 'id_student', { name: 'id_student', type: 'id' }),
    copyColumn(info, 'code_presentation', { name: 'code_presentation', type: 'id' }),
  ];
}

/**
 * Columns known when the learner registers, hence safe for every task and cutoff:
 * `code_module`, `region`, `gender`, `disability` (categorical, closed vocabularies);
 * `highest_education`, `imd_band`, `age_band` (ordinal, natural order; the source's `10-20` is
 * read as `10-20%`, an empty `imd_band` stays missing); `num_of_prev_attempts`, `studied_credits`,
 * `module_presentation_length` (numeric, required) and `date_registration` (numeric, 45 missing).
 *
 * `code_module` and `region` are also the partition keys: under a region (or module) partition
 * the column is constant within a participant and acts as that participant's intercept.
 * `date_unregistration` is deliberately absent: it is the withdrawal itself.
 *
 * @throws {DataError} naming file, row and column for a missing column, a registration or course
 *   row that does not match an enrolment, or a non-numeric number.
 */
export function learnerColumns(index: EnrolmentIndex, registration: RawTable, courses: RawTable): FeatureColumn[] {
  const n = index.info.rows.length;
  const dateRegistration = new Float64Array(n).fill(Number.NaN);
  const seen = new Uint8Array(n);
  const rm = columnIndex(registration, 'code_module');
  const rp = columnIndex(registration, 'code_presentation');
  const rs = columnIndex(registration, 'id_student');
  const rd = columnIndex(registration, 'date_registration');
  for (let r = 0; r < registration.rows.length; r++) {
    const key = enrolmentKey(cellAt(registration, r, rm), cellAt(registration, r, rp), cellAt(registration, r, rs));
    const row = index.rowOf.get(key);
    if (row === undefined) {
      throw new DataError({ file: registration.source, row: r + 1 }, `enrolment ${key} is not in studentInfo`);
    }
    dateRegistration[row] = numberAt(registration, r, rd);
    seen[row] = 1;
  }
  const unregistered = seen.indexOf(0);
  if (unregistered >= 0) {
    throw new DataError(
      { file: registration.source },
      `no registration row for enrolment on studentInfo row ${unregistered + 1}`,
    );
  }

  const lengthOf = new Map<string, number>();
  const cm = columnIndex(courses, 'code_module');
  const cp = columnIndex(courses, 'code_presentation');
  const cl = columnIndex(courses, 'module_presentation_length');
  for (let r = 0; r < courses.rows.length; r++) {
    lengthOf.set(`${cellAt(courses, r, cm)}|${cellAt(courses, r, cp)}`, numberAt(courses, r, cl));
  }
  const length = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    const presentation = index.presentationOf[r] ?? '';
    const days = lengthOf.get(presentation);
    if (days === undefined) {
      throw new DataError({ file: courses.source }, `no course row for presentation ${presentation} (studentInfo row ${r + 1})`);
    }
    length[r] = days;
  }

  const info = index.info;
  const numericFromInfo = (name: string): FeatureColumn => {
    const c = columnIndex(info, name);
    const values = new Float64Array(n);
    for (let r = 0; r < n; r++) values[r] = numberAt(info, r, c);
    return numericColumn(name, values, 'error');
  };
  return [
    copyColumn(info, 'code_module', { name: 'code_module', type: 'categorical', categories: OULAD_MODULES }),
    copyColumn(info, 'region', { name: 'region', type: 'categorical', categories: OULAD_REGIONS }),
    copyColumn(info, 'gender', { name: 'gender', type: 'categorical', categories: ['F', 'M'] }),
    copyColumn(info, 'disability', { name: 'disability', type: 'categorical', categories: ['N', 'Y'] }),
    copyColumn(info, 'highest_education', { name: 'highest_education', type: 'ordinal', levels: EDUCATION_LEVELS }),
    copyColumn(info, 'imd_band', { name: 'imd_band', type: 'ordinal', levels: IMD_LEVELS }, (v) =>
      v === '10-20' ? '10-20%' : v,
    ),
    copyColumn(info, 'age_band', { name: 'age_band', type: 'ordinal', levels: AGE_LEVELS }),
    numericFromInfo('num_of_prev_attempts'),
    numericFromInfo('studied_credits'),
    numericColumn('date_registration', dateRegistration, 'allow'),
    numericColumn('module_presentation_length', length, 'error'),
  ];
}

/**
 * The `final_result` cell of every enrolment, unchanged (the label).
 * @throws {DataError} if `studentInfo.csv` has no `final_result` column.
 */
export function resultCells(index: EnrolmentIndex): readonly string[] {
  const c = columnIndex(index.info, 'final_result');
  return index.info.rows.map((_, r) => cellAt(index.info, r, c));
}

interface AssessmentInfo {
  readonly presentation: string;
  readonly type: AssessmentType;
  /** Due day; NaN for the exams without a date. */
  readonly due: number;
  readonly weight: number;
}

function readAssessments(assessments: RawTable): Map<string, AssessmentInfo> {
  const m = columnIndex(assessments, 'code_module');
  const p = columnIndex(assessments, 'code_presentation');
  const id = columnIndex(assessments, 'id_assessment');
  const t = columnIndex(assessments, 'assessment_type');
  const d = columnIndex(assessments, 'date');
  const w = columnIndex(assessments, 'weight');
  const byId = new Map<string, AssessmentInfo>();
  for (let r = 0; r < assessments.rows.length; r++) {
    const type = cellAt(assessments, r, t);
    if (type !== 'TMA' && type !== 'CMA' && type !== 'Exam') {
      throw new DataError(
        { file: assessments.source, row: r + 1, column: 'assessment_type' },
        `expected TMA, CMA or Exam, got ${JSON.stringify(type)}`,
      );
    }
    byId.set(cellAt(assessments, r, id), {
      presentation: `${cellAt(assessments, r, m)}|${cellAt(assessments, r, p)}`,
      type,
      due: numberAt(assessments, r, d),
      weight: numberAt(assessments, r, w),
    });
  }
  return byId;
}

/** Running sums of one enrolment's submissions of one kind (one assessment type, or all). */
class Sums {
  readonly submitted: Float64Array;
  readonly scoreSum: Float64Array;
  readonly scored: Float64Array;
  readonly weighted: Float64Array;
  readonly latenessSum: Float64Array;
  readonly timed: Float64Array;
  readonly banked: Float64Array;

  constructor(n: number) {
    this.submitted = new Float64Array(n);
    this.scoreSum = new Float64Array(n);
    this.scored = new Float64Array(n);
    this.weighted = new Float64Array(n);
    this.latenessSum = new Float64Array(n);
    this.timed = new Float64Array(n);
    this.banked = new Float64Array(n);
  }

  add(row: number, score: number, weight: number, lateness: number, banked: boolean): void {
    this.submitted[row] = (this.submitted[row] ?? 0) + 1;
    if (!Number.isNaN(score)) {
      this.scoreSum[row] = (this.scoreSum[row] ?? 0) + score;
      this.scored[row] = (this.scored[row] ?? 0) + 1;
      // Score × weight summed, then /100 on output: the points this work adds to the module mark.
      this.weighted[row] = (this.weighted[row] ?? 0) + score * weight;
    }
    if (banked) this.banked[row] = (this.banked[row] ?? 0) + 1;
    else if (!Number.isNaN(lateness)) {
      this.latenessSum[row] = (this.latenessSum[row] ?? 0) + lateness;
      this.timed[row] = (this.timed[row] ?? 0) + 1;
    }
  }

  ratio(sum: Float64Array, count: Float64Array): Float64Array {
    const out = new Float64Array(sum.length);
    for (let i = 0; i < out.length; i++) {
      const c = count[i] ?? 0;
      out[i] = c > 0 ? (sum[i] ?? 0) / c : Number.NaN;
    }
    return out;
  }

  meanScore(): Float64Array {
    return this.ratio(this.scoreSum, this.scored);
  }

  meanLateness(): Float64Array {
    return this.ratio(this.latenessSum, this.timed);
  }

  weightedScore(): Float64Array {
    return this.weighted.map((v) => v / 100);
  }
}

interface Aggregates {
  readonly all: Sums;
  readonly byType: Readonly<Record<AssessmentType, Sums>>;
  /** Assessments of each row's presentation due by the cutoff (only when a cutoff is set). */
  readonly due: Float64Array;
}

/**
 * Sums each enrolment's submissions. With a cutoff, only assessments due on or before it (exams
 * without a date never are) and submitted on or before it count: what a tutor could see that day.
 */
function aggregate(
  index: EnrolmentIndex,
  submissions: RawTable,
  assessments: RawTable,
  cutoffDay: number | undefined,
): Aggregates {
  const n = index.info.rows.length;
  const byId = readAssessments(assessments);
  const all = new Sums(n);
  const byType: Record<AssessmentType, Sums> = { TMA: new Sums(n), CMA: new Sums(n), Exam: new Sums(n) };

  const duePerPresentation = new Map<string, number>();
  if (cutoffDay !== undefined) {
    for (const a of byId.values()) {
      if (a.due <= cutoffDay) duePerPresentation.set(a.presentation, (duePerPresentation.get(a.presentation) ?? 0) + 1);
    }
  }
  const due = new Float64Array(n);
  for (let r = 0; r < n; r++) due[r] = duePerPresentation.get(index.presentationOf[r] ?? '') ?? 0;

  const ia = columnIndex(submissions, 'id_assessment');
  const is = columnIndex(submissions, 'id_student');
  const id = columnIndex(submissions, 'date_submitted');
  const ib = columnIndex(submissions, 'is_banked');
  const isc = columnIndex(submissions, 'score');
  for (let r = 0; r < submissions.rows.length; r++) {
    const idAssessment = cellAt(submissions, r, ia);
    const a = byId.get(idAssessment);
    if (a === undefined) {
      throw new DataError(
        { file: submissions.source, row: r + 1, column: 'id_assessment' },
        `assessment ${idAssessment} is not in ${assessments.source}`,
      );
    }
    const submittedOn = numberAt(submissions, r, id);
    if (cutoffDay !== undefined && !(a.due <= cutoffDay && submittedOn <= cutoffDay)) continue;
    const student = cellAt(submissions, r, is);
    const row = index.rowByPresentation.get(a.presentation)?.get(student);
    if (row === undefined) {
      throw new DataError(
        { file: submissions.source, row: r + 1, column: 'id_student' },
        `student ${student} has no enrolment in ${a.presentation}`,
      );
    }
    const score = numberAt(submissions, r, isc);
    const banked = cellAt(submissions, r, ib) === '1';
    const lateness = submittedOn - a.due;
    all.add(row, score, a.weight, lateness, banked);
    byType[a.type].add(row, score, a.weight, lateness, banked);
  }
  return { all, byType, due };
}

/**
 * Assessment features as known on `cutoffDay` (days from the presentation's start), for the
 * early-warning task. Counted: assessments due on or before the cutoff and submitted on or before
 * it; a late submission after the cutoff is unknown that day and counts as not submitted.
 *
 * - `assess_due`: assessments of the presentation due by the cutoff (same for all its learners).
 * - `assess_submitted`, `assess_submitted_fraction` (submitted / due; missing when nothing is due).
 * - `assess_mean_score` (missing when no scored submission), `assess_weighted_score`
 *   (Σ score × weight / 100), `assess_mean_lateness` (submission day − due day, banked excluded),
 *   `assess_banked` (results carried over from an earlier presentation, dated day −1).
 * - `tma_submitted`, `tma_mean_score`, `cma_submitted`, `cma_mean_score`.
 *
 * Deliberately not used: the VLE click totals (summed over the whole presentation, so they
 * include days after the cutoff), `date_unregistration` and `final_result`.
 * Caveat: OULAD has no marking date, so a score is taken as known when the work is submitted.
 *
 * @throws {DataError} naming file, row and column for an unknown assessment, a submission without
 *   an enrolment, or a non-numeric number.
 */
export function earlyWarningColumns(
  index: EnrolmentIndex,
  submissions: RawTable,
  assessments: RawTable,
  cutoffDay: number,
): FeatureColumn[] {
  const agg = aggregate(index, submissions, assessments, cutoffDay);
  const fraction = agg.all.ratio(agg.all.submitted, agg.due);
  const tma = agg.byType.TMA;
  const cma = agg.byType.CMA;
  return [
    numericColumn('assess_due', agg.due, 'error'),
    numericColumn('assess_submitted', agg.all.submitted, 'error'),
    numericColumn('assess_submitted_fraction', fraction, 'allow'),
    numericColumn('assess_mean_score', agg.all.meanScore(), 'allow'),
    numericColumn('assess_weighted_score', agg.all.weightedScore(), 'error'),
    numericColumn('assess_mean_lateness', agg.all.meanLateness(), 'allow'),
    numericColumn('assess_banked', agg.all.banked, 'error'),
    numericColumn('tma_submitted', tma.submitted, 'error'),
    numericColumn('tma_mean_score', tma.meanScore(), 'allow'),
    numericColumn('cma_submitted', cma.submitted, 'error'),
    numericColumn('cma_mean_score', cma.meanScore(), 'allow'),
  ];
}

/**
 * Assessment features over the whole presentation, for the retrospective outcome task:
 * for each of `tma`, `cma`, `exam`: `<type>_submitted`, `<type>_mean_score`,
 * `<type>_weighted_score` (Σ score × weight / 100), `<type>_mean_lateness` (banked work and exams
 * without a due date excluded); plus `assess_banked`.
 *
 * These describe the whole course, exam included, so they explain the result rather than predict it.
 *
 * @throws {DataError} as {@link earlyWarningColumns}.
 */
export function outcomeAssessmentColumns(
  index: EnrolmentIndex,
  submissions: RawTable,
  assessments: RawTable,
): FeatureColumn[] {
  const agg = aggregate(index, submissions, assessments, undefined);
  const columns: FeatureColumn[] = [];
  for (const type of ASSESSMENT_TYPES) {
    const sums = agg.byType[type];
    const prefix = type.toLowerCase();
    columns.push(
      numericColumn(`${prefix}_submitted`, sums.submitted, 'error'),
      numericColumn(`${prefix}_mean_score`, sums.meanScore(), 'allow'),
      numericColumn(`${prefix}_weighted_score`, sums.weightedScore(), 'error'),
      numericColumn(`${prefix}_mean_lateness`, sums.meanLateness(), 'allow'),
    );
  }
  columns.push(numericColumn('assess_banked', agg.all.banked, 'error'));
  return columns;
}

/** Click categories of the derived VLE file, in its column order, and the total. */
const VLE_CATEGORIES = [
  ['content_resource_sum_click', 'vle_content_resource_log1p'],
  ['assessment_and_feedback_sum_click', 'vle_assessment_and_feedback_log1p'],
  ['navigation_pages_sum_click', 'vle_navigation_pages_log1p'],
  ['tool_sum_click', 'vle_tool_log1p'],
  ['interaction_and_discussion_sum_click', 'vle_interaction_and_discussion_log1p'],
  ['total_clicks', 'vle_total_log1p'],
] as const;

/**
 * VLE activity over the whole presentation, for the outcome task only: `vle_<category>_log1p`
 * = ln(1 + clicks) for the five categories of the derived file and `vle_total_log1p`. The log
 * tames the heavy tail (0 to 24,139 clicks per enrolment). Clicks are summed over
 * all days, so these leak the future and must never feed the early-warning task.
 *
 * @throws {DataError} naming file, row and column for a missing column, an unknown or missing
 *   enrolment, or a negative or non-numeric count.
 */
export function vleColumns(index: EnrolmentIndex, clicks: RawTable): FeatureColumn[] {
  const n = index.info.rows.length;
  const m = columnIndex(clicks, 'code_module');
  const p = columnIndex(clicks, 'code_presentation');
  const s = columnIndex(clicks, 'id_student');
  const sources = VLE_CATEGORIES.map(([source]) => columnIndex(clicks, source));
  const values = VLE_CATEGORIES.map(() => new Float64Array(n).fill(Number.NaN));
  for (let r = 0; r < clicks.rows.length; r++) {
    const key = enrolmentKey(cellAt(clicks, r, m), cellAt(clicks, r, p), cellAt(clicks, r, s));
    const row = index.rowOf.get(key);
    if (row === undefined) {
      throw new DataError({ file: clicks.source, row: r + 1 }, `enrolment ${key} is not in studentInfo`);
    }
    sources.forEach((c, k) => {
      const count = numberAt(clicks, r, c);
      if (!(count >= 0)) {
        throw new DataError(
          { file: clicks.source, row: r + 1, column: clicks.header[c] ?? '' },
          `expected a click count ≥ 0, got ${JSON.stringify(cellAt(clicks, r, c))}`,
        );
      }
      const target = values[k];
      if (target !== undefined) target[row] = Math.log1p(count);
    });
  }
  const absent = values[0]?.findIndex((v) => Number.isNaN(v)) ?? -1;
  if (absent >= 0) {
    throw new DataError({ file: clicks.source }, `no click row for the enrolment on studentInfo row ${absent + 1}`);
  }
  return VLE_CATEGORIES.map(([, name], k) => numericColumn(name, values[k] ?? new Float64Array(n), 'error'));
}
