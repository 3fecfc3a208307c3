import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createJobSalt, idSourceFromColumns, inlineCompute, resolvePsiParams } from '../federation/vertical/psi/index.js';
import { runPsiPair } from './psi-command.js';

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));

// A's rows 1–7: alice twice (a spelling variant), bob, carol, dave, erin, and a row without an id.
const A_CSV = 'learner,email,score\nalice,,1\n" Alice ",,2\nBOB,,3\ncarol,c@x.org,4\ndave,,5\nerin,,6\n,,7\n';
// B: the same people spelled differently, frank twice, and carol only by e-mail.
const B_CSV = 'learner,email,clicks\nALICE,,10\nbob   ,,11\nDave,,12\nfrank,,13\nfrank,,14\nzed,C@X.ORG,15\n';

function withFiles(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'edufed-psi-cli-'));
  try {
    writeFileSync(join(dir, 'a.csv'), A_CSV);
    writeFileSync(join(dir, 'b.csv'), B_CSV);
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function edufed(args: readonly string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, 'psi', ...args, '--threads', '1'], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('edufed psi counts learners once across duplicates and case/space variants, and --out lists A’s first matching rows', () => {
  withFiles((dir) => {
    const out = join(dir, 'rows.txt');

    const r = edufed(['--a', join(dir, 'a.csv'), '--b', join(dir, 'b.csv'), '--id', 'learner', '--out', out]);

    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'intersection: 3\n');
    assert.match(r.stderr, /rows sent/);
    assert.deepEqual(readFileSync(out, 'utf8').trim().split('\n').map(Number), [1, 3, 5]);
  });
});

test('edufed psi with two ID columns matches a row on either, and cardinality prints the size alone', () => {
  withFiles((dir) => {
    const both = edufed(['--a', join(dir, 'a.csv'), '--b', join(dir, 'b.csv'), '--id', 'learner,email', '--quiet']);
    const card = edufed(['--a', join(dir, 'a.csv'), '--b', join(dir, 'b.csv'), '--id', 'learner', '--reveal', 'cardinality', '--suite', 'ristretto255', '--quiet']);

    assert.equal(both.code, 0, both.stderr);
    assert.equal(both.stdout, 'intersection: 4\n');
    assert.equal(card.code, 0, card.stderr);
    assert.equal(card.stdout, 'intersection: 3\n');
    assert.equal(card.stderr, '');
  });
});

test('edufed psi refuses --out with cardinality and a missing ID column, naming the flag or column', () => {
  withFiles((dir) => {
    const out = edufed(['--a', join(dir, 'a.csv'), '--b', join(dir, 'b.csv'), '--id', 'learner', '--reveal', 'cardinality', '--out', join(dir, 'x')]);
    const missing = edufed(['--a', join(dir, 'a.csv'), '--b', join(dir, 'b.csv'), '--id', 'nope']);

    assert.equal(out.code, 1);
    assert.match(out.stderr, /--out/);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /nope/);
  });
});

test('runPsiPair gives both sides the same learners in the same order under reveal both', async () => {
  const a = idSourceFromColumns({ id: ['u1', 'u2', 'u3', 'u4', 'u5'] });
  const b = idSourceFromColumns({ id: ['U5', 'x', 'u3', 'u1'] });
  const params = resolvePsiParams({ columns: ['id'], salt: createJobSalt() });
  const compute = await inlineCompute('x25519');

  const r = await runPsiPair(a, b, params, compute, { batchSize: 2 });

  assert.equal(r.a.size, 3);
  const pairs = [...(r.a.rows ?? [])].map((row, k) => [a.value(row, 0), b.value(r.b.rows?.[k] ?? -1, 0)?.toLowerCase()]);
  assert.deepEqual(pairs.sort(), [['u1', 'u1'], ['u3', 'u3'], ['u5', 'u5']]);
});
