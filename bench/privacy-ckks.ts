/**
 * `privacy-ckks`: CKKS secure aggregation. Throughput of the primitive at 100k parameters
 * (encrypt, add, decrypt), ciphertext bytes per parameter, the approximation error of a decrypted
 * sum, the whole-round overhead against plain FedAvg at 10 participants × 100k parameters, and δ on
 * the 13-region OULAD simulation with and without CKKS.
 */
import { randomFillSync } from 'node:crypto';
import { createCkks, DEFAULT_CKKS_PARAMS, type Ckks } from '../src/crypto/ckks.js';
import { buildOulad } from '../src/data/datasets/oulad.js';
import { EduFedError } from '../src/core/errors.js';
import { CkksClient, ckksKeySetup, createCkksKeyState, type CkksCall } from '../src/federation/ckks/index.js';
import type { HorizontalJobConfig } from '../src/federation/horizontal/job-config.js';
import { partitionRaw } from '../src/simulation/partition-raw.js';
import { simulateHorizontal, type SimulationResult } from '../src/simulation/simulate.js';
import type { Benchmark, BenchContext, BenchSection, TargetResult } from './benchmark.js';
import { encodedDim, mlpWithParams, ouladJob, ouladParts, ouladWorkload, type OuladWorkload } from './deployment-oulad.js';
import { count, fixed, mdTable, ms } from './format.js';
import { runInProcess, simulateDefaults, type InProcessRun } from './privacy-harness.js';
import { median, timeRepeats } from './stats.js';

const PARAMS = 100_000;
/** Inputs added into one sum in the primitive benchmark. */
const SUM_INPUTS = 10;
const REPEATS = 5;
const LIGHT_ROWS = 50;
/** Our criterion for "does not move δ": well below the 0.01 of the δ target itself, a few of 6,519 test predictions. */
const DELTA_SHIFT_LIMIT = 0.001;

/** Uniform values in [−1, 1) from the OS CSPRNG (test data only). */
function randomVector(n: number): Float64Array {
  const words = new Uint32Array(n);
  randomFillSync(words);
  const v = new Float64Array(n);
  for (let i = 0; i < n; i++) v[i] = (words[i] as number) / 2 ** 31 - 1;
  return v;
}

const perSecond = (items: number, msTaken: number): number => (items * 1000) / msTaken;
const rate = (x: number): string => (x >= 1e6 ? `${(x / 1e6).toFixed(2)} M/s` : `${(x / 1e3).toFixed(0)} k/s`);
const byteCount = (cts: readonly Uint8Array[]): number => cts.reduce((a, c) => a + c.byteLength, 0);

interface PrimitiveResult {
  readonly n: number;
  readonly ciphertexts: number;
  readonly encryptSecretMs: number;
  readonly encryptPublicMs: number;
  readonly addMs: number;
  readonly decryptMs: number;
  readonly bytesSecret: number;
  readonly bytesPublic: number;
  readonly maxError: number;
  readonly rmsError: number;
  readonly maxAbsSum: number;
  readonly bound: number;
}

/** Times the primitive as participants and the coordinator use it. */
async function primitive(n: number, repeats: number): Promise<PrimitiveResult> {
  // A participant holds the job's secret key and encrypts with it (half the bytes); an encryptor
  // with only the public key is timed too.
  const holder: Ckks = await createCkks(DEFAULT_CKKS_PARAMS);
  const outsider: Ckks = await createCkks(DEFAULT_CKKS_PARAMS);
  try {
    holder.generateKeys();
    outsider.loadPublicKey(holder.savePublicKey());
    const inputs = Array.from({ length: SUM_INPUTS }, () => randomVector(n));
    const first = inputs[0] as Float64Array;
    let secretCts: Uint8Array[] = [];
    let publicCts: Uint8Array[] = [];
    const encryptSecretMs = median(timeRepeats(() => void (secretCts = holder.encrypt(first)), repeats));
    const encryptPublicMs = median(timeRepeats(() => void (publicCts = outsider.encrypt(first)), repeats));
    const encrypted = inputs.map((v) => holder.encrypt(v));
    // Adding: what the coordinator does per arriving input (load the ciphertexts, add them into the running sum).
    const addTimes: number[] = [];
    let sumCts: Uint8Array[] = [];
    for (let r = 0; r < Math.max(2, Math.ceil(repeats / 2)); r++) {
      const acc = outsider.createSum();
      for (const e of encrypted) {
        const t0 = performance.now();
        outsider.addInto(acc, e);
        addTimes.push(performance.now() - t0);
      }
      sumCts = acc.save();
      acc.dispose();
    }
    let decrypted: Float64Array = new Float64Array(0);
    const decryptMs = median(timeRepeats(() => void (decrypted = holder.decrypt(sumCts, n)), repeats));
    const exact = new Float64Array(n);
    for (const v of inputs) for (let i = 0; i < n; i++) exact[i] = (exact[i] as number) + (v[i] as number);
    let maxError = 0;
    let sq = 0;
    let maxAbsSum = 0;
    for (let i = 0; i < n; i++) {
      const e = Math.abs((decrypted[i] as number) - (exact[i] as number));
      maxError = Math.max(maxError, e);
      sq += e * e;
      maxAbsSum = Math.max(maxAbsSum, Math.abs(exact[i] as number));
    }
    return {
      n,
      ciphertexts: holder.ciphertextCount(n),
      encryptSecretMs,
      encryptPublicMs,
      addMs: median(addTimes.slice(SUM_INPUTS)),
      decryptMs,
      bytesSecret: byteCount(secretCts),
      bytesPublic: byteCount(publicCts),
      maxError,
      rmsError: Math.sqrt(sq / n),
      maxAbsSum,
      // Inputs and partial sums stay within ±SUM_INPUTS.
      bound: holder.errorBound(SUM_INPUTS, SUM_INPUTS),
    };
  } finally {
    holder.dispose();
    outsider.dispose();
  }
}

/**
 * Times the job's key setup among `n` participants' CKKS roles (in process): a leader generates the
 * key pair and seals the secret key to every other participant, each of whom installs it.
 */
async function keySetupMs(n: number, repeats: number): Promise<{ ms: number; installed: number }> {
  const times: number[] = [];
  let installed = 0;
  for (let r = 0; r <= repeats; r++) {
    const ids = Array.from({ length: n }, (_, i) => `p${String(i).padStart(2, '0')}`);
    const clients = new Map(ids.map((id) => [id, new CkksClient(id)]));
    const noTraining = (): never => {
      throw new EduFedError('INTERNAL', 'key setup does not train');
    };
    const call: CkksCall = async (id, req) => {
      const c = clients.get(id);
      if (c === undefined) throw new EduFedError('PARTICIPANT', `no CKKS role "${id}"`);
      return c.handle(`key-setup-${r}`, req, noTraining);
    };
    const t0 = performance.now();
    const result = await ckksKeySetup(createCkksKeyState(), ids, call, { params: DEFAULT_CKKS_PARAMS, timeoutMs: 60_000 });
    // The first setup loads SEAL and builds its context: warm-up.
    if (r > 0) times.push(performance.now() - t0);
    installed = result.installed.length;
    for (const c of clients.values()) c.forget(`key-setup-${r}`);
  }
  return { ms: median(times), installed };
}

interface RoundPair {
  readonly label: string;
  readonly participants: number;
  readonly params: number;
  readonly rowsEach: string;
  readonly plain: InProcessRun;
  readonly ckks: InProcessRun;
}

const steady = (xs: readonly number[]): number => median(xs.length > 1 ? xs.slice(1) : xs);
const wall = (r: InProcessRun): readonly number[] => r.job.rounds.map((x) => x.wallMs);

function maxDiff(a: Float32Array, b: Float32Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs((a[i] as number) - (b[i] as number)));
  return d;
}

async function roundPair(ctx: BenchContext, w: OuladWorkload, label: string, participants: number, rows: number | undefined, rounds: number, targetParams: number): Promise<RoundPair> {
  const parts = ouladParts(w, participants, rows);
  const { spec } = mlpWithParams(encodedDim(parts, w.schema), targetParams);
  const base: HorizontalJobConfig = ouladJob(w, `privacy-ckks-${participants}-${rows ?? 'all'}`, spec, rounds);
  const plain = await runInProcess(base, parts);
  ctx.log(`  ${label}, plain: rounds ${wall(plain).map((x) => x.toFixed(0)).join('/')} ms`);
  const ckks = await runInProcess({ ...base, privacy: { aggregation: 'ckks' } }, parts);
  ctx.log(`  ${label}, CKKS: rounds ${wall(ckks).map((x) => x.toFixed(0)).join('/')} ms`);
  const sizes = parts.map((p) => p.raw.rows.length);
  const lo = Math.min(...sizes);
  const hi = Math.max(...sizes);
  return { label, participants: parts.length, params: plain.job.model.numParams, rowsEach: lo === hi ? count(lo) : `${count(lo)}–${count(hi)}`, plain, ckks };
}


async function run(ctx: BenchContext): Promise<BenchSection> {
  const q = ctx.quick;
  const n = q ? 10_000 : PARAMS;
  const targets: TargetResult[] = [];

  // 1. The primitive.
  const p = await primitive(n, q ? 2 : REPEATS);
  ctx.log(`  primitive: encrypt ${p.encryptSecretMs.toFixed(0)} ms, add ${p.addMs.toFixed(1)} ms, decrypt ${p.decryptMs.toFixed(0)} ms for ${n} values`);

  // 2. Whole rounds against plain FedAvg.
  const w = ouladWorkload();
  const roundN = q ? 4 : 10;
  const keySetup = await keySetupMs(roundN, q ? 1 : 3);
  ctx.log(`  key setup among ${roundN}: ${keySetup.ms.toFixed(0)} ms`);
  const rounds = q ? 2 : 3;
  const pairs: RoundPair[] = [];
  pairs.push(await roundPair(ctx, w, `light (${LIGHT_ROWS} rows each)`, roundN, LIGHT_ROWS, rounds, n));
  if (!q) pairs.push(await roundPair(ctx, w, `all rows (OULAD split over ${roundN})`, roundN, undefined, rounds, n));

  // 3. δ on OULAD, 13 regions, with and without CKKS.
  const { raw, schema } = buildOulad({ task: 'early-warning', label: 'pass' });
  const regions = partitionRaw(raw, schema, { kind: 'column', column: 'region' });
  const simRounds = q ? 5 : 20;
  const plainSim: SimulationResult = await simulateHorizontal(simulateDefaults(schema, simRounds), regions);
  const ckksSim: SimulationResult = await simulateHorizontal({ ...simulateDefaults(schema, simRounds), privacy: { aggregation: 'ckks' } }, regions);
  const pc = plainSim.comparison;
  const cc = ckksSim.comparison;
  ctx.log(`  OULAD δ AUC: plain ${fixed(pc?.delta.auc, 4)}, CKKS ${fixed(cc?.delta.auc, 4)}`);

  const pairRow = (r: RoundPair): string[] => {
    const pw = steady(wall(r.plain));
    const cw = steady(wall(r.ckks));
    const pcpu = steady(r.plain.roundCpuMs);
    const ccpu = steady(r.ckks.roundCpuMs);
    return [
      r.label,
      count(r.participants),
      count(r.params),
      r.rowsEach,
      `${ms(pw)} / ${ms(pcpu)}`,
      `${ms(cw)} / ${ms(ccpu)}`,
      ms(cw - pw),
      `**${fixed(cw / pw, 2)}×**`,
      `${fixed(ccpu / pcpu, 2)}×`,
      `${wall(r.plain).map((x) => x.toFixed(0)).join('/')}; ${wall(r.ckks).map((x) => x.toFixed(0)).join('/')}`,
      maxDiff(r.plain.job.params, r.ckks.job.params).toExponential(2),
    ];
  };

  const deltaRow = (label: string, s: SimulationResult): string[] => {
    const c = s.comparison;
    return [
      label,
      fixed(c?.federated.accuracy, 4),
      fixed(c?.federated.auc, 4),
      fixed(c?.centralized.accuracy, 4),
      fixed(c?.centralized.auc, 4),
      fixed(c?.delta.accuracy, 4),
      fixed(c?.delta.auc, 4),
      ms(s.timings.federatedMs),
    ];
  };
  const thetaDiff = maxDiff(plainSim.job.params, ckksSim.job.params);
  const deltaShift = pc !== undefined && cc !== undefined ? Math.max(Math.abs(pc.delta.accuracy - cc.delta.accuracy), Math.abs(pc.delta.auc - cc.delta.auc)) : Number.NaN;
  const unchanged = deltaShift < DELTA_SHIFT_LIMIT;
  targets.push({
    target: `issue 4: CKKS does not move δ (OULAD early warning, 13 regions, ${simRounds} rounds; our criterion: each δ changes by < ${DELTA_SHIFT_LIMIT})`,
    measured: `δ acc / δ AUC: plain ${fixed(pc?.delta.accuracy, 4)} / ${fixed(pc?.delta.auc, 4)}, CKKS ${fixed(cc?.delta.accuracy, 4)} / ${fixed(cc?.delta.auc, 4)}`,
    met: unchanged,
  });

  const body = [
    `CKKS (Cheon, Kim, Kim, Song 2017) through node-seal 6.0.3 (SEAL in WebAssembly), default parameters: N = ${DEFAULT_CKKS_PARAMS.polyModulusDegree}`,
    `(${DEFAULT_CKKS_PARAMS.polyModulusDegree / 2} values per ciphertext), coefficient modulus ${DEFAULT_CKKS_PARAMS.coeffModulusBits.join(' + ')} bits, scale 2^${DEFAULT_CKKS_PARAMS.scaleBits}.`,
    '',
    `### The primitive at ${count(n)} parameters`,
    '',
    `One vector of ${count(n)} values uniform in [−1, 1) (${p.ciphertexts} ciphertexts). Encrypt and decrypt: median of ${q ? 2 : REPEATS} runs after a`,
    `warm-up; add: median over ${SUM_INPUTS}-input sums (load the serialised ciphertexts of one input and add them into the running sum,`,
    `as the coordinator does per arriving input; the first sum is warm-up). A participant holds the job\'s secret key and`,
    'encrypts with it (SEAL then sends a seed in place of half of each ciphertext); a public-key-only encryptor is shown for',
    'comparison. Bytes are the zstd-compressed serialisations that go on the wire.',
    '',
    mdTable(
      ['operation', 'time per vector', 'parameters per second', 'bytes per parameter'],
      [
        ['encrypt with the secret key (participants)', ms(p.encryptSecretMs), rate(perSecond(n, p.encryptSecretMs)), fixed(p.bytesSecret / n, 1)],
        ['encrypt with the public key only', ms(p.encryptPublicMs), rate(perSecond(n, p.encryptPublicMs)), fixed(p.bytesPublic / n, 1)],
        ['add one encrypted input into a sum (coordinator)', ms(p.addMs), rate(perSecond(n, p.addMs)), '—'],
        [`decrypt a sum of ${SUM_INPUTS}`, ms(p.decryptMs), rate(perSecond(n, p.decryptMs)), '—'],
        ['plain float32, for comparison', '—', '—', '4.0'],
      ],
    ),
    '',
    `Approximation error of the decrypted sum of ${SUM_INPUTS} inputs against the exact float64 sum: max ${p.maxError.toExponential(2)}, RMS`,
    `${p.rmsError.toExponential(2)} (largest |sum| ${fixed(p.maxAbsSum, 2)}); the a-priori bound \`Ckks.errorBound(${SUM_INPUTS}, ${SUM_INPUTS})\` is ${p.bound.toExponential(2)}. Both are`,
    'far below float32 resolution of a model parameter (2^-24 relative, 6·10^-8).',
    '',
    `### Whole rounds: ${roundN} participants × ${count(n)} parameters`,
    '',
    'A plain FedAvg job and the same job with `privacy: { aggregation: \'ckks\' }` (default CKKS settings: example weighting),',
    'in this process through bench/privacy-harness.ts (`runHorizontalJob`, `HorizontalParticipant`, `SecureRoles`), same',
    'participants, rows, model, job id and seeds. Workload: OULAD early-warning rows split uniformly at random (seed 42),',
    `each participant keeping its first ${LIGHT_ROWS} rows (light) or all of them; an MLP with two equal hidden layers sized to the`,
    'parameter count, 1 local epoch, batch 32, η = 0.1. A CKKS round: each participant trains, encrypts [1, w, w·Δ] with the',
    'secret key, the coordinator adds the ciphertexts as they arrive, one participant decrypts the sum. Round 1 also runs the',
    'key setup (a leader generates the key pair and seals the secret key to every other participant with X25519 + AES-GCM,',
    `each installs it), so "round" is the median of rounds 2 and later. The key setup alone, among ${roundN} in-process CKKS roles`,
    `(\`ckksKeySetup\`, median of ${q ? 1 : 3} after a warm-up), takes ${ms(keySetup.ms)} (${keySetup.installed} of ${roundN} installed the key); it runs once per job`,
    '(and for participants joining later). Wall: `RoundRecord.wallMs`; CPU: this process\'s CPU time over the same span (less',
    'disturbed by other processes).',
    '',
    mdTable(
      ['workload', 'participants', 'parameters', 'rows each', 'plain round: wall / CPU', 'CKKS round: wall / CPU', 'extra (wall)', 'ratio (wall)', 'ratio (CPU)', 'every round, plain; CKKS (wall ms)', 'max |θ_CKKS − θ_plain|'],
      pairs.map(pairRow),
    ),
    '',
    ...pairs
      .filter((r) => steady(wall(r.ckks)) < steady(wall(r.plain)))
      .map(
        (r) =>
          `For "${r.label}" CKKS came out faster than plain: its cost (the extra of the light row, where training is small) is below the` +
          ` round-to-round variation of rounds that long on this shared machine (see the rounds column), so that ratio only says "close to 1".\n`,
      ),
    `Bytes: each participant uploads ${fixed(p.bytesSecret / 2 ** 20, 2)} MiB of ciphertexts per round at ${count(n)} parameters (${p.ciphertexts} ciphertexts,`,
    `${fixed(p.bytesSecret / n, 1)} bytes per parameter) instead of ${fixed((4 * n) / 2 ** 20, 2)} MiB of float32, and the decryptor gets the summed ciphertexts, as large.`,
    '',
    'The last column is the whole job\'s approximation error on the final model: CKKS error plus float64 versus float32',
    'accumulation order, both far below what changes a prediction.',
    '',
    `### δ on OULAD (13 regions, ${simRounds} rounds), plain and CKKS`,
    '',
    'The default `edufed simulate` job (logistic regression, FedAvg, E = 1, batch 32, η = 0.1, seed 42), with and without',
    '`--aggregation ckks`; baselines and δ exactly as in the simulation-oulad section.',
    '',
    mdTable(['aggregation', 'fed acc', 'fed AUC', 'central acc', 'central AUC', 'δ acc', 'δ AUC', 'job wall time'], [deltaRow('plain', plainSim), deltaRow('CKKS', ckksSim)]),
    '',
    `Largest difference between the two final models: ${thetaDiff.toExponential(2)}; largest change of δ (accuracy or AUC):`,
    `${Number.isFinite(deltaShift) ? fixed(deltaShift, 6) : '—'}. Our criterion for "does not move δ" is a change below ${DELTA_SHIFT_LIMIT} (a tenth of the δ ≤ 0.01`,
    `target): ${unchanged ? 'met' : '**missed**'}.`,
  ].join('\n');
  return { body, targets };
}

/** The `privacy-ckks` benchmark. */
export const privacyCkksBenchmark: Benchmark = { name: 'privacy-ckks', title: 'Privacy: CKKS aggregation', run };
