/**
 * Throughput of {@link weightedAverage} against a plain copy (`Float32Array.set`) of the same input
 * bytes, in one process. Run: `node <dist>/src/strategy/aggregate.bench.js [updates] [params]`
 * (defaults 100 × 1 000 000; needs about 4 · updates · params bytes of memory).
 */
import { pathToFileURL } from 'node:url';
import { seededRng } from '../core/rng.js';
import { scalarWeightedSum, weightedAverage } from './aggregate.js';

/** Median wall time of `reps` runs of `fn`, in milliseconds, after one warm-up run. */
function medianMs(fn: () => void, reps: number): number {
  fn();
  const times: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = process.hrtime.bigint();
    fn();
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(reps / 2)] as number;
}

/** Result of one benchmark run; GB/s counts input bytes (updates × params × 4) per second. */
export interface AggregateBenchResult {
  readonly updates: number;
  readonly params: number;
  readonly copyGBps: number;
  readonly weightedAverageGBps: number;
  readonly scalarGBps: number;
}

/** Measures copy, weightedAverage and the scalar fallback on the same data. */
export function benchWeightedAverage(updates: number, params: number, reps = 7): AggregateBenchResult {
  const rng = seededRng(1);
  const base = new Float32Array(params);
  for (let i = 0; i < params; i++) base[i] = rng.normal();
  const inputs = Array.from({ length: updates }, () => {
    const p = new Float32Array(params);
    for (let i = 0; i < params; i++) p[i] = (base[i] as number) + 0.01 * rng.normal();
    return { params: p, weight: 1 + rng.int(1000) };
  });
  const out = new Float32Array(params);
  const bytes = updates * params * 4;
  const gbps = (ms: number): number => bytes / ms / 1e6;
  const copy = (): void => {
    for (const u of inputs) out.set(u.params);
  };
  const total = inputs.reduce((s, u) => s + u.weight, 0);
  const coeffs = Float64Array.from(inputs, (u) => u.weight / total);
  const arrays = inputs.map((u) => u.params);
  // Interleave so that background load on a shared machine hits all three alike.
  const copyMs: number[] = [];
  const avgMs: number[] = [];
  const scalarMs: number[] = [];
  for (let round = 0; round < 3; round++) {
    copyMs.push(medianMs(copy, reps));
    avgMs.push(medianMs(() => weightedAverage(inputs, out), reps));
    scalarMs.push(medianMs(() => scalarWeightedSum(arrays, coeffs, out), Math.max(3, reps >> 1)));
  }
  const best = (xs: number[]): number => Math.min(...xs);
  return {
    updates,
    params,
    copyGBps: gbps(best(copyMs)),
    weightedAverageGBps: gbps(best(avgMs)),
    scalarGBps: gbps(best(scalarMs)),
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const updates = Number(process.argv[2] ?? 100);
  const params = Number(process.argv[3] ?? 1_000_000);
  const r = benchWeightedAverage(updates, params);
  const ratio = r.weightedAverageGBps / r.copyGBps;
  console.log(`${r.updates} × ${r.params} float32 parameters (GB/s of input read):`);
  console.log(`  Float32Array.set copy   ${r.copyGBps.toFixed(2)}`);
  console.log(`  weightedAverage         ${r.weightedAverageGBps.toFixed(2)}  (${(100 * ratio).toFixed(0)}% of copy)`);
  console.log(`  scalar fallback         ${r.scalarGBps.toFixed(2)}`);
}
