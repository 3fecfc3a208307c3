/**
 * Multi-process tests of the privacy modes: a coordinator and participants as separate OS processes,
 * talking gRPC over mutual TLS on loopback, with their real SQLite database and ledgers. They prove
 * that SecAgg+ masks and CKKS ciphertexts add up over the network to the plain model, that SecAgg+
 * survives a participant killed between sending its masked input and unmasking, that differential
 * privacy is accounted round by round and a platform's own budget stops the job, and that the
 * coordinator's durable state holds no individual update under SecAgg+.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RawTable } from '../src/data/table.js';
import { toTable } from '../src/data/to-table.js';
import { stratifiedSplit } from '../src/data/split.js';
import type { HorizontalJobConfig } from '../src/federation/horizontal/job-config.js';
import type { RoundRecord } from '../src/coordinator/horizontal-workflow.js';
import { CoordinatorStore } from '../src/coordinator/store.js';
import { dpSgdSchedule, PrivacyLedger, type LedgerEntry } from '../src/privacy/index.js';
import { simulateHorizontal } from '../src/simulation/simulate.js';
import { EDUFED_MAIN, prepareLocalDeployment, type LocalDeployment } from '../src/cli/local-deployment.js';
import { spawnNode, SYNTHETIC_SCHEMA as schema, syntheticPlatform as platform, type Proc } from './fixtures/e2e-kit.js';

const DYING = new URL('./fixtures/dying-participant.js', import.meta.url).pathname;
const RECORDING = new URL('./fixtures/recording-participant.js', import.meta.url).pathname;

type Part = { readonly id: string; readonly raw: RawTable };
const three: readonly Part[] = [0, 1, 2].map((k) => ({ id: `platform-${k}`, raw: platform(k, 600) }));
const four: readonly Part[] = [0, 1, 2, 3].map((k) => ({ id: `platform-${k}`, raw: platform(k, 600) }));

function job(jobId: string, rounds: number, over: Partial<HorizontalJobConfig> = {}): HorizontalJobConfig {
  return {
    jobId,
    schema,
    testFraction: 0.2,
    splitSeed: 5,
    // Logistic regression: convex, so the tiny quantisation error of a secure sum is not amplified by later
    // rounds as an MLP's activation flips can (seen: 4e-6 grown to 3e-4 in 3 rounds), and models compare tightly.
    model: { kind: 'logistic' },
    strategy: { name: 'fedavg', fractionFit: 1, minFit: 1, epochs: 2, batchSize: 16, learningRate: 0.05 },
    rounds,
    seed: 11,
    roundTimeoutMs: 20_000,
    ...over,
  };
}

/** The same job without its privacy settings: the plain reference. */
function plainOf(config: HorizontalJobConfig): HorizontalJobConfig {
  const { privacy: _privacy, ...plain } = config;
  return plain;
}

interface Deployed {
  readonly status: string | undefined;
  readonly stopReason: string | null | undefined;
  readonly rounds: readonly RoundRecord[];
  readonly final: Float32Array | undefined;
  /** Every audited message of the job, as `kind|sender|receiver|round`. */
  readonly audit: readonly string[];
  readonly participants: readonly Proc[];
}

interface DeployOptions {
  /** The argv (after `node`) of participant i; default the real `edufed participant`. */
  readonly participantArgs?: (p: LocalDeployment['participants'][number], i: number) => string[];
  /** Extra fields merged into a participant's configuration file (its policy, say). */
  readonly participantConfig?: (id: string) => Readonly<Record<string, unknown>> | undefined;
  /** Called after each round the coordinator reports complete (its checkpoint is committed by then). */
  readonly onRound?: (round: number, d: LocalDeployment) => void;
  /** Called once the coordinator exited, before the folder is removed. */
  readonly after?: (d: LocalDeployment) => void;
}

/** Runs `config` as a coordinator process and one process per part, to the coordinator's exit; returns what its store holds. */
async function deploy(config: HorizontalJobConfig, parts: readonly Part[], options: DeployOptions = {}): Promise<Deployed> {
  const dir = mkdtempSync(join(tmpdir(), 'edufed-privacy-e2e-'));
  const procs: Proc[] = [];
  try {
    const d = await prepareLocalDeployment(dir, parts, config, schema);
    for (const p of d.participants) {
      const extra = options.participantConfig?.(p.id);
      if (extra !== undefined) writeFileSync(p.config, JSON.stringify({ ...(JSON.parse(readFileSync(p.config, 'utf8')) as Record<string, unknown>), ...extra }));
    }
    const coordinator = spawnNode([EDUFED_MAIN, 'coordinator', '--config', d.coordinatorConfig, '--events'], (line) => {
      if (!line.startsWith('{')) return;
      const e = JSON.parse(line) as { type: string; record?: { round: number } };
      if (e.type === 'round' && e.record !== undefined) options.onRound?.(e.record.round, d);
    });
    procs.push(coordinator);
    const participants = d.participants.map((p, i) => spawnNode(options.participantArgs?.(p, i) ?? [EDUFED_MAIN, 'participant', '--config', p.config]));
    procs.push(...participants);
    assert.equal(await coordinator.exit, 0, coordinator.log.join('\n'));
    options.after?.(d);
    const store = new CoordinatorStore(d.database);
    try {
      const info = store.getJob(config.jobId);
      return {
        status: info?.status,
        stopReason: info?.stopReason,
        rounds: store.listRounds(config.jobId).map((r) => r.record),
        final: store.loadResume(config.jobId)?.params,
        audit: store.listAudit({ jobId: config.jobId, limit: 1_000_000 }).map((a) => `${a.kind}|${a.sender}|${a.receiver}|${a.round}`),
        participants,
      };
    } finally {
      store.close();
    }
  } finally {
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exit));
    rmSync(dir, { recursive: true, force: true });
  }
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length, 'models of different sizes');
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

const kindsOf = (audit: readonly string[]): Set<string> => new Set(audit.map((a) => a.split('|')[0] ?? ''));

test('SecAgg+ over the network: masks cancel, and the model equals the plain model up to quantisation (< 1e-4)', { timeout: 120_000 }, async () => {
  // Prepare
  const config = job('secagg-e2e', 3, { privacy: { aggregation: 'secagg+' } });
  const reference = await simulateHorizontal(plainOf(config), three, { compare: false });
  // Execute
  const r = await deploy(config, three);
  // Assert
  assert.equal(r.status, 'done');
  assert.deepEqual(r.rounds.map((x) => [x.round, x.aggregation, [...x.received]]), [1, 2, 3].map((n) => [n, 'secagg+', three.map((p) => p.id)]));
  const kinds = kindsOf(r.audit);
  assert.ok(kinds.has('secagg.collect-result') && kinds.has('secagg.unmask-result'), [...kinds].join(', '));
  assert.ok(!kinds.has('horizontal.train-result'), 'no update travelled in the clear');
  assert.ok(r.final !== undefined);
  const diff = maxAbsDiff(r.final, reference.job.params);
  // A mask left in the sum would be uniform noise over the ±8 clip range; quantisation alone stays near 2^-18 ≈ 4e-6.
  assert.ok(diff < 1e-4, `SecAgg+ and plain models differ by ${diff}`);
});

const DEATHS = [
  {
    stage: 'collect',
    name: 'SecAgg+ with 4 participants, one killed by SIGKILL when asked for its masked input (after sharing its keys): its dangling pairwise masks are removed with its mask key rebuilt from the others\' shares, the round records it as dropped, and the model is the plain average of the other three',
  },
  {
    stage: 'unmask',
    name: 'SecAgg+ with 4 participants, one killed by SIGKILL when asked to unmask: its self-mask is removed with the seed rebuilt from the others\' shares, its input stays in the round, and the model is the plain 4-platform model',
  },
] as const;

for (const { stage, name } of DEATHS) {
  test(name, { timeout: 120_000 }, async () => {
    // Prepare: k = 2 neighbours, t = 2 of the 3 holders of each secret, so every secret survives one loss.
    const victim = 'platform-2';
    const config = job(`secagg-${stage}-death-e2e`, 2, { minParticipants: 2, privacy: { aggregation: 'secagg+', secAgg: { neighbours: 2, threshold: 2 } } });
    // The plain reference: at collect the victim's round-2 update never exists; at unmask it is already in the sum.
    const reference = await simulateHorizontal(plainOf(config), four, {
      compare: false,
      wrapCaller: (id, direct) => (id === victim && stage === 'collect'
        ? (req, opts) => (req.step === 'train' && req.payload.round === 2 ? Promise.reject(new Error('killed')) : direct(req, opts))
        : direct),
    });
    // Execute
    const r = await deploy(config, four, {
      participantArgs: (p) => (p.id === victim ? [DYING, p.config, `secagg.${stage}`, '2'] : [EDUFED_MAIN, 'participant', '--config', p.config]),
    });
    // Assert: the victim really died at that stage, without answering.
    const dead = r.participants[2];
    assert.ok(dead !== undefined);
    assert.equal(await dead.exit, 137, 'the victim was killed');
    assert.ok(dead.log.some((l) => l.includes(`killing myself on secagg.${stage} of round 2`)), dead.log.join('\n'));
    assert.ok(r.audit.includes(`secagg.${stage}|coordinator|${victim}|2`), `the victim was sent secagg.${stage}`);
    assert.ok(!r.audit.includes(`secagg.${stage}-result|${victim}|coordinator|2`), 'the victim never answered it');
    // The round and the job completed anyway.
    assert.equal(r.status, 'done');
    assert.deepEqual(r.rounds.map((x) => x.round), [1, 2]);
    const round2 = r.rounds[1];
    assert.ok(round2 !== undefined);
    assert.deepEqual([...round2.selected].sort(), four.map((p) => p.id));
    if (stage === 'collect') {
      assert.deepEqual([...round2.received], four.map((p) => p.id).filter((id) => id !== victim));
      const d = round2.dropped.find((x) => x.participantId === victim);
      assert.ok(d !== undefined && /^secagg collect: /.test(d.reason) && !d.flagged, `round 2 dropped: ${JSON.stringify(round2.dropped)}`);
    } else {
      // Its masked input arrived before it died, so it counts; the round records that it failed afterwards.
      assert.deepEqual([...round2.received], four.map((p) => p.id));
      const f = round2.failedAfterInput?.find((x) => x.participantId === victim);
      assert.ok(f !== undefined && /^secagg unmask: /.test(f.reason), `round 2 failedAfterInput: ${JSON.stringify(round2.failedAfterInput)}`);
    }
    // Wrong or missing shares would leave a mask in the sum: uniform noise over the ±8 clip range, far from the plain model.
    assert.ok(r.final !== undefined);
    const diff = maxAbsDiff(r.final, reference.job.params);
    assert.ok(diff < 1e-4, `recovered SecAgg+ and plain models differ by ${diff}`);
  });
}

test('CKKS over the network: the homomorphic sum decrypts to the plain model within CKKS error (< 1e-6)', { timeout: 120_000 }, async () => {
  // Prepare
  const config = job('ckks-e2e', 3, { privacy: { aggregation: 'ckks' } });
  const reference = await simulateHorizontal(plainOf(config), three, { compare: false });
  // Execute
  const r = await deploy(config, three);
  // Assert
  assert.equal(r.status, 'done');
  assert.deepEqual(r.rounds.map((x) => [x.round, x.aggregation, [...x.received]]), [1, 2, 3].map((n) => [n, 'ckks', three.map((p) => p.id)]));
  const kinds = kindsOf(r.audit);
  assert.ok([...kinds].some((k) => k.startsWith('ckks.')), [...kinds].join(', '));
  assert.ok(!kinds.has('horizontal.train-result'), 'no update travelled in the clear');
  assert.ok(r.final !== undefined);
  const diff = maxAbsDiff(r.final, reference.job.params);
  // CKKS noise at scale Δ = 2^60 is far below float32's resolution: a visible error means a broken sum.
  assert.ok(diff < 1e-6, `CKKS and plain models differ by ${diff}`);
});

test('learner-level DP-SGD: every stored round carries its ε, increasing, and a platform\'s policy maxEpsilon stops the job before the round that would exceed it, naming that platform', { timeout: 120_000 }, async () => {
  // Prepare: the ε platform-1 spends per round, from its own training-set size (as its setup reply reports it).
  const sigma = 1.1;
  const config = job('dp-e2e', 6, { privacy: { dp: { unit: 'learner', clipNorm: 1, noiseMultiplier: sigma } } });
  const owner = 'platform-1';
  const table = toTable(platform(1, 600), schema);
  const numTrain = stratifiedSplit(table.labels, config.testFraction, config.splitSeed).train.length;
  const s = dpSgdSchedule(numTrain, 16, 2); // job()'s batch size and local epochs
  const ledger = new PrivacyLedger({ delta: 1e-5 });
  const eps: number[] = [];
  for (let round = 1; round <= 4; round++) {
    ledger.record({ round, unit: 'learner', participantId: owner, q: s.sampleRate, sigma, steps: s.steps });
    eps.push(ledger.summary()[0]?.epsilon ?? NaN);
  }
  const [, , eps3, eps4] = eps as [number, number, number, number];
  const budget = (eps3 + eps4) / 2;
  // Execute
  const r = await deploy(config, three, { participantConfig: (id) => (id === owner ? { policy: { maxEpsilon: budget } } : undefined) });
  // Assert
  assert.equal(r.status, 'done');
  assert.deepEqual(r.rounds.map((x) => x.round), [1, 2, 3], 'rounds 1-3 fit the budget, round 4 would not');
  assert.match(r.stopReason ?? '', /privacy budget/);
  assert.match(r.stopReason ?? '', /participant "platform-1"/);
  assert.match(r.stopReason ?? '', /before round 4/);
  const spent = r.rounds.map((x) => x.privacy);
  for (const [i, p] of spent.entries()) {
    assert.ok(p !== undefined, `round ${i + 1} has no privacy field`);
    assert.equal(p.unit, 'learner');
    assert.equal(p.noiseMultiplier, sigma);
    const own = p.perParticipant?.[owner];
    assert.ok(own !== undefined && Math.abs(own - (eps[i] as number)) < 1e-9 * (eps[i] as number), `round ${i + 1}: ε of ${owner} is ${own}, expected ${eps[i]}`);
    assert.ok(own <= budget);
    if (i > 0) assert.ok(p.epsilon > (spent[i - 1]?.epsilon ?? Infinity), `ε did not increase at round ${i + 1}`);
  }
  // The recorded entries alone show that one more round would have crossed the budget.
  const entries: LedgerEntry[] = spent.flatMap((p) => p?.entries ?? []).filter((e) => e.participantId === owner);
  const replay = PrivacyLedger.fromEntries(entries, { delta: 1e-5 });
  const last = entries.at(-1);
  assert.ok(last !== undefined);
  assert.ok(replay.wouldExceed(budget, { ...last, round: 4 }).exceeds);
});

/** The 16-byte windows of `values` (float32 little-endian) at every offset, but those `skip` rules out. */
function windows(values: Float32Array, skip: (i: number) => boolean): Buffer[] {
  const bytes = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => bytes.writeFloatLE(v, i * 4));
  const out: Buffer[] = [];
  for (let i = 0; i + 4 <= values.length; i++) if (!skip(i)) out.push(bytes.subarray(i * 4, i * 4 + 16));
  return out;
}

/** A 32-bit mix of the 16 bytes at `at`: the sliding search looks up one number per offset. */
function mix16(b: Buffer, at: number): number {
  const rotl = (x: number, r: number): number => (x << r) | (x >>> (32 - r));
  return (b.readUInt32LE(at) ^ rotl(b.readUInt32LE(at + 4), 7) ^ rotl(b.readUInt32LE(at + 8), 13) ^ rotl(b.readUInt32LE(at + 12), 19)) >>> 0;
}

/** The needles (16 bytes each) that occur in `haystack` at any byte offset, in one pass over it. */
function occurring(haystack: Buffer, needles: readonly Buffer[]): Buffer[] {
  const byMix = new Map<number, Buffer[]>();
  for (const n of needles) {
    const key = mix16(n, 0);
    const list = byMix.get(key);
    if (list === undefined) byMix.set(key, [n]);
    else list.push(n);
  }
  const found = new Set<Buffer>();
  for (let i = 0; i + 16 <= haystack.length; i++) {
    const candidates = byMix.get(mix16(haystack, i));
    if (candidates === undefined) continue;
    for (const n of candidates) if (haystack.compare(n, 0, 16, i, i + 16) === 0) found.add(n);
  }
  return [...found];
}

function readF32(file: string): Float32Array {
  const b = readFileSync(file);
  const out = new Float32Array(b.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = b.readFloatLE(i * 4);
  return out;
}

test('SecAgg+: no 16-byte window of any participant\'s trained parameters or delta is anywhere in the coordinator\'s database, WAL or audit log, while the final model is', { timeout: 120_000 }, async () => {
  // Prepare
  // An MLP: more parameters, so more windows that could leak.
  const config = job('secagg-leak-e2e', 3, { model: { kind: 'mlp', hidden: [8] }, privacy: { aggregation: 'secagg+' } });
  const spies = mkdtempSync(join(tmpdir(), 'edufed-spy-'));
  const snapshots: Buffer[] = [];
  const snapshot = (d: LocalDeployment): void => {
    for (const suffix of ['', '-wal', '-shm', '-journal']) {
      const f = d.database + suffix;
      // The WAL is checkpointed away when the store closes: reading it after every round keeps its frames.
      if (existsSync(f)) snapshots.push(readFileSync(f));
    }
  };
  try {
    // Execute
    const r = await deploy(config, three, {
      participantArgs: (p) => [RECORDING, p.config, join(spies, p.id)],
      onRound: (_round, d) => snapshot(d),
      after: snapshot,
    });
    // Assert
    assert.equal(r.status, 'done');
    assert.equal(r.rounds.length, 3);
    assert.ok(snapshots.length >= 4, `${snapshots.length} database snapshots`);
    const haystack = Buffer.concat(snapshots);
    // Decimal forms as they would appear in JSON (a round record, say); short ones occur by chance.
    const decimals = new Set(haystack.toString('latin1').match(/-?\d+\.\d{9,}(e-?\d+)?/g) ?? []);
    const owner = new Map<Buffer, string>();
    const values: { readonly who: string; readonly text: string }[] = [];
    for (const p of three) {
      for (let round = 1; round <= 3; round++) {
        const global = readF32(join(spies, p.id, `train-${round}.global.f32`));
        const trained = readF32(join(spies, p.id, `train-${round}.trained.f32`));
        const delta = trained.map((v, i) => v - (global[i] as number));
        // A window the training left equal to the global model's is the global model's, which the store holds by design.
        const same = (i: number): boolean => [0, 1, 2, 3].every((j) => Object.is(trained[i + j], global[i + j]));
        for (const w of windows(trained, same)) owner.set(w, `${p.id} round ${round} trained`);
        for (const w of windows(delta, (i) => [0, 1, 2, 3].every((j) => delta[i + j] === 0))) owner.set(w, `${p.id} round ${round} delta`);
        for (const v of [...trained, ...delta]) values.push({ who: `${p.id} round ${round}`, text: String(v) });
      }
    }
    assert.ok(owner.size > 1000, `only ${owner.size} windows to search`);
    const leaked = occurring(haystack, [...owner.keys()]).map((w) => `${owner.get(w) ?? '?'}: ${w.toString('hex')}`);
    assert.deepEqual(leaked, [], 'windows of individual updates are in the coordinator\'s database');
    assert.deepEqual(values.filter((v) => decimals.has(v.text)), [], 'values of individual updates are in the coordinator\'s database as text');
    // Control: the same search finds the final global model, which the store must hold.
    const final = readF32(join(spies, 'platform-0', 'evaluate-3.global.f32'));
    assert.ok(r.final !== undefined && maxAbsDiff(r.final, final) === 0, 'the participants evaluated the stored final model');
    const all = windows(final, () => false);
    assert.equal(occurring(haystack, all).length, all.length, 'the search finds every window of the final model');
    const loss = r.rounds[0]?.trainLoss;
    assert.ok(loss !== undefined && decimals.has(String(loss)), 'the text search finds the stored round record\'s training loss');
  } finally {
    rmSync(spies, { recursive: true, force: true });
  }
});
