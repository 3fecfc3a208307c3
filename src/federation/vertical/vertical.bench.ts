/**
 * Vertical logistic regression on the OULAD three-platform split: per-epoch wall time of
 * `plain-lr` (residuals in the clear, the speed baseline) and `secure-lr` (secret-shared
 * gradients, sealed messages, the dealer's work included), in one process; the AUCs of the
 * vertical, centralized and label-holder-alone models; and the ring kernel against BigInt and
 * 32-bit-limb JavaScript. The two modes alternate, and epoch 1 (warm-up) is left out of the medians.
 *
 * Run: `node <dist>/src/federation/vertical/vertical.bench.js [epochs] [batch,...] [repeats] [region]`
 * (defaults 6 epochs, batches 64 and 256, 2 repeats, all regions). On a shared machine, read the
 * fastest-epoch ratio alongside the medians: other load only ever adds time.
 */
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { gatherMulTReference, RingMatrix } from './ring-kernel.js';
import { ringRandom } from './ring.js';
import { simulateVertical } from './simulate-vertical.js';
import { splitOulad } from './split-oulad.js';
import { verticalTrainConfig } from './train-config.js';
import type { VerticalMode } from './protocol.js';
import type { VerticalEvent } from './arbiter.js';

/** Per-epoch medians of one batch size. */
export interface VerticalBenchRow {
  readonly batchSize: number;
  /** Median wall time of an epoch. */
  readonly plainMs: number;
  readonly secureMs: number;
  /** secureMs / plainMs. */
  readonly ratio: number;
  /** Median CPU time (user + system) of an epoch: steadier than wall time on a shared machine. */
  readonly plainCpuMs: number;
  readonly secureCpuMs: number;
  /** secureCpuMs / plainCpuMs. */
  readonly cpuRatio: number;
  /** Fastest epoch of each mode and their ratio: the least disturbed by other load on a shared machine. */
  readonly plainMinMs: number;
  readonly secureMinMs: number;
  readonly minRatio: number;
  /** The dealer's part of secureMs (SecureML's offline phase, run in line here). */
  readonly dealerMs: number;
  readonly auc: { readonly plain: number; readonly secure: number; readonly centralized: number; readonly labelHolderAlone: number };
}

/** The ring kernel's cost per multiply-accumulate, in nanoseconds. */
export interface KernelBench {
  readonly wasmNs: number;
  readonly limbsNs: number;
  readonly bigintNs: number;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** acc += M[r]·v over Z_2^64 in plain JavaScript, 16-bit pieces for the low product: the limb alternative to the kernel. */
function limbsGatherMulT(m: Uint32Array, d: number, rows: Uint32Array, v: Uint32Array): Uint32Array {
  const acc = new Uint32Array(2 * d);
  for (let i = 0; i < rows.length; i++) {
    const off = rows[i]! * d * 2;
    const vl = v[2 * i]!;
    const vh = v[2 * i + 1]!;
    const v0 = vl & 0xffff;
    const v1 = vl >>> 16;
    for (let j = 0; j < d; j++) {
      const ml = m[off + 2 * j]!;
      const mh = m[off + 2 * j + 1]!;
      const m0 = ml & 0xffff;
      const m1 = ml >>> 16;
      const mid = m0 * v1 + m1 * v0;
      const low = m0 * v0 + (mid % 65536) * 65536;
      const lo = low % 4294967296;
      const hi = (m1 * v1 + Math.floor(mid / 65536) + Math.floor(low / 4294967296) + Math.imul(ml, vh) + Math.imul(mh, vl)) >>> 0;
      const s = acc[2 * j]! + lo;
      acc[2 * j] = s >>> 0;
      acc[2 * j + 1] = (acc[2 * j + 1]! + hi + (s >= 4294967296 ? 1 : 0)) >>> 0;
    }
  }
  return acc;
}

/**
 * Times M[batch]ᵀv for a 20 000 × 37 ring matrix and batches of 256 rows (OULAD's platform A) three ways.
 * @throws {Error} if the three disagree (they must agree bit for bit).
 */
export function benchKernel(): KernelBench {
  const n = 20000;
  const d = 37;
  const b = 256;
  const m = new RingMatrix(n, d, b);
  m.words.set(ringRandom(randomBytes(32), n * d));
  const v = ringRandom(randomBytes(32), b);
  const batch = Uint32Array.from({ length: b }, (_, i) => (i * 7919) % n);
  const ref = gatherMulTReference(m.words, d, batch, v);
  const wasm = m.gatherMulT(batch, v);
  const limbs = limbsGatherMulT(m.words, d, batch, v);
  if (!ref.every((x, i) => x === wasm[i] && x === limbs[i])) throw new Error('ring kernels disagree');
  const time = (fn: () => void, reps: number): number => {
    const t0 = performance.now();
    for (let r = 0; r < reps; r++) fn();
    return ((performance.now() - t0) * 1e6) / (reps * b * d);
  };
  return {
    wasmNs: time(() => m.gatherMulT(batch, v), 2000),
    limbsNs: time(() => limbsGatherMulT(m.words, d, batch, v), 200),
    bigintNs: time(() => gatherMulTReference(m.words, d, batch, v), 5),
  };
}

/** Runs both modes `repeats` times per batch size on the OULAD split and reports per-epoch medians. */
export async function benchVertical(options: { readonly epochs?: number; readonly batchSizes?: readonly number[]; readonly repeats?: number; readonly regions?: readonly string[] } = {}): Promise<{
  readonly description: string;
  readonly rows: readonly VerticalBenchRow[];
}> {
  const split = splitOulad(options.regions !== undefined ? { regions: options.regions } : {});
  const epochs = options.epochs ?? 6;
  const rows: VerticalBenchRow[] = [];
  for (const batchSize of options.batchSizes ?? [64, 256]) {
    const times: Record<'plain-lr' | 'secure-lr', number[]> = { 'plain-lr': [], 'secure-lr': [] };
    const cpu: Record<'plain-lr' | 'secure-lr', number[]> = { 'plain-lr': [], 'secure-lr': [] };
    const dealer: number[] = [];
    const auc = { plain: 0, secure: 0, centralized: 0, labelHolderAlone: 0 };
    for (let rep = 0; rep < (options.repeats ?? 2); rep++) {
      for (const mode of ['plain-lr', 'secure-lr'] as const satisfies readonly VerticalMode[]) {
        const config = verticalTrainConfig({ jobId: `bench-${mode}-${batchSize}-${rep}`, mode, epochs, batchSize, learningRate: 0.1 });
        let last = process.cpuUsage();
        const onEvent = (e: VerticalEvent): void => {
          const now = process.cpuUsage(last);
          // Epoch 1 is warm-up; the setup event only restarts the clock.
          if (e.kind === 'epoch' && e.epoch > 1) cpu[mode].push((now.user + now.system) / 1000);
          last = process.cpuUsage();
        };
        const sim = await simulateVertical(split.platforms, { idColumn: split.idColumn, config, compare: rep === 0, onEvent });
        for (const e of sim.train.epochs.slice(1)) {
          times[mode].push(e.ms);
          if (mode === 'secure-lr') dealer.push(e.dealerMs);
        }
        if (rep === 0) {
          if (mode === 'plain-lr') auc.plain = sim.train.metrics.auc;
          else auc.secure = sim.train.metrics.auc;
          auc.centralized = sim.comparison?.centralized.auc ?? Number.NaN;
          auc.labelHolderAlone = sim.comparison?.labelHolderAlone.auc ?? Number.NaN;
        }
      }
    }
    const plainMs = median(times['plain-lr']);
    const secureMs = median(times['secure-lr']);
    const plainCpuMs = median(cpu['plain-lr']);
    const secureCpuMs = median(cpu['secure-lr']);
    const plainMinMs = Math.min(...times['plain-lr']);
    const secureMinMs = Math.min(...times['secure-lr']);
    rows.push({
      batchSize,
      plainMs,
      secureMs,
      ratio: secureMs / plainMs,
      plainCpuMs,
      secureCpuMs,
      cpuRatio: secureCpuMs / plainCpuMs,
      plainMinMs,
      secureMinMs,
      minRatio: secureMinMs / plainMinMs,
      dealerMs: median(dealer),
      auc,
    });
  }
  return { description: split.description, rows };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [epochs, batches, repeats, region] = process.argv.slice(2);
  const k = benchKernel();
  console.log(`ring kernel, ns per multiply-accumulate: wasm ${k.wasmNs.toFixed(2)}, 32-bit limbs ${k.limbsNs.toFixed(2)}, BigInt ${k.bigintNs.toFixed(1)}`);
  const result = await benchVertical({
    ...(epochs !== undefined ? { epochs: Number(epochs) } : {}),
    ...(batches !== undefined ? { batchSizes: batches.split(',').map(Number) } : {}),
    ...(repeats !== undefined ? { repeats: Number(repeats) } : {}),
    ...(region !== undefined ? { regions: [region] } : {}),
  });
  console.log(result.description);
  console.log('batch | plain ms/epoch: median wall (CPU) min | secure ms/epoch: median wall (CPU) min [dealer] | ratio: median wall (CPU) min | AUC plain / secure / centralized / label holder alone');
  for (const r of result.rows) {
    console.log(
      `${r.batchSize} | ${r.plainMs.toFixed(1)} (${r.plainCpuMs.toFixed(1)}) ${r.plainMinMs.toFixed(1)} | ${r.secureMs.toFixed(1)} (${r.secureCpuMs.toFixed(1)}) ${r.secureMinMs.toFixed(1)} [${r.dealerMs.toFixed(1)}] | ` +
        `${r.ratio.toFixed(2)} (${r.cpuRatio.toFixed(2)}) ${r.minRatio.toFixed(2)} | ` +
        `${r.auc.plain.toFixed(4)} / ${r.auc.secure.toFixed(4)} / ${r.auc.centralized.toFixed(4)} / ${r.auc.labelHolderAlone.toFixed(4)}`,
    );
  }
}
