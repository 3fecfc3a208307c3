import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SchemaError } from '../core/errors.js';
import type { Schema } from './schema.js';
import { loadSchema, parseSchema, saveSchema } from './schema-io.js';

const GOOD: Schema = {
  version: 1,
  name: 'students',
  columns: [
    { name: 'id_student', type: 'id' },
    { name: 'age', type: 'numeric', missing: 'error' },
    { name: 'clicks', type: 'numeric' },
    { name: 'region', type: 'categorical', categories: ['North', 'South'] },
    { name: 'gender', type: 'categorical' },
    { name: 'imd', type: 'ordinal', levels: ['low', 'mid', 'high'] },
    { name: 'notes', type: 'ignore' },
    { name: 'final_result', type: 'label', classes: ['Pass', 'Fail', 'Withdrawn'], positive: ['Fail', 'Withdrawn'] },
  ],
};

function schemaError(fn: () => unknown): SchemaError {
  try {
    fn();
  } catch (err) {
    if (err instanceof SchemaError) return err;
    throw err;
  }
  assert.fail('expected a SchemaError');
}

function withColumns(...columns: unknown[]): unknown {
  return { version: 1, columns };
}

describe('parseSchema', () => {
  it('accepts every column type and returns an equal schema', () => {
    assert.deepEqual(parseSchema(JSON.parse(JSON.stringify(GOOD)), 's.json'), GOOD);
  });

  it('does not add absent optional fields', () => {
    const s = parseSchema(withColumns({ name: 'x', type: 'numeric' }), 's.json');
    assert.deepEqual(s, { version: 1, columns: [{ name: 'x', type: 'numeric' }] });
    assert.equal('name' in s, false);
  });

  it('rejects a non-object, a wrong version and missing or empty columns, naming the file', () => {
    assert.match(schemaError(() => parseSchema([], 's.json')).message, /^s\.json: a schema must be a JSON object, got an array/);
    assert.match(schemaError(() => parseSchema({ version: 2, columns: [] }, 's.json')).message, /^s\.json: "version" must be 1, got number 2/);
    assert.match(schemaError(() => parseSchema({ version: 1 }, 's.json')).message, /"columns" must be an array/);
    assert.match(schemaError(() => parseSchema({ version: 1, columns: [] }, 's.json')).message, /"columns" is empty/);
    assert.match(schemaError(() => parseSchema({ version: 1, columns: [], colums: [] }, 's.json')).message, /unknown top-level key "colums"/);
  });

  it('names the column index and name for an unknown type', () => {
    const err = schemaError(() => parseSchema(withColumns({ name: 'a', type: 'id' }, { name: 'score', type: 'float' }), 's.json'));
    assert.equal(
      err.message,
      's.json, column "score": columns[1]: unknown type the string "float"; expected one of id, numeric, categorical, ordinal, label, ignore',
    );
    assert.deepEqual(err.location, { file: 's.json', column: 'score' });
  });

  it('rejects a column without a name, giving its index', () => {
    const err = schemaError(() => parseSchema(withColumns({ type: 'id' }), 's.json'));
    assert.match(err.message, /^s\.json: columns\[0\] needs a non-empty string "name", got undefined/);
  });

  it('rejects a misspelt key for the column type', () => {
    const err = schemaError(() => parseSchema(withColumns({ name: 'r', type: 'categorical', categores: ['a'] }), 's.json'));
    assert.match(err.message, /columns\[0\]: unknown key "categores" for type "categorical" \(allowed: name, type, categories\)/);
  });

  it('rejects a duplicate column, naming both positions', () => {
    const err = schemaError(() => parseSchema(withColumns({ name: 'a', type: 'id' }, { name: 'a', type: 'numeric' }), 's.json'));
    assert.match(err.message, /column "a": columns\[1\]: duplicate column; "a" is already columns\[0\]/);
  });

  it('rejects a second label column', () => {
    const label = (name: string): unknown => ({ name, type: 'label', classes: ['0', '1'] });
    const err = schemaError(() => parseSchema(withColumns(label('y'), { name: 'x', type: 'numeric' }, label('z')), 's.json'));
    assert.match(err.message, /columns\[2\]: a second label column; columns\[0\] is already the label/);
  });

  it('rejects an ordinal without levels and one with a repeated level', () => {
    assert.match(
      schemaError(() => parseSchema(withColumns({ name: 'band', type: 'ordinal' }), 's.json')).message,
      /column "band": columns\[0\]: an ordinal column needs "levels"/,
    );
    assert.match(
      schemaError(() => parseSchema(withColumns({ name: 'band', type: 'ordinal', levels: ['a', 'b', 'a'] }), 's.json')).message,
      /"levels" lists "a" twice/,
    );
  });

  it('rejects a label whose positive class is not among its classes, or that has no negative class', () => {
    const notIn = schemaError(() =>
      parseSchema(withColumns({ name: 'y', type: 'label', classes: ['Pass', 'Fail'], positive: ['Withdrawn'] }), 's.json'),
    );
    assert.match(notIn.message, /column "y": .*positive class "Withdrawn" is not in "classes" \(Pass, Fail\)/);
    const all = schemaError(() =>
      parseSchema(withColumns({ name: 'y', type: 'label', classes: ['a', 'b'], positive: ['b', 'a'] }), 's.json'),
    );
    assert.match(all.message, /"positive" lists every class/);
  });

  it('rejects a label with fewer than two classes and non-string list items', () => {
    assert.match(
      schemaError(() => parseSchema(withColumns({ name: 'y', type: 'label', classes: ['a'] }), 's.json')).message,
      /"classes" needs at least 2 values, got 1/,
    );
    assert.match(
      schemaError(() => parseSchema(withColumns({ name: 'y', type: 'label', classes: ['a', 2] }), 's.json')).message,
      /"classes"\[1\] must be a string, got number 2/,
    );
  });

  it('rejects a bad "missing" policy', () => {
    const err = schemaError(() => parseSchema(withColumns({ name: 'x', type: 'numeric', missing: 'skip' }), 's.json'));
    assert.match(err.message, /"missing" must be "allow" or "error", got the string "skip"/);
  });
});

describe('loadSchema and saveSchema', () => {
  it('round-trips a schema through a pretty-printed file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'edufed-schema-'));
    try {
      const path = join(dir, 'schema.json');
      saveSchema(path, GOOD);
      const text = readFileSync(path, 'utf8');
      assert.match(text, /^\{\n {2}"version": 1,/);
      assert.ok(text.endsWith('}\n'));
      assert.deepEqual(loadSchema(path), GOOD);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names the file when it is missing or not JSON', () => {
    const dir = mkdtempSync(join(tmpdir(), 'edufed-schema-'));
    try {
      const missing = join(dir, 'none.json');
      assert.match(schemaError(() => loadSchema(missing)).message, /none\.json: schema file not found/);
      const broken = join(dir, 'broken.json');
      writeFileSync(broken, '{"version": 1, "columns": [');
      assert.match(schemaError(() => loadSchema(broken)).message, /broken\.json: not valid JSON: /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('writes nothing when the schema is invalid', () => {
    const dir = mkdtempSync(join(tmpdir(), 'edufed-schema-'));
    try {
      const path = join(dir, 'bad.json');
      const bad: Schema = { version: 1, columns: [{ name: 'y', type: 'label', classes: ['a', 'b'], positive: ['c'] }] };
      schemaError(() => saveSchema(path, bad));
      assert.equal(existsSync(path), false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
