/**
 * The shared synthetic-lr workload (../shared/bench/synthetic-lr, see its README): 10 clients × 5,000
 * training rows of 50 float64 features, 10,000 test rows, and the reference accuracy a Python
 * framework reached on it. Read here once for both the in-process and the deployed benchmark.
 */
import { existsSync, readFileSync } from 'node:fs';
import { endianness } from 'node:os';
import { join } from 'node:path';
import { DataError } from '../src/core/errors.js';

export const CLIENTS = 10;
export const TRAIN_ROWS_PER_CLIENT = 5000;
export const TEST_ROWS = 10_000;
export const D = 50;
export const ROUNDS = 20;
export const REFERENCE_ACCURACY = 0.9138;
export const REFERENCE_TOLERANCE = 0.002;
const FILES = ['train_x.f64', 'train_y.f64', 'test_x.f64', 'test_y.f64'] as const;

/** The workload's raw arrays, row-major. */
export interface SyntheticLr {
  readonly trainX: Float64Array;
  readonly trainY: Float64Array;
  readonly testX: Float64Array;
  readonly testY: Float64Array;
}

/** The workload files missing from `dir` (empty when all are there). */
export function missingSyntheticFiles(dir: string): string[] {
  return FILES.filter((f) => !existsSync(join(dir, f)));
}

/** Reads a raw little-endian float64 file of exactly `length` values. @throws {DataError} on a size mismatch. */
function readF64(path: string, length: number): Float64Array {
  const buf = readFileSync(path);
  if (buf.byteLength !== length * 8) {
    throw new DataError({ file: path }, `expected ${length} float64 values (${length * 8} bytes), found ${buf.byteLength} bytes`);
  }
  const out = new Float64Array(length);
  if (endianness() === 'LE') {
    // Copy through a fresh, aligned buffer: a Buffer's byteOffset need not be a multiple of 8.
    new Uint8Array(out.buffer).set(buf);
  } else {
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    for (let i = 0; i < length; i++) out[i] = view.getFloat64(i * 8, true);
  }
  return out;
}

/** Reads the four files of the workload. @throws {DataError} naming a file of the wrong size */
export function readSyntheticLr(dir: string): SyntheticLr {
  const nTrain = CLIENTS * TRAIN_ROWS_PER_CLIENT;
  return {
    trainX: readF64(join(dir, 'train_x.f64'), nTrain * D),
    trainY: readF64(join(dir, 'train_y.f64'), nTrain),
    testX: readF64(join(dir, 'test_x.f64'), TEST_ROWS * D),
    testY: readF64(join(dir, 'test_y.f64'), TEST_ROWS),
  };
}
