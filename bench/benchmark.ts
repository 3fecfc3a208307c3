/**
 * The contract between `bench/run.ts` and each benchmark: a benchmark measures, writes its plots,
 * and returns one markdown section for BENCHMARKS.md.
 */

/** What every benchmark receives from the runner. */
export interface BenchContext {
  /** A smaller, faster variant (for checking that the benchmarks run, not for reference numbers). */
  readonly quick: boolean;
  /** The project root (the folder holding package.json). */
  readonly root: string;
  /** Folder to write SVG plots into (created by the runner). */
  readonly plotsDir: string;
  /** How `plotsDir` is linked from the markdown file (relative path, '/'-separated). */
  readonly plotsLink: string;
  /** Folder of the shared synthetic-lr workload. */
  readonly syntheticDir: string;
  /** Progress lines, to stderr. */
  readonly log: (line: string) => void;
}

/** One of the targets, as measured. */
export interface TargetResult {
  /** The target in words, e.g. "LR training ≥ 1M samples/s per core". */
  readonly target: string;
  /** The measured value in words. */
  readonly measured: string;
  readonly met: boolean;
}

/** What a benchmark returns: its markdown section body (without title) and the targets it checked. */
export interface BenchSection {
  readonly body: string;
  readonly targets: readonly TargetResult[];
}

/** One benchmark. */
export interface Benchmark {
  /** Name used by `--only`. */
  readonly name: string;
  /** Section title in BENCHMARKS.md. */
  readonly title: string;
  /** Measures; returns the section and the targets it checked. */
  run(ctx: BenchContext): Promise<BenchSection>;
}
