import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { readSqlite } from './sqlite.js';
import { expectDataError as dataError } from './expect-data-error.js';

let dir = '';
let dbPath = '';

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'edufed-sqlite-'));
  dbPath = join(dir, 'lms.db');
  const db = new Database(dbPath);
  db.exec(`
    CREATE TABLE learners (id INTEGER PRIMARY KEY, name TEXT, score REAL, region TEXT, big INTEGER);
    INSERT INTO learners VALUES (1, 'Ada', 91.5, 'North', 9007199254740993);
    INSERT INTO learners VALUES (2, 'Bo', NULL, NULL, 0);
    CREATE TABLE files (id INTEGER, data BLOB);
    INSERT INTO files VALUES (1, x'00ff');
  `);
  db.close();
});

after(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('readSqlite', () => {
  it('reads a whole table with values as strings, NULL as "" and 64-bit integers exactly', () => {
    const t = readSqlite(dbPath, 'learners');
    assert.equal(t.source, `sqlite:${dbPath}#learners`);
    assert.deepEqual(t.header, ['id', 'name', 'score', 'region', 'big']);
    assert.deepEqual(t.rows, [
      ['1', 'Ada', '91.5', 'North', '9007199254740993'],
      ['2', 'Bo', '', '', '0'],
    ]);
  });

  it('reads the result of a SELECT query', () => {
    const t = readSqlite(dbPath, 'SELECT name, score * 2 AS doubled FROM learners WHERE id = 1');
    assert.deepEqual(t.header, ['name', 'doubled']);
    assert.deepEqual(t.rows, [['Ada', '183']]);
    assert.match(t.source, /#SELECT name, score \* 2 AS doubled/);
  });

  it('refuses a statement that returns no rows and leaves the database unchanged', () => {
    const err = dataError(() => readSqlite(dbPath, 'WITH x AS (SELECT 1) DELETE FROM learners'));
    assert.match(err.message, /lms\.db#WITH x AS .*: the statement returns no rows/);
    assert.equal(readSqlite(dbPath, 'learners').rows.length, 2);
  });

  it('names the file when it does not exist', () => {
    const missing = join(dir, 'missing.db');
    assert.equal(dataError(() => readSqlite(missing, 'learners')).message, `${missing}: SQLite database file not found`);
  });

  it('names the missing table and lists those that exist', () => {
    const err = dataError(() => readSqlite(dbPath, 'students'));
    assert.equal(err.message, `${dbPath}: no table or view named "students" (tables: files, learners)`);
  });

  it('rejects a name that is neither an identifier nor a query', () => {
    const err = dataError(() => readSqlite(dbPath, 'learners; DROP TABLE learners'));
    assert.match(err.message, /is neither a table name .* nor a SELECT query/);
  });

  it('reports a broken query with the SQLite message', () => {
    const err = dataError(() => readSqlite(dbPath, 'SELECT nope FROM learners'));
    assert.match(err.message, /^sqlite:.*lms\.db#SELECT nope FROM learners: the query is invalid: no such column: nope/);
  });

  it('rejects duplicate result column names and BLOB values, naming the column', () => {
    const dup = dataError(() => readSqlite(dbPath, 'SELECT id, id FROM learners'));
    assert.match(dup.message, /column "id": two result columns have this name/);
    const blob = dataError(() => readSqlite(dbPath, 'files'));
    assert.match(blob.message, /#files, row 1, column "data": binary \(BLOB\) values/);
  });

  it('names a file that is not an SQLite database', () => {
    const notDb = join(dir, 'notes.db');
    writeFileSync(notDb, 'just some text, certainly not a database header............');
    const err = dataError(() => readSqlite(notDb, 'learners'));
    assert.match(err.message, /notes\.db: .*(not a database|SQLite)/);
  });
});
