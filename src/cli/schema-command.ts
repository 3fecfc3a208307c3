/**
 * `edufed schema infer FILE.csv`: writes an editable schema for a platform's own table.
 */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError } from '../core/errors.js';
import { readCsv } from '../data/csv.js';
import { inferSchema } from '../data/infer.js';
import { saveSchema } from '../data/schema-io.js';
import { flagNumber, flagString } from './args.js';

const HELP = `edufed schema infer FILE.csv [--out FILE.schema.json] [--label COLUMN] [--max-categories N] [--delimiter C] [--force]

Reads the CSV, guesses each column's type (id, numeric, categorical, ordinal, label, ignore) and writes
a JSON schema to edit: fix types, order the levels of ordinal columns, mark the label.
`;

/** Runs `edufed schema ...`; returns the exit code. */
export function schemaCommand(argv: readonly string[]): number {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h') {
    process.stdout.write(HELP);
    return sub === undefined ? 2 : 0;
  }
  if (sub !== 'infer') throw new ConfigError('schema', `unknown subcommand "${sub}" (available: infer)`);
  const { values, positionals } = parseArgs({
    args: rest,
    options: {
      out: { type: 'string' },
      label: { type: 'string' },
      'max-categories': { type: 'string' },
      delimiter: { type: 'string' },
      force: { type: 'boolean' },
    },
    allowPositionals: true,
    strict: true,
  });
  const file = positionals[0];
  if (file === undefined) throw new ConfigError('FILE', 'give the CSV file to read');
  const delimiter = flagString(values, 'delimiter');
  const raw = delimiter !== undefined ? readCsv(file, { delimiter }) : readCsv(file);
  const label = flagString(values, 'label');
  const schema = inferSchema(raw, {
    ...(label !== undefined ? { label } : {}),
    maxCategories: flagNumber(values, 'max-categories', 50, { integer: true, min: 1 }),
  });
  const out = flagString(values, 'out') ?? `${file.replace(/\.(csv|gz)$/i, '').replace(/\.csv$/i, '')}.schema.json`;
  if (existsSync(out) && values.force !== true) throw new ConfigError('--out', `${out} exists; pass --force to overwrite`);
  saveSchema(out, schema);
  const counts = new Map<string, number>();
  for (const c of schema.columns) counts.set(c.type, (counts.get(c.type) ?? 0) + 1);
  process.stdout.write(`Wrote ${out}: ${raw.rows.length} rows, ${[...counts].map(([t, n]) => `${n} ${t}`).join(', ')}. Edit it, then:\n` +
    `  edufed simulate --csv ${file} --schema ${out} --partition COLUMN\n`);
  return 0;
}
