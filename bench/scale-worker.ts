/**
 * One size of the `scale` benchmark, alone in a fresh Node process so that its peak RSS is its own:
 * `node dist/bench/scale-worker.js PARTICIPANTS ROUNDS iid|dirichlet [ALPHA]`. Prints one line of
 * JSON ({@link ScaleSample}) to stdout.
 */
import { ConfigError } from '../src/core/errors.js';
import { buildOulad } from '../src/data/datasets/oulad.js';
import { partitionRaw, type PartitionSpec } from '../src/simulation/partition-raw.js';
import { simulateHorizontal } from '../src/simulation/simulate.js';

/** What one worker measures. */
export interface ScaleSample {
  readonly requested: number;
  /** Participants that actually took part (Dirichlet may leave some with no rows). */
  readonly participants: number;
  readonly partition: string;
  /** Rows of the whole table, shared among the participants. */
  readonly rows: number;
  readonly buildMs: number;
  readonly partitionMs: number;
  /** Federated job time before round 1: statistics from every participant, encoder agreement. */
  readonly statsMs: number;
  /** Wall time of each round (round 1 includes every participant's setup: encoding its rows). */
  readonly roundMs: readonly number[];
  readonly federatedMs: number;
  /** process.resourceUsage().maxRSS: peak resident set size in KiB. */
  readonly maxRssKiB: number;
  /** Final accuracy and AUC on the participants' test splits (a sanity check, not a target). */
  readonly accuracy: number;
  readonly auc: number;
}

function intArg(s: string | undefined, name: string): number {
  const v = Number(s);
  if (!Number.isInteger(v) || v < 1) throw new ConfigError(name, `must be a positive integer, got ${String(s)}`);
  return v;
}

async function main(argv: readonly string[]): Promise<ScaleSample> {
  const requested = intArg(argv[0], 'participants');
  const rounds = intArg(argv[1], 'rounds');
  const kind = argv[2] ?? 'iid';
  const seed = 42;
  let spec: PartitionSpec;
  if (kind === 'iid') spec = { kind: 'iid', participants: requested, seed };
  else if (kind === 'dirichlet') spec = { kind: 'dirichlet', participants: requested, alpha: Number(argv[3] ?? '0.5'), seed };
  else throw new ConfigError('partition', `must be iid or dirichlet, got ${kind}`);

  const t0 = performance.now();
  const { raw, schema } = buildOulad({ task: 'early-warning', label: 'pass' });
  const t1 = performance.now();
  const parts = partitionRaw(raw, schema, spec);
  const t2 = performance.now();
  const sim = await simulateHorizontal(
    {
      jobId: `scale-${kind}-${requested}`,
      schema,
      testFraction: 0.2,
      splitSeed: seed,
      model: { kind: 'logistic' },
      strategy: { name: 'fedavg', fractionFit: 1, minFit: 1, epochs: 1, batchSize: 32, learningRate: 0.05 },
      rounds,
      seed,
    },
    parts,
    { compare: false },
  );
  const roundMs = sim.job.rounds.map((r) => r.wallMs);
  const last = sim.job.rounds[sim.job.rounds.length - 1];
  return {
    requested,
    participants: sim.job.participants.length,
    partition: kind === 'iid' ? 'iid' : `dirichlet(α = ${spec.kind === 'dirichlet' ? spec.alpha : ''})`,
    rows: raw.rows.length,
    buildMs: t1 - t0,
    partitionMs: t2 - t1,
    statsMs: sim.timings.federatedMs - roundMs.reduce((a, b) => a + b, 0),
    roundMs,
    federatedMs: sim.timings.federatedMs,
    maxRssKiB: process.resourceUsage().maxRSS,
    accuracy: last?.metrics.accuracy ?? Number.NaN,
    auc: last?.metrics.auc ?? Number.NaN,
  };
}

main(process.argv.slice(2)).then(
  (sample) => {
    process.stdout.write(`${JSON.stringify(sample)}\n`);
  },
  (err: unknown) => {
    process.stderr.write(`scale-worker: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
