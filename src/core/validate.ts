/**
 * Small validators that turn `unknown` (parsed JSON from the network or a config file) into typed
 * values, naming the offending field in the error. Used at every edge; nothing past the edge sees
 * an unvalidated value.
 */
import { ValidationError } from './errors.js';

/** A plain JSON object. */
export type JsonRecord = Readonly<Record<string, unknown>>;

/** True for non-null, non-array objects. */
export function isRecord(v: unknown): v is JsonRecord {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Asserts an object; `where` names it in the error (e.g. 'train-result header'). */
export function record(v: unknown, where: string, participant?: string): JsonRecord {
  if (!isRecord(v)) throw new ValidationError(participant, `${where}: expected an object`);
  return v;
}

/** A finite number field, optionally an integer within bounds. */
export function num(
  obj: JsonRecord,
  key: string,
  where: string,
  opts: { integer?: boolean; min?: number; max?: number; participant?: string } = {},
): number {
  const v = obj[key];
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new ValidationError(opts.participant, `${where}.${key}: expected a finite number, got ${describe(v)}`);
  }
  if (opts.integer === true && !Number.isInteger(v)) {
    throw new ValidationError(opts.participant, `${where}.${key}: expected an integer, got ${v}`);
  }
  if (opts.min !== undefined && v < opts.min) {
    throw new ValidationError(opts.participant, `${where}.${key}: ${v} is below the minimum ${opts.min}`);
  }
  if (opts.max !== undefined && v > opts.max) {
    throw new ValidationError(opts.participant, `${where}.${key}: ${v} is above the maximum ${opts.max}`);
  }
  return v;
}

/** A string field. */
export function str(obj: JsonRecord, key: string, where: string, participant?: string): string {
  const v = obj[key];
  if (typeof v !== 'string') throw new ValidationError(participant, `${where}.${key}: expected a string, got ${describe(v)}`);
  return v;
}

/** An array of strings. */
export function strArray(obj: JsonRecord, key: string, where: string, participant?: string): string[] {
  const v = obj[key];
  if (!Array.isArray(v) || !v.every((s): s is string => typeof s === 'string')) {
    throw new ValidationError(participant, `${where}.${key}: expected an array of strings`);
  }
  return v;
}

/** An array of finite numbers. */
export function numArray(obj: JsonRecord, key: string, where: string, participant?: string): number[] {
  const v = obj[key];
  if (!Array.isArray(v) || !v.every((s): s is number => typeof s === 'number' && Number.isFinite(s))) {
    throw new ValidationError(participant, `${where}.${key}: expected an array of finite numbers`);
  }
  return v;
}

/** A short description of a value for error messages (never the whole value). */
export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  if (typeof v === 'string') return v.length > 40 ? `"${v.slice(0, 40)}…"` : `"${v}"`;
  if (typeof v === 'object') return 'an object';
  return String(v);
}
