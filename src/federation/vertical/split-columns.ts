/**
 * A seeded generator of vertical scenarios from any table: the columns are divided among
 * platforms (column groups), and each row is on each platform independently with that platform's
 * presence probability, so platforms overlap partly (with presences p_a and p_b the expected share
 * of a's learners that b also has is p_b). Each platform gets its own table: the shared id column
 * (the key alignment matches on), its own local id column, its columns, in its own shuffled row order.
 *
 * A row drawn onto no platform belongs to nobody in the scenario; it is counted (`onNone`), not hidden.
 * Presence is missing completely at random: a simplification of real platforms, stated as such.
 */
import { ConfigError, SchemaError } from '../../core/errors.js';
import { seededRng, shuffleInPlace } from '../../core/rng.js';
import type { ColumnSpec, Schema } from '../../data/schema.js';
import type { RawTable } from '../../data/table.js';

/** One platform's share of the columns. */
export interface ColumnGroup {
  readonly id: string;
  /** Columns it holds besides the id column (the label column goes to exactly one platform). */
  readonly columns: readonly string[];
  /** Probability in (0, 1] that a row of the source is one of this platform's learners. */
  readonly presence: number;
}

/** Options of {@link splitByColumns}. */
export interface SplitColumnsOptions {
  /** The shared id column (an `id` column of the schema). */
  readonly idColumn: string;
  readonly groups: readonly ColumnGroup[];
  readonly seed: number;
  /** Name of each platform's own id column; default `local_id`. */
  readonly localIdColumn?: string;
}

/** One platform's table and schema. */
export interface PlatformTable {
  readonly id: string;
  readonly raw: RawTable;
  readonly schema: Schema;
}

/** How two platforms overlap. */
export interface PairOverlap {
  readonly a: string;
  readonly b: string;
  /** Learners on both. */
  readonly both: number;
  /** both / |a ∪ b|. */
  readonly jaccard: number;
  /** both / |a|: the share of a's learners that b also has. */
  readonly shareOfA: number;
  /** both / |b|. */
  readonly shareOfB: number;
}

/** Who is where in a generated split. */
export interface OverlapStats {
  /** Rows of the source. */
  readonly rows: number;
  /** Learners per platform, in group order. */
  readonly perPlatform: readonly { readonly id: string; readonly learners: number; readonly onlyHere: number }[];
  readonly pairs: readonly PairOverlap[];
  /** Source rows on no platform (not part of the scenario). */
  readonly onNone: number;
}

/** A generated vertical scenario. */
export interface VerticalSplit {
  readonly idColumn: string;
  readonly platforms: readonly PlatformTable[];
  readonly stats: OverlapStats;
}

function checkGroups(schema: Schema, options: SplitColumnsOptions): void {
  const { idColumn, groups } = options;
  const localId = options.localIdColumn ?? 'local_id';
  const specs = new Map(schema.columns.map((c) => [c.name, c]));
  const idSpec = specs.get(idColumn);
  if (idSpec?.type !== 'id') throw new SchemaError({ column: idColumn }, 'the shared id column must be an id column of the schema');
  if (specs.has(localId)) throw new ConfigError('localIdColumn', `"${localId}" is already a column of the source`);
  if (groups.length < 2) throw new ConfigError('groups', `a vertical split needs at least two platforms, got ${groups.length}`);
  const owner = new Map<string, string>();
  const ids = new Set<string>();
  for (const g of groups) {
    if (g.id === '' || ids.has(g.id)) throw new ConfigError('groups', `platform ids must be unique and non-empty, got ${JSON.stringify(g.id)}`);
    ids.add(g.id);
    if (!(g.presence > 0 && g.presence <= 1)) throw new ConfigError(`groups.${g.id}.presence`, `must be in (0, 1], got ${String(g.presence)}`);
    for (const c of g.columns) {
      if (!specs.has(c)) throw new SchemaError({ column: c }, `platform ${g.id} lists a column the schema lacks`);
      if (c === idColumn) throw new ConfigError(`groups.${g.id}.columns`, `the id column "${c}" goes to every platform; do not list it`);
      const other = owner.get(c);
      if (other !== undefined) throw new ConfigError(`groups.${g.id}.columns`, `column "${c}" is already held by platform ${other}`);
      owner.set(c, g.id);
    }
  }
  for (const spec of schema.columns) {
    if (spec.type === 'id' || spec.type === 'ignore' || owner.has(spec.name)) continue;
    throw new ConfigError('groups', `column "${spec.name}" (${spec.type}) is held by no platform; list it in a group or mark it ignore`);
  }
}

/**
 * Splits a table into one table per column group with seeded, independent presence per platform.
 *
 * @throws {SchemaError} if the id column is not an id column, or a group lists an unknown column.
 * @throws {ConfigError} for fewer than two groups, a repeated platform id, a presence outside
 *   (0, 1], a column held twice or by nobody, or a local id column that clashes with the source.
 */
export function splitByColumns(raw: RawTable, schema: Schema, options: SplitColumnsOptions): VerticalSplit {
  checkGroups(schema, options);
  const { idColumn, groups, seed } = options;
  const localId = options.localIdColumn ?? 'local_id';
  const position = new Map(raw.header.map((h, i) => [h, i]));
  const idAt = position.get(idColumn);
  if (idAt === undefined) throw new SchemaError({ file: raw.source, column: idColumn }, 'the source has no such column');
  const rng = seededRng(seed);
  const n = raw.rows.length;
  const members = groups.map((g) => {
    const draw = rng.fork(`presence ${g.id}`);
    const rows: number[] = [];
    for (let r = 0; r < n; r++) if (draw.next() < g.presence) rows.push(r);
    return rows;
  });
  const specs = new Map(schema.columns.map((c) => [c.name, c]));
  const platforms = groups.map((g, k): PlatformTable => {
    const rows = shuffleInPlace([...(members[k] ?? [])], rng.fork(`order ${g.id}`));
    const cols = g.columns.map((c) => position.get(c) ?? -1);
    const width = String(rows.length).length;
    const table = rows.map((r, i) => {
      const src = raw.rows[r] ?? [];
      return [src[idAt] ?? '', `${g.id}-${String(i + 1).padStart(width, '0')}`, ...cols.map((c) => src[c] ?? '')];
    });
    const columns: ColumnSpec[] = [{ name: idColumn, type: 'id' }, { name: localId, type: 'id' }, ...g.columns.map((c) => specOf(specs, c))];
    return {
      id: g.id,
      raw: { source: `${raw.source} [platform ${g.id}]`, header: [idColumn, localId, ...g.columns], rows: table },
      schema: { version: 1, name: `${schema.name ?? 'vertical'}-${g.id}`, columns },
    };
  });
  return { idColumn, platforms, stats: overlapStats(n, groups.map((g) => g.id), members) };
}

/** A column's spec; `checkGroups` has made sure every listed column has one. */
function specOf(specs: ReadonlyMap<string, ColumnSpec>, name: string): ColumnSpec {
  const spec = specs.get(name);
  if (spec === undefined) throw new SchemaError({ column: name }, 'the schema lacks this column');
  return spec;
}

function overlapStats(n: number, ids: readonly string[], members: readonly (readonly number[])[]): OverlapStats {
  const count = new Uint8Array(n);
  const sets = members.map((rows) => {
    const s = new Uint8Array(n);
    for (const r of rows) {
      s[r] = 1;
      count[r] = count[r]! + 1;
    }
    return s;
  });
  const perPlatform = ids.map((id, k) => {
    let onlyHere = 0;
    for (const r of members[k] ?? []) if (count[r] === 1) onlyHere++;
    return { id, learners: members[k]?.length ?? 0, onlyHere };
  });
  const pairs: PairOverlap[] = [];
  for (let a = 0; a < ids.length; a++) {
    for (let b = a + 1; b < ids.length; b++) {
      let both = 0;
      const sa = sets[a]!;
      const sb = sets[b]!;
      for (let r = 0; r < n; r++) both += sa[r]! & sb[r]!;
      const na = members[a]?.length ?? 0;
      const nb = members[b]?.length ?? 0;
      const union = na + nb - both;
      pairs.push({ a: ids[a]!, b: ids[b]!, both, jaccard: union > 0 ? both / union : 0, shareOfA: na > 0 ? both / na : 0, shareOfB: nb > 0 ? both / nb : 0 });
    }
  }
  let onNone = 0;
  for (let r = 0; r < n; r++) if (count[r] === 0) onNone++;
  return { rows: n, perPlatform, pairs, onNone };
}
