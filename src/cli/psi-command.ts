/**
 * `edufed psi`: private set intersection of two CSV files on one machine, both PSI roles in this
 * process (A is the label holder, B the feature holder), to try PSI before deploying it.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError } from '../core/errors.js';
import { readCsv } from '../data/csv.js';
import {
  createJobSalt,
  FeatureHolderPsi,
  idSourceFromRawTable,
  LabelHolderPsi,
  PSI_SUITES,
  resolvePsiParams,
  workerCompute,
  type IdSource,
  type PsiCompute,
  type PsiPair,
  type PsiParams,
  type PsiProgress,
  type PsiRelayed,
  type PsiResult,
} from '../federation/vertical/psi/index.js';
import { flagChoice, flagOptionalNumber, flagString } from './args.js';

const HELP = `edufed psi --a FILE.csv --b FILE.csv --id COLUMN[,COLUMN] [flags]

Runs ECDH-PSI between two CSV files in this process (A as the label holder, B as the feature holder)
and prints the intersection size. Identifiers are normalised (trimmed, case-folded, spaces collapsed)
and salted for this run; with several columns a row matches on any of them, in the order given.

  --reveal both|cardinality    both: each side learns its matching rows; cardinality: the size only (default both)
  --suite x25519|ristretto255  exponentiation: native X25519 (fast) or the ristretto255 reference (default x25519)
  --out FILE                   with --reveal both: write A's matching row numbers (1 = first data row), one a line
  --threads N                  worker threads (default: the machine's cores)
  --quiet                      no progress lines
`;

/** The reveal options `edufed psi` offers (label-holder only is the same as both when one person runs both sides). */
const CLI_REVEALS = ['both', 'cardinality'] as const;

/** The two sides' results of an in-process PSI. */
export interface PsiPairOutcome {
  /** Side A, the label holder. */
  readonly a: PsiResult;
  /** Side B, the feature holder. */
  readonly b: PsiResult;
  /** Wall time of the protocol (compute start-up excluded). */
  readonly ms: number;
}

const PAIR: PsiPair = { jobId: 'edufed-psi', labelHolderId: 'a', featureHolderId: 'b' };

/**
 * Runs both PSI roles in this process, each message handed to the other role on the next turn of
 * the event loop (as a relay would), and returns both results.
 * @throws {EduFedError} when either role fails (the other is cut off too).
 */
export async function runPsiPair(
  a: IdSource,
  b: IdSource,
  params: PsiParams,
  compute: PsiCompute,
  options: { readonly onProgress?: (p: PsiProgress) => void; readonly batchSize?: number } = {},
): Promise<PsiPairOutcome> {
  const extra = { ...(options.onProgress !== undefined ? { onProgress: options.onProgress } : {}), ...(options.batchSize !== undefined ? { batchSize: options.batchSize } : {}) };
  // The roles reference each other; both exist before the first message is delivered.
  let feature: FeatureHolderPsi | undefined;
  const label = new LabelHolderPsi({ pair: PAIR, params, ids: a, compute, send: (m: PsiRelayed) => void setImmediate(() => feature?.deliver(m)), ...extra });
  feature = new FeatureHolderPsi({ pair: PAIR, params, ids: b, compute, send: (m: PsiRelayed) => void setImmediate(() => label.deliver(m)), ...extra });
  const t0 = performance.now();
  const [l, f] = await Promise.allSettled([label.run(), feature.run()]);
  const ms = performance.now() - t0;
  if (l.status === 'rejected') throw l.reason;
  if (f.status === 'rejected') throw f.reason;
  return { a: l.value, b: f.value, ms };
}

/** Runs `edufed psi`; returns the exit code. */
export async function psiCommand(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      a: { type: 'string' },
      b: { type: 'string' },
      id: { type: 'string' },
      reveal: { type: 'string' },
      suite: { type: 'string' },
      out: { type: 'string' },
      threads: { type: 'string' },
      quiet: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help === true) {
    process.stdout.write(HELP);
    return 0;
  }
  const fileA = flagString(values, 'a');
  const fileB = flagString(values, 'b');
  const idFlag = flagString(values, 'id');
  if (fileA === undefined || fileB === undefined || idFlag === undefined) {
    process.stderr.write(HELP);
    throw new ConfigError(fileA === undefined ? '--a' : fileB === undefined ? '--b' : '--id', 'is required');
  }
  const columns = idFlag.split(',').map((c) => c.trim()).filter((c) => c.length > 0);
  if (columns.length === 0) throw new ConfigError('--id', 'give at least one ID column');
  const reveal = flagChoice(values, 'reveal', CLI_REVEALS, 'both');
  const suite = flagChoice(values, 'suite', PSI_SUITES, 'x25519');
  const out = flagString(values, 'out');
  if (out !== undefined && reveal !== 'both') throw new ConfigError('--out', 'needs --reveal both (with cardinality no side learns rows)');
  const threads = flagOptionalNumber(values, 'threads', { integer: true, min: 1, max: 256 });
  const quiet = values.quiet === true;

  const say = (line: string): void => {
    if (!quiet) process.stderr.write(`${line}\n`);
  };
  const ids = { a: idSourceFromRawTable(readCsv(fileA), columns), b: idSourceFromRawTable(readCsv(fileB), columns) };
  const params = resolvePsiParams({ suite, reveal, columns, salt: createJobSalt() });
  say(`psi: A ${fileA} (${ids.a.rows} rows), B ${fileB} (${ids.b.rows} rows), columns ${columns.join(', ')}, suite ${suite}, reveal ${reveal}`);
  const compute = await workerCompute({ suite, ...(threads !== undefined ? { threads } : {}) });
  try {
    // One line per tenth of each side's own rows, so large files show progress without flooding.
    const shown = new Map<string, number>();
    const onProgress = (p: PsiProgress): void => {
      if (p.phase !== 'own' || p.total === undefined || p.total === 0) return;
      const key = `${p.role} ${p.stage}`;
      const tenth = Math.floor((10 * p.done) / p.total);
      if ((shown.get(key) ?? -1) >= tenth) return;
      shown.set(key, tenth);
      say(`psi: ${p.role === 'label-holder' ? 'A' : 'B'} column ${p.column}: ${p.done}/${p.total} rows sent`);
    };
    const r = await runPsiPair(ids.a, ids.b, params, compute, { onProgress });
    say(`psi: done in ${(r.ms / 1000).toFixed(2)} s`);
    const size = r.a.size ?? r.b.size;
    process.stdout.write(`intersection: ${size ?? 'unknown'}\n`);
    if (out !== undefined) {
      const rows = [...(r.a.rows ?? [])].sort((x, y) => x - y);
      writeFileSync(out, rows.map((row) => `${row + 1}\n`).join(''));
      say(`psi: wrote ${rows.length} row numbers of A to ${out}`);
    }
    return 0;
  } finally {
    await compute.close();
  }
}
