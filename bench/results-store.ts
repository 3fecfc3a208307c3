/**
 * The measured sections, kept as JSON beside the plots so that `--only NAME` can re-measure one
 * benchmark and BENCHMARKS.md is still rendered whole.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { ValidationError } from '../src/core/errors.js';
import type { TargetResult } from './benchmark.js';
import type { MachineInfo } from './machine.js';

/** One benchmark's stored result and the circumstances of its measurement. */
export interface StoredSection {
  readonly name: string;
  readonly title: string;
  readonly body: string;
  readonly targets: readonly TargetResult[];
  /** ISO date-time the benchmark finished. */
  readonly date: string;
  readonly commit: string | undefined;
  readonly durationMs: number;
  /** Mean CPU cores kept busy by other processes while it ran; undefined when unknown. */
  readonly otherCores: number | undefined;
  readonly quick: boolean;
  readonly machine: MachineInfo;
}

/** The whole store: sections by benchmark name. */
export interface ResultStore {
  readonly version: 1;
  readonly sections: Record<string, StoredSection>;
}

function fail(file: string, what: string): never {
  throw new ValidationError(undefined, `${file}: ${what}`);
}

function str(o: Record<string, unknown>, key: string, file: string): string {
  const v = o[key];
  return typeof v === 'string' ? v : fail(file, `${key} is not a string`);
}

function parseSection(v: unknown, file: string): StoredSection {
  if (typeof v !== 'object' || v === null) return fail(file, 'a section is not an object');
  const o = v as Record<string, unknown>;
  const targetsRaw = o['targets'];
  if (!Array.isArray(targetsRaw)) return fail(file, 'targets is not a list');
  const targets = (targetsRaw as unknown[]).map((t): TargetResult => {
    if (typeof t !== 'object' || t === null) return fail(file, 'a target is not an object');
    const r = t as Record<string, unknown>;
    if (typeof r['met'] !== 'boolean') return fail(file, 'target.met is not a boolean');
    return { target: str(r, 'target', file), measured: str(r, 'measured', file), met: r['met'] };
  });
  const m = o['machine'];
  if (typeof m !== 'object' || m === null) return fail(file, 'machine is not an object');
  const mo = m as Record<string, unknown>;
  const cores = mo['cores'];
  if (typeof cores !== 'number') return fail(file, 'machine.cores is not a number');
  const durationMs = o['durationMs'];
  if (typeof durationMs !== 'number') return fail(file, 'durationMs is not a number');
  const other = o['otherCores'];
  const commit = o['commit'];
  return {
    name: str(o, 'name', file),
    title: str(o, 'title', file),
    body: str(o, 'body', file),
    targets,
    date: str(o, 'date', file),
    commit: typeof commit === 'string' ? commit : undefined,
    durationMs,
    otherCores: typeof other === 'number' ? other : undefined,
    quick: o['quick'] === true,
    machine: { cpu: str(mo, 'cpu', file), cores, memory: str(mo, 'memory', file), node: str(mo, 'node', file), os: str(mo, 'os', file) },
  };
}

/**
 * Reads the store, or an empty one when the file does not exist.
 * @throws {ValidationError} naming the file when it is not a valid store.
 */
export function readStore(file: string): ResultStore {
  if (!existsSync(file)) return { version: 1, sections: {} };
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ValidationError(undefined, `${file}: not valid JSON`, { cause: err });
  }
  if (typeof v !== 'object' || v === null) return fail(file, 'not an object');
  const o = v as Record<string, unknown>;
  if (o['version'] !== 1) return fail(file, 'version is not 1');
  const sections = o['sections'];
  if (typeof sections !== 'object' || sections === null) return fail(file, 'sections is not an object');
  const out: Record<string, StoredSection> = {};
  for (const [name, s] of Object.entries(sections)) out[name] = parseSection(s, file);
  return { version: 1, sections: out };
}

/** Writes the store as indented JSON. */
export function writeStore(file: string, store: ResultStore): void {
  writeFileSync(file, `${JSON.stringify(store, null, 2)}\n`);
}
