/**
 * The alignment a vertical job trains on: the learners of the label holder in one canonical
 * order, training positions first, and for every party its own row at each position (−1 where it
 * lacks the learner; that party's features are then imputed, never the row dropped).
 *
 * In a deployment this comes out of private set intersection (`./psi/`) run by the parties
 * themselves. {@link alignByIds} computes the same thing from the ID columns in one process: the
 * stand-in the in-process runner and the tests use.
 */
import { ConfigError, DataError } from '../../core/errors.js';
import { stratifiedSplit } from '../../data/split.js';

/** Aligned positions and each party's row at each of them. */
export interface VerticalAlignment {
  /** Number of aligned positions (the label holder's labelled learners). */
  readonly n: number;
  /** Positions [0, nTrain) train, [nTrain, n) test. */
  readonly nTrain: number;
  /** Per party id: its row index at each position, −1 where it lacks the learner. */
  readonly rows: ReadonlyMap<string, Int32Array>;
}

/** A party's identifiers, one per row of its table. */
export interface PartyIds {
  readonly id: string;
  readonly ids: readonly string[];
}

/** How many aligned positions each party has, and how many it gets imputed. */
export interface AlignmentCounts {
  readonly party: string;
  readonly present: number;
  readonly imputed: number;
}

function rowIndex(party: PartyIds): Map<string, number> {
  const index = new Map<string, number>();
  party.ids.forEach((key, r) => {
    if (key === '') throw new DataError({ file: `party ${party.id}`, row: r + 1 }, 'empty learner id');
    const first = index.get(key);
    if (first !== undefined) throw new DataError({ file: `party ${party.id}`, row: r + 1 }, `learner id ${JSON.stringify(key)} repeats row ${first + 1}`);
    index.set(key, r);
  });
  return index;
}

/**
 * Each party's row for each queried learner id, −1 where the party does not know it: the
 * in-process stand-in for aligning a scoring query.
 * @throws {DataError} on an empty or repeated id within a party.
 */
export function rowsForIds(parties: readonly PartyIds[], query: readonly string[]): Map<string, Int32Array> {
  const out = new Map<string, Int32Array>();
  for (const p of parties) {
    const index = rowIndex(p);
    out.set(p.id, Int32Array.from(query, (key) => index.get(key) ?? -1));
  }
  return out;
}

/**
 * Aligns every party on the label holder's learners: the label holder's rows are split into
 * training and test rows (stratified by `labels`, seeded), training positions first, each side in
 * the label holder's row order; every other party gets its row of each learner, or −1.
 *
 * @throws {ConfigError} if `labelHolder` is not among the parties or `testFraction` is outside [0, 1).
 * @throws {DataError} on an empty or repeated learner id within a party (naming party and row).
 */
export function alignByIds(
  parties: readonly PartyIds[],
  labelHolder: string,
  labels: Int32Array,
  options: { readonly testFraction: number; readonly seed: number },
): VerticalAlignment {
  const holder = parties.find((p) => p.id === labelHolder);
  if (holder === undefined) throw new ConfigError('labelHolder', `"${labelHolder}" is not one of the parties (${parties.map((p) => p.id).join(', ')})`);
  if (!(options.testFraction >= 0 && options.testFraction < 1)) {
    throw new ConfigError('testFraction', `must be in [0, 1), got ${String(options.testFraction)}`);
  }
  if (labels.length !== holder.ids.length) {
    throw new ConfigError('labels', `${labels.length} labels for the label holder's ${holder.ids.length} rows`);
  }
  const split = stratifiedSplit(labels, options.testFraction, options.seed);
  const order = [...split.train, ...split.test];
  const keys = order.map((r) => holder.ids[r] ?? '');
  const rows = rowsForIds(parties, keys);
  return { n: order.length, nTrain: split.train.length, rows };
}

/** 1 where the party has the learner at that position, 0 where it is imputed. */
export function presenceOf(rows: Int32Array): Uint8Array {
  return Uint8Array.from(rows, (r) => (r >= 0 ? 1 : 0));
}

/** Present and imputed positions per party. */
export function alignmentCounts(alignment: VerticalAlignment): AlignmentCounts[] {
  return [...alignment.rows].map(([party, rows]) => {
    let present = 0;
    for (const r of rows) if (r >= 0) present++;
    return { party, present, imputed: rows.length - present };
  });
}
