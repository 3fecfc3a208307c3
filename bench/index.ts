/**
 * The benchmarks behind `npm run bench`, in the order they run and appear in BENCHMARKS.md.
 */
import { aggregationBenchmark } from './aggregation.js';
import type { Benchmark } from './benchmark.js';
import { deploymentMemoryBenchmark } from './deployment-memory.js';
import { deploymentOverheadBenchmark } from './deployment-overhead.js';
import { deploymentSyntheticLrBenchmark } from './deployment-synthetic-lr.js';
import { privacyCkksBenchmark } from './privacy-ckks.js';
import { privacySecAggBenchmark } from './privacy-secagg.js';
import { privacyUtilityBenchmark } from './privacy-utility.js';
import { psiBenchmark } from './psi.js';
import { scaleBenchmark } from './scale.js';
import { simulationOuladBenchmark } from './simulation-oulad.js';
import { syntheticLrBenchmark } from './synthetic-lr.js';
import { trainingBenchmark } from './training.js';
import { verticalBenchmark } from './vertical.js';

export type { BenchContext, Benchmark, BenchSection, TargetResult } from './benchmark.js';
export { linearFit, median, timeRepeats, type LinearFit } from './stats.js';

/** Every benchmark, in report order. */
export const BENCHMARKS: readonly Benchmark[] = [
  trainingBenchmark,
  aggregationBenchmark,
  simulationOuladBenchmark,
  scaleBenchmark,
  syntheticLrBenchmark,
  deploymentSyntheticLrBenchmark,
  deploymentOverheadBenchmark,
  deploymentMemoryBenchmark,
  privacySecAggBenchmark,
  privacyCkksBenchmark,
  privacyUtilityBenchmark,
  verticalBenchmark,
  psiBenchmark,
];
