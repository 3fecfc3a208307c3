/**
 * The OULAD early-warning workload of the `deployment-*` benchmarks: platforms as `edufed demo` makes
 * them (by region, or uniformly at random), the demo's job, and MLPs sized to a parameter count.
 */
import { participantSlug } from '../src/cli/local-deployment.js';
import { buildOulad } from '../src/data/datasets/oulad.js';
import { buildEncoder, localStats, mergeStats } from '../src/data/encoder.js';
import type { Schema } from '../src/data/schema.js';
import type { RawTable } from '../src/data/table.js';
import { toTable } from '../src/data/to-table.js';
import type { HorizontalJobConfig } from '../src/federation/horizontal/job-config.js';
import { createModel } from '../src/models/create-model.js';
import type { ModelSpec } from '../src/models/model.js';
import { partitionRaw, type RawPart } from '../src/simulation/partition-raw.js';

/** The OULAD early-warning table (pass / not pass at day 60), built once per benchmark process. */
export interface OuladWorkload {
  readonly raw: RawTable;
  readonly schema: Schema;
  /** Encoded feature count (what the models see). */
  readonly dim: number;
}

let cached: OuladWorkload | undefined;

/** Builds (once) the OULAD early-warning table and its encoded width. */
export function ouladWorkload(): OuladWorkload {
  if (cached !== undefined) return cached;
  const { raw, schema } = buildOulad({ task: 'early-warning', label: 'pass' });
  const dim = buildEncoder(schema, localStats(toTable(raw, schema))).dim;
  cached = { raw, schema, dim };
  return cached;
}

/** Encoded feature count when only these platforms' rows are seen (few rows may miss some categories). */
export function encodedDim(parts: readonly RawPart[], schema: Schema): number {
  return buildEncoder(schema, mergeStats(parts.map((p) => localStats(toTable(p.raw, schema))))).dim;
}

/**
 * Platforms as `edufed demo` makes them: `'region'` gives the 13 OULAD regions; a number gives that many
 * platforms with rows split uniformly at random. `maxRows` keeps only each platform's first rows (to make
 * local training negligible when only the coordination overhead is measured).
 */
export function ouladParts(w: OuladWorkload, platforms: 'region' | number, maxRows?: number): RawPart[] {
  const spec = platforms === 'region' ? { kind: 'column' as const, column: 'region' } : { kind: 'iid' as const, participants: platforms, seed: 42 };
  return partitionRaw(w.raw, w.schema, spec).map((p) => ({
    id: participantSlug(p.id),
    raw: maxRows === undefined ? p.raw : { ...p.raw, rows: p.raw.rows.slice(0, maxRows) },
  }));
}

/** The demo's early-warning job (FedAvg, 1 local epoch, batch 32, η = 0.1) with the given model, rounds and batch. */
export function ouladJob(w: OuladWorkload, jobId: string, model: ModelSpec, rounds: number, batchSize = 32): HorizontalJobConfig {
  return {
    jobId,
    schema: w.schema,
    testFraction: 0.2,
    splitSeed: 42,
    model,
    strategy: { name: 'fedavg', fractionFit: 1, minFit: 1, epochs: 1, batchSize, learningRate: 0.1 },
    rounds,
    seed: 42,
    roundTimeoutMs: 120_000,
  };
}

/** An MLP with two equal hidden layers whose parameter count is closest to `target` for `dim` inputs. */
export function mlpWithParams(dim: number, target: number): { spec: ModelSpec; params: number } {
  // Two hidden layers of h units and one output: h² + (dim + 3) h + 1 parameters.
  const b = dim + 3;
  const h = Math.max(1, Math.round((-b + Math.sqrt(b * b + 4 * (target - 1))) / 2));
  const spec: ModelSpec = { kind: 'mlp', hidden: [h, h] };
  return { spec, params: createModel(spec, dim, 2).numParams };
}
