import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { ConfigError, DataError } from '../../core/errors.js';
import { projectRoot } from '../../core/paths.js';
import { readCsv, toCsv } from '../csv.js';
import { parseSchema } from '../schema-io.js';
import { toTable } from '../to-table.js';
import type { OuladData, OuladTask } from './oulad.js';
import { buildOulad, OULAD_CLASSES, OULAD_PARTITIONS, ouladAttribution } from './oulad.js';

const DATA_DIR = join(projectRoot(), 'data', 'oulad');

function column(data: OuladData, name: string): readonly string[] {
  const c = data.raw.header.indexOf(name);
  assert.ok(c >= 0, `column ${name} is in the header`);
  return data.raw.rows.map((row) => row[c] ?? '');
}

function enrolment(data: OuladData, id: string): Record<string, string> {
  const ids = column(data, 'enrolment_id');
  const r = ids.indexOf(id);
  assert.ok(r >= 0, `enrolment ${id} is present`);
  const row = data.raw.rows[r] ?? [];
  return Object.fromEntries(data.raw.header.map((name, c) => [name, row[c] ?? '']));
}

function assertNear(actual: string, expected: number, what: string): void {
  assert.notEqual(actual, '', `${what} is not missing`);
  assert.ok(Math.abs(Number(actual) - expected) < 1e-9, `${what}: expected ${expected}, got ${actual}`);
}

function counts(values: readonly string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const v of values) out.set(v, (out.get(v) ?? 0) + 1);
  return out;
}

const EARLY_WARNING_COLUMNS = [
  'enrolment_id',
  'id_student',
  'code_presentation',
  'code_module',
  'region',
  'gender',
  'disability',
  'highest_education',
  'imd_band',
  'age_band',
  'num_of_prev_attempts',
  'studied_credits',
  'date_registration',
  'module_presentation_length',
  'assess_due',
  'assess_submitted',
  'assess_submitted_fraction',
  'assess_mean_score',
  'assess_weighted_score',
  'assess_mean_lateness',
  'assess_banked',
  'tma_submitted',
  'tma_mean_score',
  'cma_submitted',
  'cma_mean_score',
  'final_result',
];

test('buildOulad gives one row per enrolment (32,593) with one cell per header column', () => {
  // Execute
  const data = buildOulad({ task: 'early-warning' });
  // Assert
  assert.equal(data.raw.rows.length, 32_593);
  assert.ok(data.raw.rows.every((row) => row.length === data.raw.header.length));
  assert.equal(new Set(column(data, 'enrolment_id')).size, 32_593);
  assert.deepEqual(
    data.schema.columns.map((c) => c.name),
    data.raw.header,
  );
});

test('the partition columns give 13 regions and 7 modules with the documented enrolment counts', () => {
  // Prepare
  const data = buildOulad({ task: 'early-warning' });
  // Execute
  const regions = counts(column(data, OULAD_PARTITIONS.region));
  const modules = counts(column(data, OULAD_PARTITIONS.module));
  // Assert
  assert.equal(regions.size, 13);
  assert.equal(regions.get('Ireland'), 1_184);
  assert.equal(regions.get('Scotland'), 3_446);
  assert.deepEqual(
    Object.fromEntries([...modules].sort()),
    { AAA: 748, BBB: 7_909, CCC: 4_434, DDD: 6_272, EEE: 2_934, FFF: 7_762, GGG: 2_534 },
  );
});

test('final_result counts are Pass 12,361, Withdrawn 10,156, Fail 7,052, Distinction 3,024', () => {
  // Execute
  const labels = counts(column(buildOulad({ task: 'outcome' }), 'final_result'));
  // Assert
  assert.deepEqual(Object.fromEntries(labels), { Pass: 12_361, Withdrawn: 10_156, Fail: 7_052, Distinction: 3_024 });
});

test('the label option sets the positive classes of final_result', () => {
  // Execute
  const label = (l: 'pass' | 'dropout' | 'result') =>
    buildOulad({ task: 'early-warning', label: l }).schema.columns.find((c) => c.type === 'label');
  // Assert
  assert.deepEqual(label('pass'), { name: 'final_result', type: 'label', classes: OULAD_CLASSES, positive: ['Distinction', 'Pass'] });
  assert.deepEqual(label('dropout'), { name: 'final_result', type: 'label', classes: OULAD_CLASSES, positive: ['Withdrawn'] });
  assert.deepEqual(label('result'), { name: 'final_result', type: 'label', classes: OULAD_CLASSES });
});

test('the early-warning schema has exactly the registration and assessment columns, none from VLE or unregistration', () => {
  // Execute
  const names = buildOulad({ task: 'early-warning' }).schema.columns.map((c) => c.name);
  // Assert
  assert.deepEqual(names, EARLY_WARNING_COLUMNS);
  assert.ok(names.every((n) => !/vle|click|unregist|exam/.test(n)));
});

test('the outcome schema adds whole-presentation exam and VLE click columns', () => {
  // Execute
  const names = buildOulad({ task: 'outcome' }).schema.columns.map((c) => c.name);
  // Assert
  for (const n of ['exam_mean_score', 'tma_mean_lateness', 'cma_weighted_score', 'vle_total_log1p', 'vle_tool_log1p']) {
    assert.ok(names.includes(n), n);
  }
  assert.ok(!names.includes('date_unregistration'));
  assert.ok(!names.includes('assess_due'));
});

test('both task tables pass schema validation and toTable with the expected classes', () => {
  for (const [task, label, numClasses] of [
    ['early-warning', 'pass', 2],
    ['outcome', 'result', 4],
  ] as const) {
    // Prepare
    const data = buildOulad({ task, label });
    // Execute
    const schema = parseSchema(JSON.parse(JSON.stringify(data.schema)), 'built');
    const table = toTable(data.raw, schema);
    // Assert
    assert.equal(table.length, 32_593);
    assert.equal(table.numClasses, numClasses);
    const imd = table.numeric.get('imd_band');
    assert.ok(imd !== undefined);
    assert.equal(imd.filter((v) => Number.isNaN(v)).length, 1_111, 'only the empty imd_band cells are missing');
  }
});

test('AAA 2013J learner 11391 (first studentInfo row) has the day-60 features computed by hand', () => {
  // Prepare: raw rows (grep '"11391"'): registered day -159; TMA 1752 due 19 weight 10, submitted
  // day 18 score 78; TMA 1753 due 54 weight 20, submitted day 53 score 85; later TMAs are due after 60.
  const data = buildOulad({ task: 'early-warning', cutoffDay: 60 });
  // Execute
  const e = enrolment(data, 'AAA|2013J|11391');
  // Assert
  assert.deepEqual(
    {
      code_module: e['code_module'],
      region: e['region'],
      gender: e['gender'],
      highest_education: e['highest_education'],
      imd_band: e['imd_band'],
      age_band: e['age_band'],
      num_of_prev_attempts: e['num_of_prev_attempts'],
      studied_credits: e['studied_credits'],
      disability: e['disability'],
      date_registration: e['date_registration'],
      module_presentation_length: e['module_presentation_length'],
      final_result: e['final_result'],
    },
    {
      code_module: 'AAA',
      region: 'East Anglian Region',
      gender: 'M',
      highest_education: 'HE Qualification',
      imd_band: '90-100%',
      age_band: '55<=',
      num_of_prev_attempts: '0',
      studied_credits: '240',
      disability: 'N',
      date_registration: '-159',
      module_presentation_length: '268',
      final_result: 'Pass',
    },
  );
  assert.equal(e['assess_due'], '2');
  assert.equal(e['assess_submitted'], '2');
  assertNear(e['assess_submitted_fraction'] ?? '', 1, 'fraction');
  assertNear(e['assess_mean_score'] ?? '', (78 + 85) / 2, 'mean score');
  assertNear(e['assess_weighted_score'] ?? '', (78 * 10 + 85 * 20) / 100, 'weighted score');
  assertNear(e['assess_mean_lateness'] ?? '', (18 - 19 + (53 - 54)) / 2, 'lateness');
  assert.equal(e['assess_banked'], '0');
  assert.equal(e['tma_submitted'], '2');
  assertNear(e['tma_mean_score'] ?? '', 81.5, 'TMA mean');
  assert.equal(e['cma_submitted'], '0');
  assert.equal(e['cma_mean_score'], '');
});

test('a submission made after the cutoff is unknown on the cutoff day; the learner\'s other enrolment stays separate', () => {
  // Prepare: learner 1352868 in AAA 2013J submitted TMA 1752 (due 19) on day 19 with 66 and
  // TMA 1753 (due 54, weight 20) late on day 64 with 65; in AAA 2014J TMA 1758 (due 19) on day 19
  // with 82 and TMA 1759 (due 54) on day 57 with 72.
  // Execute
  const day60 = buildOulad({ task: 'early-warning', cutoffDay: 60 });
  const day64 = buildOulad({ task: 'early-warning', cutoffDay: 64 });
  const a60 = enrolment(day60, 'AAA|2013J|1352868');
  const a64 = enrolment(day64, 'AAA|2013J|1352868');
  const b60 = enrolment(day60, 'AAA|2014J|1352868');
  // Assert
  assert.equal(a60['assess_due'], '2');
  assert.equal(a60['assess_submitted'], '1');
  assertNear(a60['assess_submitted_fraction'] ?? '', 0.5, 'fraction by day 60');
  assertNear(a60['assess_mean_score'] ?? '', 66, 'mean by day 60');
  assertNear(a60['assess_weighted_score'] ?? '', 6.6, 'weighted by day 60');
  assertNear(a60['assess_mean_lateness'] ?? '', 0, 'lateness by day 60');
  assert.equal(a64['assess_submitted'], '2');
  assertNear(a64['assess_mean_score'] ?? '', 65.5, 'mean by day 64');
  assertNear(a64['assess_weighted_score'] ?? '', 6.6 + 13, 'weighted by day 64');
  assertNear(a64['assess_mean_lateness'] ?? '', 5, 'lateness by day 64');
  assert.equal(b60['assess_submitted'], '2');
  assertNear(b60['assess_mean_score'] ?? '', 77, 'other enrolment mean');
  assertNear(b60['assess_mean_lateness'] ?? '', 1.5, 'other enrolment lateness');
});

test('banked results count as submitted with their scores but are left out of lateness', () => {
  // Prepare: learner 603861 in AAA 2014J has TMA 1758 (weight 10) banked with 61 and TMA 1759
  // (weight 20) banked with 56, both dated day -1; imd_band is empty in studentInfo.
  // Execute
  const e = enrolment(buildOulad({ task: 'early-warning', cutoffDay: 60 }), 'AAA|2014J|603861');
  // Assert
  assert.equal(e['assess_submitted'], '2');
  assert.equal(e['assess_banked'], '2');
  assertNear(e['assess_mean_score'] ?? '', 58.5, 'mean');
  assertNear(e['assess_weighted_score'] ?? '', (61 * 10 + 56 * 20) / 100, 'weighted');
  assert.equal(e['assess_mean_lateness'], '');
  assert.equal(e['imd_band'], '');
});

test('the cutoff is inclusive: 11391\'s first TMA, due day 19 and submitted day 18, counts on day 19', () => {
  // Execute
  const e = enrolment(buildOulad({ task: 'early-warning', cutoffDay: 19 }), 'AAA|2013J|11391');
  // Assert
  assert.deepEqual([e['assess_due'], e['assess_submitted'], e['assess_mean_score']], ['1', '1', '78']);
});

test('on day 0 nothing is due or counted for anyone, while day 60 counts submissions', () => {
  // Execute
  const day0 = buildOulad({ task: 'early-warning', cutoffDay: 0 });
  const day60 = buildOulad({ task: 'early-warning', cutoffDay: 60 });
  // Assert
  assert.ok(column(day0, 'assess_submitted').every((v) => v === '0'));
  assert.ok(column(day0, 'assess_due').every((v) => v === '0'));
  assert.ok(column(day0, 'assess_mean_score').every((v) => v === ''));
  const submitted60 = column(day60, 'assess_submitted').reduce((s, v) => s + Number(v), 0);
  assert.ok(submitted60 > 30_000, `day 60 counts ${submitted60} submissions`);
});

test('counts known by day 60 never exceed those known by day 64', () => {
  // Execute
  const day60 = column(buildOulad({ task: 'early-warning', cutoffDay: 60 }), 'assess_submitted');
  const day64 = column(buildOulad({ task: 'early-warning', cutoffDay: 64 }), 'assess_submitted');
  // Assert
  assert.ok(day60.every((v, r) => Number(v) <= Number(day64[r])));
  assert.ok(day60.some((v, r) => Number(v) < Number(day64[r])));
});

test('learners who submitted everything due by day 60 pass far more often than those who submitted nothing', () => {
  // Prepare
  const data = buildOulad({ task: 'early-warning', cutoffDay: 60 });
  const fraction = column(data, 'assess_submitted_fraction');
  const result = column(data, 'final_result');
  const passRate = (keep: (f: string) => boolean): number => {
    let passed = 0;
    let total = 0;
    fraction.forEach((f, r) => {
      if (!keep(f)) return;
      total++;
      if (result[r] === 'Pass' || result[r] === 'Distinction') passed++;
    });
    return passed / total;
  };
  // Execute
  const all = passRate((f) => f === '1');
  const none = passRate((f) => f === '0');
  // Assert
  assert.ok(all > none + 0.3, `pass rate ${all.toFixed(3)} (all submitted) vs ${none.toFixed(3)} (none)`);
});

test('day-60 features do not change when later submissions, unregistration dates and the VLE file are removed', () => {
  // Prepare: a data folder with the future cut away and no click file at all.
  const dir = mkdtempSync(join(tmpdir(), 'edufed-oulad-'));
  try {
    const read = (name: string) => readCsv(join(DATA_DIR, name));
    const write = (name: string, header: readonly string[], rows: readonly (readonly string[])[]) =>
      writeFileSync(join(dir, name), gzipSync(toCsv({ source: name, header, rows }), { level: 1 }));
    const sub = read('studentAssessment.csv.gz');
    const day = sub.header.indexOf('date_submitted');
    const known = sub.rows.filter((row) => Number(row[day]) <= 60);
    write('studentAssessment.csv.gz', sub.header, known);
    const reg = read('studentRegistration.csv.gz');
    const unreg = reg.header.indexOf('date_unregistration');
    write('studentRegistration.csv.gz', reg.header, reg.rows.map((row) => row.map((v, c) => (c === unreg ? '' : v))));
    for (const name of ['studentInfo.csv.gz', 'assessments.csv.gz', 'courses.csv.gz']) {
      copyFileSync(join(DATA_DIR, name), join(dir, name));
    }
    // Execute
    const cut = buildOulad({ task: 'early-warning', cutoffDay: 60, dataDir: dir });
    const full = buildOulad({ task: 'early-warning', cutoffDay: 60 });
    // Assert
    assert.ok(known.length < sub.rows.length / 2, 'most submissions (those after day 60) were removed');
    assert.deepEqual(cut.raw.rows, full.raw.rows);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the outcome task sums all assessments and takes log1p of the VLE clicks (11391 by hand)', () => {
  // Prepare: 11391 submitted TMAs 1752..1756 (due 19/54/117/166/215, weights 10/20/20/20/30) on days
  // 18/53/115/164/212 with 78/85/80/85/82; derived VLE row: 18, 0, 170, 0, 746, total 934.
  // Execute
  const e = enrolment(buildOulad({ task: 'outcome' }), 'AAA|2013J|11391');
  // Assert
  assert.equal(e['tma_submitted'], '5');
  assertNear(e['tma_mean_score'] ?? '', 82, 'TMA mean');
  assertNear(e['tma_weighted_score'] ?? '', (780 + 1700 + 1600 + 1700 + 2460) / 100, 'TMA weighted');
  assertNear(e['tma_mean_lateness'] ?? '', (-1 - 1 - 2 - 2 - 3) / 5, 'TMA lateness');
  assert.deepEqual([e['exam_submitted'], e['exam_mean_score'], e['cma_submitted']], ['0', '', '0']);
  assertNear(e['vle_content_resource_log1p'] ?? '', Math.log1p(18), 'content clicks');
  assertNear(e['vle_assessment_and_feedback_log1p'] ?? '', 0, 'assessment clicks');
  assertNear(e['vle_navigation_pages_log1p'] ?? '', Math.log1p(170), 'navigation clicks');
  assertNear(e['vle_interaction_and_discussion_log1p'] ?? '', Math.log1p(746), 'interaction clicks');
  assertNear(e['vle_total_log1p'] ?? '', Math.log1p(934), 'total clicks');
});

test('repeated builds with the same options return the cached task; the label option shares the rows', () => {
  // Execute
  const a = buildOulad({ task: 'early-warning' });
  const b = buildOulad({ task: 'early-warning', label: 'pass', cutoffDay: 60 });
  const dropout = buildOulad({ task: 'early-warning', label: 'dropout' });
  const later = buildOulad({ task: 'early-warning', cutoffDay: 64 });
  // Assert
  assert.equal(a, b);
  assert.equal(dropout.raw, a.raw);
  assert.notEqual(dropout.schema, a.schema);
  assert.notEqual(later.raw, a.raw);
});

test('invalid options throw ConfigError naming the option', () => {
  // Prepare
  const badTask: string = 'forecast';
  const badLabel: string = 'grade';
  // Execute / Assert
  assert.throws(() => buildOulad({ task: badTask as OuladTask }), (e) => e instanceof ConfigError && e.field === 'task');
  assert.throws(
    () => buildOulad({ task: 'early-warning', label: badLabel as 'pass' }),
    (e) => e instanceof ConfigError && e.field === 'label',
  );
  assert.throws(() => buildOulad({ task: 'outcome', cutoffDay: 60 }), (e) => e instanceof ConfigError && e.field === 'cutoffDay');
  assert.throws(
    () => buildOulad({ task: 'early-warning', cutoffDay: Number.NaN }),
    (e) => e instanceof ConfigError && e.field === 'cutoffDay',
  );
});

test('a data folder without the OULAD files throws DataError naming the missing file', () => {
  // Prepare
  const dir = mkdtempSync(join(tmpdir(), 'edufed-oulad-empty-'));
  try {
    // Execute / Assert
    assert.throws(
      () => buildOulad({ task: 'early-warning', dataDir: dir }),
      (e) => e instanceof DataError && e.message.includes('studentInfo.csv.gz'),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the attribution and description cite Kuzilek et al. 2017 under CC BY 4.0', () => {
  // Execute
  const line = ouladAttribution();
  const description = buildOulad({ task: 'early-warning' }).description;
  // Assert
  for (const text of [line, description]) {
    assert.match(text, /Kuzilek/);
    assert.match(text, /CC BY 4\.0/);
    assert.match(text, /10\.1038\/sdata\.2017\.171/);
  }
  assert.match(description, /day 60/);
});
