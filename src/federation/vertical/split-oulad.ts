/**
 * The paper's first scenario on OULAD (Kuzilek et al. 2017): in one region, three platforms hold
 * different features of partly the same learners (module enrolments of the `outcome` task built by
 * `buildOulad`, whose columns come from `oulad-features.ts`):
 *
 * - A, a registration / community portal: the registration-time columns (module, region, gender,
 *   disability, education, IMD band, age band, previous attempts, credits, registration day,
 *   presentation length);
 * - B, a learning site: the VLE clicks by category (`vle_*`);
 * - C, an assessment platform: the assessment columns (`tma_*`, `cma_*`, `exam_*`, `assess_*`) and
 *   the label `final_result` (pass: Pass or Distinction).
 *
 * Each enrolment is on each platform independently (defaults: A 0.90, B 0.85, C 0.90). On all of
 * OULAD that makes 85–90% of each platform's learners known to each other platform (Jaccard
 * 0.78–0.82 per pair) and about 1.5% of each platform's learners known to it alone. The shared key is `enrolment_id`. Seeded: the same
 * options give the same split.
 */
import { ConfigError } from '../../core/errors.js';
import { buildOulad, ouladAttribution, type OuladLabel } from '../../data/datasets/oulad.js';
import { OULAD_REGIONS } from '../../data/datasets/oulad-features.js';
import type { Schema } from '../../data/schema.js';
import type { RawTable } from '../../data/table.js';
import { splitByColumns, type VerticalSplit } from './split-columns.js';

/** The three platforms of the OULAD scenario. */
export const OULAD_PLATFORMS = {
  A: 'registration / community portal',
  B: 'learning site (VLE clicks)',
  C: 'assessment platform (assessments and the label)',
} as const;

/** Default presence probabilities of the three platforms. */
export const OULAD_DEFAULT_PRESENCE = { A: 0.9, B: 0.85, C: 0.9 } as const;

/** Options of {@link splitOulad}. */
export interface OuladVerticalOptions {
  /** Regions whose enrolments form the scenario; default all thirteen. */
  readonly regions?: readonly string[];
  /** Default 1. */
  readonly seed?: number;
  /** Per-platform presence probabilities; defaults {@link OULAD_DEFAULT_PRESENCE}. */
  readonly presence?: { readonly A?: number; readonly B?: number; readonly C?: number };
  /** `pass` (default) or `dropout`; vertical training is binary. */
  readonly label?: Exclude<OuladLabel, 'result'>;
  /** Folder of the OULAD files; default `<project root>/data/oulad`. */
  readonly dataDir?: string;
}

/** The OULAD scenario: three platform tables sharing `enrolment_id`. */
export interface OuladVerticalSplit extends VerticalSplit {
  readonly description: string;
}

/** Which platform holds an OULAD outcome-task column (ids go to nobody but the shared key). */
function platformOf(name: string, type: Schema['columns'][number]['type']): 'A' | 'B' | 'C' | undefined {
  if (type === 'id') return undefined;
  if (type === 'label' || /^(tma|cma|exam|assess)_/.test(name)) return 'C';
  if (name.startsWith('vle_')) return 'B';
  return 'A';
}

function regionRows(raw: RawTable, regions: readonly string[]): RawTable {
  const at = raw.header.indexOf('region');
  const wanted = new Set(regions);
  return { source: `${raw.source}, regions ${regions.join(', ')}`, header: raw.header, rows: raw.rows.filter((row) => wanted.has(row[at] ?? '')) };
}

/**
 * Builds the three-platform OULAD scenario.
 * @throws {ConfigError} for an unknown region, an empty region list, or a presence outside (0, 1].
 * @throws {DataError} if the OULAD files are missing or malformed.
 */
export function splitOulad(options: OuladVerticalOptions = {}): OuladVerticalSplit {
  const regions = options.regions ?? OULAD_REGIONS;
  if (regions.length === 0) throw new ConfigError('regions', 'name at least one region');
  for (const r of regions) {
    if (!OULAD_REGIONS.includes(r)) throw new ConfigError('regions', `unknown region ${JSON.stringify(r)}; OULAD has ${OULAD_REGIONS.join(', ')}`);
  }
  const data = buildOulad({ task: 'outcome', label: options.label ?? 'pass', ...(options.dataDir !== undefined ? { dataDir: options.dataDir } : {}) });
  const raw = regions.length === OULAD_REGIONS.length ? data.raw : regionRows(data.raw, regions);
  const presence = { ...OULAD_DEFAULT_PRESENCE, ...options.presence };
  const columns: Record<'A' | 'B' | 'C', string[]> = { A: [], B: [], C: [] };
  for (const c of data.schema.columns) {
    const p = platformOf(c.name, c.type);
    if (p !== undefined) columns[p].push(c.name);
  }
  const split = splitByColumns(raw, data.schema, {
    idColumn: 'enrolment_id',
    seed: options.seed ?? 1,
    groups: (['A', 'B', 'C'] as const).map((id) => ({ id, columns: columns[id], presence: presence[id] })),
  });
  const sizes = split.stats.perPlatform.map((p) => `${p.id} ${p.learners.toLocaleString('en-GB')}`).join(', ');
  const overlaps = split.stats.pairs.map((p) => `${p.a}∩${p.b} ${p.both.toLocaleString('en-GB')}`).join(', ');
  return {
    ...split,
    description: `OULAD vertical (outcome task, label ${options.label ?? 'pass'}), ${raw.rows.length.toLocaleString('en-GB')} enrolments of ${regions.length === OULAD_REGIONS.length ? 'all regions' : regions.join(', ')}: ${sizes}; ${overlaps}. ${ouladAttribution()}`,
  };
}
