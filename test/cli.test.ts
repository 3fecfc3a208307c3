/**
 * The command line as a platform engineer uses it: infer a schema for their own CSV, simulate a
 * federation on it, and get errors that point at the file, row and column.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seededRng } from '../src/core/rng.js';
import { EDUFED_MAIN } from '../src/cli/local-deployment.js';
import { isRecord } from '../src/core/validate.js';

function edufed(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [EDUFED_MAIN, ...args], { encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function learnersCsv(): string {
  const rng = seededRng(3);
  const lines = ['"learner_id","campus","hours","level","passed"'];
  for (let i = 0; i < 600; i++) {
    const campus = ['north', 'south', 'east'][i % 3] ?? 'north';
    const hours = Math.max(0, 10 + 6 * rng.normal());
    const level = ['basic', 'mid', 'high'][rng.int(3)] ?? 'basic';
    const passed = rng.next() < 1 / (1 + Math.exp(-(hours - 10) / 3)) ? 'yes' : 'no';
    lines.push(`"${1000 + i}","${campus}","${i % 50 === 0 ? '' : hours.toFixed(1)}","${level}","${passed}"`);
  }
  return `${lines.join('\r\n')}\r\n`;
}

test('schema infer then simulate on a platform\'s own CSV writes a full report with δ', () => {
  const dir = mkdtempSync(join(tmpdir(), 'edufed-cli-'));
  try {
    const csv = join(dir, 'learners.csv');
    writeFileSync(csv, learnersCsv());
    const inferred = edufed(['schema', 'infer', csv, '--label', 'passed']);
    assert.equal(inferred.code, 0, inferred.stderr);
    const schemaFile = join(dir, 'learners.schema.json');
    const schema: unknown = JSON.parse(readFileSync(schemaFile, 'utf8'));
    assert.ok(isRecord(schema) && Array.isArray(schema['columns']));
    const types = Object.fromEntries((schema['columns'] as { name: string; type: string }[]).map((c) => [c.name, c.type]));
    assert.deepEqual(types, { learner_id: 'id', campus: 'categorical', hours: 'numeric', level: 'categorical', passed: 'label' });

    const report = join(dir, 'report.json');
    const sim = edufed(['simulate', '--csv', csv, '--schema', schemaFile, '--partition', 'campus', '--rounds', '5', '--json', report, '--quiet']);
    assert.equal(sim.code, 0, sim.stderr);
    assert.match(sim.stdout, /δ = \|fed − central\|/);
    const r: unknown = JSON.parse(readFileSync(report, 'utf8'));
    assert.ok(isRecord(r));
    assert.equal(r['participants'], 3);
    assert.equal((r['rounds'] as unknown[]).length, 5);
    const c = r['comparison'];
    assert.ok(isRecord(c) && isRecord(c['delta']) && typeof c['delta']['auc'] === 'number');
    assert.ok(isRecord(r['timings']) && typeof r['timings']['totalMs'] === 'number');
    assert.equal(r['seed'], 42);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad input stops with a message naming the file, row and column, and exit code 1', () => {
  const dir = mkdtempSync(join(tmpdir(), 'edufed-cli-'));
  try {
    const csv = join(dir, 'bad.csv');
    const schema = join(dir, 'bad.schema.json');
    writeFileSync(schema, JSON.stringify({ version: 1, columns: [{ name: 'hours', type: 'numeric' }, { name: 'passed', type: 'label', classes: ['no', 'yes'], positive: ['yes'] }] }));
    writeFileSync(csv, 'hours,passed\n3,yes\nten,no\n');
    const r = edufed(['simulate', '--csv', csv, '--schema', schema, '--iid', '1', '--quiet']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /bad\.csv, row 2, column "hours"/);
    assert.match(r.stderr, /ten/);

    writeFileSync(csv, 'hours;passed\n3;yes\n');
    const semi = edufed(['simulate', '--csv', csv, '--schema', schema, '--iid', '1', '--quiet']);
    assert.equal(semi.code, 1);
    assert.match(semi.stderr, /--delimiter ';'/);

    const flag = edufed(['simulate', '--rounds', 'many']);
    assert.equal(flag.code, 1);
    assert.match(flag.stderr, /--rounds: expects a number, got "many"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
