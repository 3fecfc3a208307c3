/**
 * A small synthetic vertical scenario, for tests, demos and smoke runs: learners whose pass
 * probability depends on features spread over three platforms (A: profile, B: activity,
 * C: assessment and the label), split by {@link splitByColumns} with partial overlap.
 *
 * The true logit is 1.2·a_age − 0.8·a_credits + 0.6·[a_region = north] + 1.4·b_clicks
 * + 0.7·b_forum + 1.0·c_score + 1.2·a_age·b_clicks − 0.3, with standard normal features, so
 * no platform alone can predict well, and the last term rewards a non-linear model.
 */
import { ConfigError } from '../../core/errors.js';
import { seededRng } from '../../core/rng.js';
import type { Schema } from '../../data/schema.js';
import type { RawTable } from '../../data/table.js';
import { splitByColumns, type VerticalSplit } from './split-columns.js';

/** Options of {@link syntheticVertical}. */
export interface SyntheticVerticalOptions {
  /** Learners before the split (default 600). */
  readonly n?: number;
  /** Default 1. */
  readonly seed?: number;
  /** Presence probabilities of A, B, C (default 0.85, 0.8, 0.9). */
  readonly presence?: readonly [number, number, number];
}

/** The joined source table and schema, before any split. */
export function syntheticSource(options: SyntheticVerticalOptions = {}): { readonly raw: RawTable; readonly schema: Schema } {
  const n = options.n ?? 600;
  if (!Number.isSafeInteger(n) || n < 10) throw new ConfigError('n', `must be an integer ≥ 10, got ${String(n)}`);
  const rng = seededRng(options.seed ?? 1);
  const regions = ['north', 'south', 'west'];
  const rows: string[][] = [];
  for (let i = 0; i < n; i++) {
    const age = rng.normal();
    const credits = rng.normal();
    const region = regions[rng.int(regions.length)] ?? 'north';
    const clicks = rng.normal();
    const forum = rng.normal();
    const score = rng.normal();
    const logit = 1.2 * age - 0.8 * credits + (region === 'north' ? 0.6 : 0) + 1.4 * clicks + 0.7 * forum + 1.0 * score + 1.2 * age * clicks - 0.3;
    const passed = rng.next() < 1 / (1 + Math.exp(-logit)) ? 'yes' : 'no';
    // About 5% of assessment scores are missing, to exercise the encoder's missing flags.
    const scoreCell = rng.next() < 0.05 ? '' : score.toFixed(4);
    rows.push([`L${String(i).padStart(5, '0')}`, age.toFixed(4), credits.toFixed(4), region, clicks.toFixed(4), forum.toFixed(4), scoreCell, passed]);
  }
  const header = ['learner_id', 'a_age', 'a_credits', 'a_region', 'b_clicks', 'b_forum', 'c_score', 'passed'];
  const schema: Schema = {
    version: 1,
    name: 'synthetic-vertical',
    columns: [
      { name: 'learner_id', type: 'id' },
      { name: 'a_age', type: 'numeric' },
      { name: 'a_credits', type: 'numeric' },
      { name: 'a_region', type: 'categorical', categories: regions },
      { name: 'b_clicks', type: 'numeric' },
      { name: 'b_forum', type: 'numeric' },
      { name: 'c_score', type: 'numeric' },
      { name: 'passed', type: 'label', classes: ['no', 'yes'], positive: ['yes'] },
    ],
  };
  return { raw: { source: 'synthetic-vertical', header, rows }, schema };
}

/**
 * Three platforms A, B, C over the synthetic learners, sharing `learner_id`.
 * @throws {ConfigError} for fewer than 10 learners or a presence outside (0, 1].
 */
export function syntheticVertical(options: SyntheticVerticalOptions = {}): VerticalSplit {
  const { raw, schema } = syntheticSource(options);
  const [pa, pb, pc] = options.presence ?? [0.85, 0.8, 0.9];
  return splitByColumns(raw, schema, {
    idColumn: 'learner_id',
    seed: (options.seed ?? 1) + 1,
    groups: [
      { id: 'A', columns: ['a_age', 'a_credits', 'a_region'], presence: pa },
      { id: 'B', columns: ['b_clicks', 'b_forum'], presence: pb },
      { id: 'C', columns: ['c_score', 'passed'], presence: pc },
    ],
  });
}
