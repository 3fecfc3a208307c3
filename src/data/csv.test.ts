import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { ConfigError } from '../core/errors.js';
import { projectRoot } from '../core/paths.js';
import { parseCsv, readCsv, toCsv } from './csv.js';
import type { RawTable } from './table.js';
import { expectDataError as dataError } from './expect-data-error.js';

/** The embedded OULAD tables (gzipped, byte-identical to the OU distribution: quoted fields, CRLF). */
function oulad(name: string): string {
  return join(projectRoot(), 'data', 'oulad', `${name}.csv.gz`);
}
const ouladMissing = existsSync(oulad('studentInfo')) ? false : 'embedded OULAD data not found under data/oulad';

function parse(text: string, delimiter?: string): RawTable {
  return parseCsv(text, delimiter === undefined ? { source: 'in.csv' } : { source: 'in.csv', delimiter });
}

describe('parseCsv', () => {
  it('reads header and rows of a plain LF file with a final newline', () => {
    const t = parse('a,b\n1,2\n3,4\n');
    assert.deepEqual(t, { source: 'in.csv', header: ['a', 'b'], rows: [['1', '2'], ['3', '4']] });
  });

  it('accepts CRLF line ends and a missing final newline alike', () => {
    const crlf = parse('a,b\r\n1,2\r\n3,4');
    const lf = parse('a,b\n1,2\n3,4\n');
    assert.deepEqual(crlf.rows, lf.rows);
  });

  it('strips a UTF-8 byte-order mark from the first header name', () => {
    const t = parse('\uFEFFid,x\n1,2\n');
    assert.deepEqual(t.header, ['id', 'x']);
  });

  it('unquotes quoted fields, turns "" into a quote and keeps embedded delimiters and line breaks', () => {
    const t = parse('a,b,c\n"x,y","say ""hi""","line1\r\nline2\nline3\rline4"\n');
    assert.deepEqual(t.rows, [['x,y', 'say "hi"', 'line1\r\nline2\nline3\rline4']]);
  });

  it('reads empty fields, including a trailing empty field and an empty quoted field, as ""', () => {
    const t = parse('a,b,c\n,,\n"",x,');
    assert.equal(t.rows.length, 2);
    assert.deepEqual(t.rows[0], ['', '', '']);
    assert.deepEqual(t.rows[1], ['', 'x', '']);
  });

  it('skips blank lines instead of reading them as rows', () => {
    const t = parse('a,b\n\n1,2\r\n\r\n3,4\n\n');
    assert.deepEqual(t.rows, [['1', '2'], ['3', '4']]);
  });

  it('honours another delimiter such as ";" or tab', () => {
    assert.deepEqual(parse('a;b\n1;"2;3"\n', ';').rows, [['1', '2;3']]);
    assert.deepEqual(parse('a\tb\n1\t2\n', '\t').rows, [['1', '2']]);
  });

  it('returns no rows for a header-only file', () => {
    assert.deepEqual(parse('a,b\n').rows, []);
  });
});

describe('parseCsv errors', () => {
  it('rejects an empty file, naming it', () => {
    for (const text of ['', '\uFEFF', '\n\r\n']) {
      const err = dataError(() => parse(text));
      assert.match(err.message, /^in\.csv: empty file/);
    }
  });

  it('names file, row and both field counts when a row is short', () => {
    const rows = Array.from({ length: 16 }, () => 'a,b,c,d,e,f,g,h,i,j,k,l').join('\n');
    const err = dataError(() => parse(`${'h1,h2,h3,h4,h5,h6,h7,h8,h9,h10,h11,h12'}\n${rows}\n1,2,3\n`));
    assert.equal(err.message, 'in.csv, row 17: has 3 fields, header has 12 (line 18)');
    assert.deepEqual(err.location, { file: 'in.csv', row: 17 });
  });

  it('hints at an unquoted delimiter when a row has too many fields', () => {
    const err = dataError(() => parse('name,score\nSmith, J.,12\n'));
    assert.match(err.message, /in\.csv, row 1: has 3 fields, header has 2 .*unquoted ','/);
  });

  it('reports an unterminated quote at the row and line where it started', () => {
    const err = dataError(() => parse('a,b\n1,2\n3,"open\n4,5\n6,7\n'));
    assert.match(err.message, /^in\.csv, row 2, column "b": unterminated quoted value starting on line 3/);
  });

  it('rejects a quote in the middle of an unquoted field, naming row and column', () => {
    const err = dataError(() => parse('a,b\n1,2\n3,4 "inch"\n'));
    assert.match(err.message, /^in\.csv, row 2, column "b": '"' inside an unquoted value \(line 3\)/);
  });

  it('rejects text after a closing quote', () => {
    const err = dataError(() => parse('a,b\n"x"y,2\n'));
    assert.match(err.message, /^in\.csv, row 1, column "a": unexpected "y" after the closing quote/);
  });

  it('rejects duplicate header names, naming the column and both positions', () => {
    const err = dataError(() => parse('id,score,id\n1,2,3\n'));
    assert.match(err.message, /^in\.csv, row 0, column "id": duplicate column name \(header columns 1 and 3\)/);
  });

  it('rejects an empty header name, giving its position', () => {
    const err = dataError(() => parse('id,,score\n1,2,3\n'));
    assert.match(err.message, /^in\.csv, row 0: header column 2 has an empty name/);
  });

  it('detects a ";"-, tab- or "|"-delimited file read with the default delimiter', () => {
    assert.match(dataError(() => parse('a;b;c\n1;2;3\n')).message, /looks like ';'-delimited; pass --delimiter ';'/);
    assert.match(dataError(() => parse('a\tb\n1\t2\n')).message, /looks like '\\t'-delimited; pass --delimiter '\\t'/);
    assert.match(dataError(() => parse('a|b\n1|2\n')).message, /looks like '\|'-delimited; pass --delimiter '\|'/);
  });

  it('detects a comma-delimited file read with --delimiter ";"', () => {
    assert.match(dataError(() => parse('a,b\n1,2\n', ';')).message, /looks like ','-delimited/);
  });

  it('accepts a genuine one-column file', () => {
    assert.deepEqual(parse('score\n1\n""\n').rows, [['1'], ['']]);
  });

  it('rejects a multi-character delimiter as a configuration error', () => {
    assert.throws(() => parse('a,b\n', ';;'), (err: unknown) => err instanceof ConfigError && /delimiter/.test(err.message));
  });
});

describe('toCsv', () => {
  it('quotes only values containing a delimiter, quote or line break', () => {
    const csv = toCsv({ source: 's', header: ['a', 'b'], rows: [['x,y', 'plain'], ['say "hi"', 'a\nb']] });
    assert.equal(csv, 'a,b\r\n"x,y",plain\r\n"say ""hi""","a\nb"\r\n');
  });

  it('round-trips any table through parseCsv (property)', () => {
    const cell = fc.string({ unit: fc.constantFrom('a', 'b', ',', '"', '\n', '\r', ' ', 'é', ';') });
    const tableArb = fc
      .uniqueArray(fc.string({ minLength: 1, unit: fc.constantFrom('x', 'y', 'z', ',', '"', ' ') }), {
        minLength: 1,
        maxLength: 5,
      })
      .filter((h) => h.every((name) => name.trim() !== '') && !(h.length === 1 && /[;\t|]/.test(h[0] ?? '')))
      .chain((header) =>
        fc.record({
          header: fc.constant(header),
          rows: fc.array(fc.array(cell, { minLength: header.length, maxLength: header.length }), { maxLength: 8 }),
        }),
      );
    fc.assert(
      fc.property(tableArb, ({ header, rows }) => {
        const t: RawTable = { source: 'p.csv', header, rows };
        assert.deepEqual(parseCsv(toCsv(t), { source: 'p.csv' }), t);
      }),
      { numRuns: 300 },
    );
  });
});

describe('readCsv', () => {
  it('reads the real OULAD studentAssessment table (5.7 MB, quoted, CRLF) fully', { skip: ouladMissing }, () => {
    // Speed is measured by the benchmarks, not asserted here.
    const t = readCsv(oulad('studentAssessment'));
    assert.deepEqual(t.header, ['id_assessment', 'id_student', 'date_submitted', 'is_banked', 'score']);
    assert.equal(t.rows.length, 173_912);
    assert.deepEqual(t.rows[0], ['1752', '11391', '18', '0', '78']);
  });

  it('reads the other OULAD tables with their row counts and empty cells', { skip: ouladMissing }, () => {
    const info = readCsv(oulad('studentInfo'));
    assert.equal(info.rows.length, 32_593);
    assert.equal(info.header.length, 12);
    assert.deepEqual(info.rows[0], [
      'AAA', '2013J', '11391', 'M', 'East Anglian Region', 'HE Qualification', '90-100%', '55<=', '0', '240', 'N', 'Pass',
    ]);
    const reg = readCsv(oulad('studentRegistration'));
    assert.deepEqual(reg.rows[0], ['AAA', '2013J', '11391', '-159', '']);
    assert.equal(reg.rows.length, 32_593);
    assert.equal(readCsv(oulad('courses')).rows.length, 22);
    assert.equal(readCsv(oulad('assessments')).rows.length, 206);
  });

  it('gunzips a .gz file and uses the path as the source', () => {
    const dir = mkdtempSync(join(tmpdir(), 'edufed-csv-'));
    try {
      const path = join(dir, 'small.csv.gz');
      writeFileSync(path, gzipSync(Buffer.from('a;b\r\n1;2\r\n')));
      const t = readCsv(path, { delimiter: ';' });
      assert.deepEqual(t, { source: path, header: ['a', 'b'], rows: [['1', '2']] });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names the file when it is missing, not UTF-8, or not gzip', () => {
    const dir = mkdtempSync(join(tmpdir(), 'edufed-csv-'));
    try {
      const missing = join(dir, 'nope.csv');
      assert.match(dataError(() => readCsv(missing)).message, new RegExp(`^${missing}: file not found`));
      const latin1 = join(dir, 'latin1.csv');
      writeFileSync(latin1, Buffer.from([0x61, 0x0a, 0xe9, 0x0a]));
      assert.match(dataError(() => readCsv(latin1)).message, /latin1\.csv: not valid UTF-8/);
      const fake = join(dir, 'fake.csv.gz');
      writeFileSync(fake, 'a,b\n');
      assert.match(dataError(() => readCsv(fake)).message, /fake\.csv\.gz: .*not valid gzip/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
