/**
 * `psi`: ECDH-PSI end to end, both roles of session.ts in this process over worker threads (the
 * compute the PSI module provides for millions of identifiers): 1M × 1M identifiers with the
 * x25519 suite, 100k × 100k with the ristretto255 reference suite, the exponentiation rate against
 * the native X25519 ceiling measured in the same run, and peak RSS. 10M × 10M is opt-in
 * (`EDUFED_BENCH_PSI_10M=1`): it takes too long for a routine run.
 */
import { diffieHellman, generateKeyPairSync } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { EduFedError } from '../src/core/errors.js';
import { createJobSalt, resolvePsiParams, workerCompute, type IdSource, type PsiSuite } from '../src/federation/vertical/psi/index.js';
import { runPsiPair } from '../src/cli/psi-command.js';
import type { Benchmark, BenchContext, BenchSection, TargetResult } from './benchmark.js';
import { count, fixed, mdTable, verdict } from './format.js';

/** Issue target: 1M × 1M end to end. */
const TARGET_MS = 3 * 60 * 1000;
/** Share of A's learners that B also has. */
const OVERLAP = 0.7;

/**
 * n synthetic learner ids, computed on demand so the benchmark itself holds no id strings; B's
 * ids start `(1 − OVERLAP)·n` later than A's, so exactly `OVERLAP·n` are shared.
 */
function syntheticIds(n: number, offset: number): IdSource {
  return { rows: n, columns: ['learner'], value: (row) => `learner-${row + offset}` };
}

/** Native X25519 shared-secret computations per second in one thread (node:crypto, OpenSSL). */
function nativeX25519Rate(ms: number): number {
  const keys = Array.from({ length: 16 }, () => generateKeyPairSync('x25519'));
  let n = 0;
  const t0 = performance.now();
  let now = t0;
  while (now - t0 < ms) {
    for (let i = 0; i < 256; i++) {
      const a = keys[i & 15];
      const b = keys[(i + 1) & 15];
      if (a !== undefined && b !== undefined) diffieHellman({ privateKey: a.privateKey, publicKey: b.publicKey });
    }
    n += 256;
    now = performance.now();
  }
  return (n * 1000) / (now - t0);
}

interface PsiRun {
  readonly suite: PsiSuite;
  readonly n: number;
  readonly ms: number;
  readonly size: number | undefined;
  readonly expected: number;
  /** Group exponentiations (hash-and-blind and blind, both sides) per second. */
  readonly rate: number;
  /** Largest RSS sampled during the run, and before it. */
  readonly peakRss: number;
  readonly baseRss: number;
}

async function runOne(suite: PsiSuite, n: number, threads: number, log: (line: string) => void): Promise<PsiRun> {
  const offset = Math.round((1 - OVERLAP) * n);
  const params = resolvePsiParams({ suite, reveal: 'both', columns: ['learner'], salt: createJobSalt() });
  const compute = await workerCompute({ suite, threads });
  const baseRss = process.memoryUsage.rss();
  let peakRss = baseRss;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
  }, 100);
  let lastTenth = -1;
  try {
    const r = await runPsiPair(syntheticIds(n, 0), syntheticIds(n, offset), params, compute, {
      onProgress: (p) => {
        if (p.role !== 'feature-holder' || p.phase !== 'own' || p.total === undefined) return;
        const tenth = Math.floor((10 * p.done) / p.total);
        if (tenth > lastTenth) {
          lastTenth = tenth;
          log(`  ${suite} ${count(n)}: feature holder ${tenth * 10}% sent`);
        }
      },
    });
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
    // Each side hashes and blinds its own ids and blinds the peer's: 4n exponentiations.
    return { suite, n, ms: r.ms, size: r.a.size, expected: n - offset, rate: (4 * n * 1000) / r.ms, peakRss, baseRss };
  } finally {
    clearInterval(sampler);
    await compute.close();
  }
}

const mib = (b: number): string => `${fixed(b / 2 ** 20, 0)} MiB`;

async function run(ctx: BenchContext): Promise<BenchSection> {
  const threads = availableParallelism();
  const big = ctx.quick ? 100_000 : 1_000_000;
  const reference = ctx.quick ? 20_000 : 100_000;
  const with10M = process.env['EDUFED_BENCH_PSI_10M'] === '1' && !ctx.quick;

  const ceiling = nativeX25519Rate(2000);
  ctx.log(`  native X25519: ${count(Math.round(ceiling))}/s per thread`);
  const plan: [PsiSuite, number][] = [['x25519', big], ['ristretto255', reference], ...(with10M ? [['x25519', 10_000_000] as [PsiSuite, number]] : [])];
  const runs: PsiRun[] = [];
  for (const [suite, n] of plan) {
    ctx.log(`  ${suite} ${count(n)} × ${count(n)}…`);
    const r = await runOne(suite, n, threads, ctx.log);
    ctx.log(`  ${suite} ${count(n)}: ${fixed(r.ms / 1000, 1)} s, ${count(Math.round(r.rate))} exp/s, intersection ${r.size ?? '?'} (expected ${r.expected}), peak RSS ${mib(r.peakRss)}`);
    if (r.size !== r.expected) throw new EduFedError('INTERNAL', `PSI ${suite} ${n}: intersection ${r.size ?? 'unknown'}, expected ${r.expected}`);
    runs.push(r);
  }

  const main = runs[0];
  const targets: TargetResult[] = [];
  if (main !== undefined && !ctx.quick) {
    targets.push({ target: 'issue 5: PSI 1M × 1M identifiers end to end ≤ 3 min (x25519, 2 cores)', measured: `${fixed(main.ms / 1000, 1)} s`, met: main.ms <= TARGET_MS });
  }
  const big10 = runs.find((r) => r.n === 10_000_000);
  if (big10 !== undefined) {
    targets.push({ target: 'issue 5: PSI 10M × 10M within bounded memory (RSS reported)', measured: `${fixed(big10.ms / 1000, 0)} s, peak RSS ${mib(big10.peakRss)}`, met: true });
  }

  const rows = runs.map((r) => [
    r.suite,
    `${count(r.n)} × ${count(r.n)}`,
    count(r.expected),
    `${fixed(r.ms / 1000, 1)} s`,
    count(Math.round(r.rate)),
    `${fixed((100 * r.rate) / (ceiling * threads), 0)} %`,
    `${mib(r.baseRss)} → ${mib(r.peakRss)}`,
  ]);
  const body = [
    `Both PSI roles (session.ts) in one process, messages handed over on the next event-loop turn as a relay would (sealed, not encoded to the wire), ` +
      `group operations on ${threads} worker threads (\`workerCompute\`) shared by the two roles; reveal \`both\`, one ID column, ` +
      `synthetic ids of which ${fixed(OVERLAP * 100, 0)} % are shared, every intersection checked against the known size. ` +
      `Rate = 4n exponentiations (each side hashes and blinds its own identifiers and blinds the peer's) per second of wall time, ` +
      `hashing, sealing, indexing and shuffling included. The ceiling is node:crypto's X25519 (\`diffieHellman\`) in a loop in this run: ` +
      `${count(Math.round(ceiling))}/s per thread, ${count(Math.round(ceiling * threads))}/s on ${threads} threads.`,
    '',
    mdTable(['suite', 'identifiers', 'intersection', 'wall time', 'exponentiations/s', 'of native ceiling', 'RSS before → peak'], rows, ['l', 'r', 'r', 'r', 'r', 'r', 'r']),
    '',
    main !== undefined && !ctx.quick
      ? `**Target** (issue): 1M × 1M end to end ≤ 3 min: ${fixed(main.ms / 1000, 1)} s, ${verdict(main.ms <= TARGET_MS)}.`
      : '',
    '',
    big10 !== undefined
      ? `10M × 10M: ${fixed(big10.ms / 1000, 0)} s, peak RSS ${mib(big10.peakRss)}.`
      : '10M × 10M is not run routinely (set `EDUFED_BENCH_PSI_10M=1`); no measurement of it is recorded here.',
  ].join('\n');
  return { body, targets };
}

/** The PSI benchmark. */
export const psiBenchmark: Benchmark = {
  name: 'psi',
  title: 'Vertical FL: private set intersection',
  run,
};
