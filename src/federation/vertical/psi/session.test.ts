import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, EduFedError, ValidationError } from '../../../core/errors.js';
import { seededRng, type Rng } from '../../../core/rng.js';
import type { Envelope } from '../../../transport/channel.js';
import { decodePsiEnvelope, encodePsiEnvelope } from './codec.js';
import { inlineCompute, type PsiCompute } from './compute.js';
import { itemPrefix, resolvePsiParams, type PsiParamsSpec } from './ecdh-psi.js';
import { loadPsiGroup } from './group.js';
import { idSourceFromColumns, type IdSource } from './id-source.js';
import { createJobSalt, normalizeId } from './normalize.js';
import type { PsiPair, PsiRelayed } from './protocol.js';
import { FeatureHolderPsi, LabelHolderPsi, type PsiProgress, type PsiResult, type PsiSessionOptions } from './session.js';
import { workerCompute } from './worker-compute.js';

const PAIR: PsiPair = { jobId: 'job-7', labelHolderId: 'assessment', featureHolderId: 'library' };

interface Relay {
  /** Every envelope the coordinator forwarded, in order. */
  readonly seen: Envelope[];
}

interface PairRun {
  readonly label: PsiResult;
  readonly feature: PsiResult;
  readonly relay: Relay;
}

type Tamper = (e: Envelope, index: number) => Envelope | Envelope[] | undefined;

/**
 * Runs both roles wired through a simulated coordinator that encodes each message as a transport
 * envelope, decodes it at the other end, and delivers it asynchronously in order (or as `tamper` says).
 */
async function runPair(
  labelIds: IdSource,
  featureIds: IdSource,
  spec: Partial<PsiParamsSpec> & { columns: PsiParamsSpec['columns'] },
  extra: {
    compute?: PsiCompute;
    featureCompute?: PsiCompute;
    featureSpec?: Partial<PsiParamsSpec>;
    tamper?: Tamper;
    /** Milliseconds to hold an envelope back (later ones overtake it). */
    delay?: (e: Envelope) => number;
    options?: Partial<PsiSessionOptions>;
  } = {},
): Promise<PairRun> {
  const salt = spec.salt ?? createJobSalt();
  const params = resolvePsiParams({ ...spec, salt });
  const featureParams = extra.featureSpec === undefined ? params : resolvePsiParams({ ...spec, salt, ...extra.featureSpec });
  const compute = extra.compute ?? (await inlineCompute(params.suite));
  const relay: Relay = { seen: [] };
  let count = 0;
  const wire = (from: string, to: string, target: () => LabelHolderPsi | FeatureHolderPsi) => (msg: PsiRelayed) => {
    const body = encodePsiEnvelope(PAIR.jobId, msg);
    const env: Envelope = { ...body, correlationId: String(count), sender: from, receiver: to };
    const forwarded = extra.tamper === undefined ? env : extra.tamper(env, count);
    count++;
    for (const e of forwarded === undefined ? [] : Array.isArray(forwarded) ? forwarded : [forwarded]) {
      relay.seen.push(e);
      const ms = extra.delay?.(e) ?? 0;
      const deliver = (): void => target().deliver(decodePsiEnvelope(e));
      if (ms > 0) setTimeout(deliver, ms);
      else setImmediate(deliver);
    }
  };
  // The roles reference each other through the relay; built below.
  let label: LabelHolderPsi | undefined;
  let feature: FeatureHolderPsi | undefined;
  label = new LabelHolderPsi({ pair: PAIR, params, ids: labelIds, compute, send: wire(PAIR.labelHolderId, PAIR.featureHolderId, () => feature as FeatureHolderPsi), batchSize: 64, window: 3, ...extra.options });
  feature = new FeatureHolderPsi({ pair: PAIR, params: featureParams, ids: featureIds, compute: extra.featureCompute ?? compute, send: wire(PAIR.featureHolderId, PAIR.labelHolderId, () => label as LabelHolderPsi), batchSize: 50, window: 2 });
  const [l, f] = await Promise.allSettled([label.run(), feature.run()]);
  if (l.status === 'rejected') throw l.reason;
  if (f.status === 'rejected') throw f.reason;
  return { label: l.value, feature: f.value, relay };
}

/** n identifiers drawn from a universe, with repeats, in raw spellings that normalise equal. */
function randomIds(rng: Rng, n: number, universe: number, prefix = 'S'): string[] {
  return Array.from({ length: n }, () => {
    const k = rng.int(universe);
    const spelling = rng.int(3);
    return spelling === 0 ? `${prefix}-${k}` : spelling === 1 ? ` ${prefix.toLowerCase()}-${k} ` : `${prefix}-${k}`.toUpperCase();
  });
}

/** The distinct normalised identifiers and, for each, the lowest row holding it. */
function firstRows(ids: readonly string[]): Map<string, number> {
  const m = new Map<string, number>();
  ids.forEach((raw, row) => {
    const id = normalizeId(raw);
    if (id !== undefined && !m.has(id)) m.set(id, row);
  });
  return m;
}

test('both: exact intersection of random sets with duplicates, rows aligned one to one (x25519)', async () => {
  // Prepare: overlapping random sets with repeated identifiers and spelling variants.
  const rng = seededRng(11);
  const labelRaw = randomIds(rng, 900, 1200);
  const featureRaw = randomIds(rng, 700, 1200);
  // Execute
  const { label, feature } = await runPair(idSourceFromColumns({ learner: labelRaw }), idSourceFromColumns({ learner: featureRaw }), { columns: ['learner'] });
  // Assert: the expected intersection, by lowest row per identifier on each side.
  const lFirst = firstRows(labelRaw);
  const fFirst = firstRows(featureRaw);
  const expected = [...lFirst.keys()].filter((id) => fFirst.has(id));
  assert.ok(expected.length > 100, 'the sets overlap');
  assert.equal(label.size, expected.length);
  assert.equal(feature.size, expected.length);
  const lRows = label.rows as Uint32Array;
  const fRows = feature.rows as Uint32Array;
  assert.equal(lRows.length, expected.length);
  assert.equal(fRows.length, expected.length);
  const pairs = new Set<string>();
  for (let k = 0; k < lRows.length; k++) {
    const id = normalizeId(labelRaw[lRows[k] as number] as string) as string;
    assert.equal(normalizeId(featureRaw[fRows[k] as number] as string), id, `aligned row ${k}`);
    assert.equal(lRows[k], lFirst.get(id));
    assert.equal(fRows[k], fFirst.get(id));
    pairs.add(id);
  }
  assert.deepEqual([...pairs].sort(), [...expected].sort());
  // Sizes are what each side learns: the other's distinct count; duplicates stay local.
  assert.equal(label.stages[0]?.peerItems, fFirst.size);
  assert.equal(feature.stages[0]?.peerItems, lFirst.size);
  assert.equal(label.stages[0]?.ownDuplicates, labelRaw.length - lFirst.size);
});

test('both: the ristretto255 reference suite finds the same intersection as x25519', async () => {
  const rng = seededRng(5);
  const labelRaw = randomIds(rng, 150, 220);
  const featureRaw = randomIds(rng, 120, 220);
  const run = (suite: 'x25519' | 'ristretto255') => runPair(idSourceFromColumns({ id: labelRaw }), idSourceFromColumns({ id: featureRaw }), { suite, columns: ['id'] });
  const [x, r] = await Promise.all([run('x25519'), run('ristretto255')]);
  const sorted = (a: Uint32Array | undefined): number[] => [...(a ?? [])].sort((p, q) => p - q);
  assert.deepEqual(sorted(r.label.rows), sorted(x.label.rows));
  assert.deepEqual(sorted(r.feature.rows), sorted(x.feature.rows));
  assert.ok((r.label.size ?? 0) > 20);
});

test('empty and disjoint sets give an empty intersection without error', async () => {
  const some = idSourceFromColumns({ id: ['a', 'b', 'c'] });
  const other = idSourceFromColumns({ id: ['x', 'y'] });
  const none = idSourceFromColumns({ id: [] });
  const blanks = idSourceFromColumns({ id: ['', null, '   '] });
  for (const [l, f, what] of [
    [none, some, 'label holder empty'],
    [some, none, 'feature holder empty'],
    [none, none, 'both empty'],
    [blanks, some, 'only blank identifiers'],
    [some, other, 'disjoint'],
  ] as const) {
    const { label, feature } = await runPair(l, f, { columns: ['id'] });
    assert.equal(label.size, 0, what);
    assert.equal(feature.size, 0, what);
    assert.deepEqual(label.rows, new Uint32Array(0), what);
    assert.deepEqual(feature.rows, new Uint32Array(0), what);
  }
});

test('label-holder: only the label holder learns rows; the feature holder learns neither rows nor size', async () => {
  const labelRaw = ['a', 'b', 'c', 'd', 'b'];
  const featureRaw = ['d', 'q', 'a', 'z'];
  const { label, feature } = await runPair(idSourceFromColumns({ id: labelRaw }), idSourceFromColumns({ id: featureRaw }), { reveal: 'label-holder', columns: ['id'] });
  assert.deepEqual([...(label.rows ?? [])].sort(), [0, 3]);
  assert.equal(feature.rows, undefined);
  assert.equal(feature.size, undefined);
  assert.equal(feature.stages[0]?.matched, undefined);
});

test('cardinality: both learn the count and nothing else, from shuffled values', async () => {
  const rng = seededRng(3);
  const labelRaw = randomIds(rng, 400, 600);
  const featureRaw = randomIds(rng, 300, 600);
  const expected = [...firstRows(labelRaw).keys()].filter((id) => firstRows(featureRaw).has(id)).length;
  const { label, feature } = await runPair(idSourceFromColumns({ id: labelRaw }), idSourceFromColumns({ id: featureRaw }), { reveal: 'cardinality', columns: ['id'] });
  assert.equal(label.size, expected);
  assert.equal(feature.size, expected);
  assert.equal(label.rows, undefined);
  assert.equal(feature.rows, undefined);
});

test('cardinality refuses several ID columns', () => {
  assert.throws(() => resolvePsiParams({ reveal: 'cardinality', columns: ['a', 'b'], salt: createJobSalt() }), ConfigError);
});

test('several ID columns match on any, in priority order, each row aligned at most once', async () => {
  // Prepare: learner 1 matches by e-mail; learner 2 only by student number (e-mail missing on one
  // side); learner 3 has a different e-mail but the same number; row L4's e-mail equals F2's while
  // L4's number equals F3's — the e-mail stage (first) wins and F3 stays free for nobody else.
  const label = idSourceFromColumns({
    email: ['one@x.org', '', 'three@x.org', 'nobody@x.org', 'f2@x.org'],
    number: ['001', '002', '003', '999', '777'],
  });
  const feature = idSourceFromColumns({
    email: ['ONE@x.org', 'two@x.org', 'f2@x.org', 'other3@x.org'],
    number: ['1', '2', '555', '3'],
  });
  const spec = { columns: [{ name: 'email', rule: 'email' as const }, { name: 'number', rule: 'number' as const }] };
  // Execute
  const { label: l, feature: f } = await runPair(label, feature, spec);
  // Assert: pairs (L row, F row) in the agreed order, stage by stage.
  const pairs = Array.from(l.rows ?? [], (row, k) => `${row}-${(f.rows as Uint32Array)[k]}`);
  assert.deepEqual(new Set(pairs.slice(0, 2)), new Set(['0-0', '4-2']), 'e-mail stage');
  assert.deepEqual(new Set(pairs.slice(2)), new Set(['1-1', '2-3']), 'student-number stage');
  assert.deepEqual(l.stages.map((s) => s.matched), [2, 2]);
  // Rows matched by e-mail (L 0 and 4, F 0 and 2) do not enter the number stage on either side.
  assert.equal(l.stages[1]?.ownItems, 3);
  assert.equal(l.stages[1]?.peerItems, 2);
});

test('label-holder with several columns: the feature holder keeps all rows in every stage', async () => {
  const label = idSourceFromColumns({ email: ['a@x', 'b@x'], number: ['1', '2'] });
  const feature = idSourceFromColumns({ email: ['a@x', 'c@x'], number: ['7', '2'] });
  const { label: l } = await runPair(label, feature, { reveal: 'label-holder', columns: ['email', 'number'] });
  assert.deepEqual([...(l.rows ?? [])], [0, 1]);
  assert.equal(l.stages[1]?.peerItems, 2);
});

test('what crosses the coordinator is step, roles, sequence number and ciphertext only', async () => {
  const labelRaw = ['alice', 'bob', 'carol'];
  const { relay } = await runPair(idSourceFromColumns({ id: labelRaw }), idSourceFromColumns({ id: ['bob', 'dave'] }), { columns: ['id'] });
  const plaintexts = [...labelRaw, 'bob', 'dave'].map((s) => Buffer.from(s));
  for (const e of relay.seen) {
    if (e.kind === 'psi.hello') continue;
    assert.deepEqual(Object.keys(e.header as object).sort(), ['from', 'seq', 'to'], e.kind);
    assert.deepEqual(e.tensors.map((t) => t.name), ['sealed']);
    const bytes = Buffer.from(e.tensors[0]?.data as Uint8Array);
    for (const p of plaintexts) assert.equal(bytes.includes(p), false);
  }
  assert.ok(relay.seen.some((e) => e.kind === 'psi.blinded'));
});

test('neither side can recognise the other\'s identifiers: received elements are not H(id) nor its own blinding of them', async () => {
  // Prepare: the feature holder knows every candidate identifier (a dictionary) and its own blinded
  // elements; its backend records what it is asked to blind (the label holder's elements).
  const g = await loadPsiGroup('x25519');
  const compute = await inlineCompute('x25519');
  const labelRaw = Array.from({ length: 60 }, (_, i) => `learner-${i}`);
  const received: Uint8Array[] = [];
  const ownBlinded: Uint8Array[] = [];
  const spying: PsiCompute = {
    suite: compute.suite,
    parallelism: 1,
    createSecret: () => compute.createSecret(),
    hashBlind: async (s, m) => {
      const out = await compute.hashBlind(s, m);
      ownBlinded.push(out);
      return out;
    },
    blind: (s, elements) => {
      received.push(elements.slice());
      return compute.blind(s, elements);
    },
    destroySecret: (s) => compute.destroySecret(s),
    close: () => compute.close(),
  };
  const salt = createJobSalt();
  // Execute
  await runPair(idSourceFromColumns({ id: labelRaw }), idSourceFromColumns({ id: labelRaw.slice(0, 30) }), { columns: ['id'], salt }, { featureCompute: spying });
  // Assert
  const rowsOf = (chunks: Uint8Array[]): string[] => chunks.flatMap((c) => Array.from({ length: c.length / 32 }, (_, i) => Buffer.from(c.subarray(i * 32, i * 32 + 32)).toString('hex')));
  const prefix = itemPrefix(salt, 'id');
  const dictionary = new Set(labelRaw.map((id) => Buffer.from(g.hashToElement(Buffer.concat([prefix, Buffer.from(id)]))).toString('hex')));
  const own = new Set(rowsOf(ownBlinded));
  const seen = rowsOf(received);
  assert.equal(seen.length, 60);
  assert.equal(own.size, 30);
  assert.equal(seen.filter((r) => dictionary.has(r) || own.has(r)).length, 0);
});

test('two runs on the same data produce unrelated blinded streams (fresh secrets per PSI)', async () => {
  const ids = idSourceFromColumns({ id: ['a', 'b', 'c', 'd'] });
  const streams: string[][] = [];
  for (let run = 0; run < 2; run++) {
    const seen: string[] = [];
    const salt = new Uint8Array(32).fill(9);
    await runPair(ids, ids, { columns: ['id'], salt }, { tamper: (e) => (e.kind === 'psi.blinded' && seen.push(Buffer.from(e.tensors[0]?.data as Uint8Array).toString('hex')), e) });
    streams.push(seen);
  }
  assert.notDeepEqual(streams[0], streams[1]);
});

test('a relay that reorders sealed messages is tolerated; one that tampers, replays or re-keys is detected', async () => {
  const l = idSourceFromColumns({ id: Array.from({ length: 200 }, (_, i) => `u${i}`) });
  const f = idSourceFromColumns({ id: Array.from({ length: 150 }, (_, i) => `u${i * 2}`) });
  // Hold back every third sealed message of each sender for a moment, so later ones overtake it.
  let n = 0;
  const delay = (e: Envelope): number => (e.kind !== 'psi.hello' && ++n % 3 === 0 ? 4 : 0);
  const ok = await runPair(l, f, { columns: ['id'] }, { delay });
  assert.equal(ok.label.size, 100);

  const flip: Tamper = (e) => {
    if (e.kind !== 'psi.peer-blinded') return e;
    const data = (e.tensors[0]?.data as Uint8Array).slice();
    data[20] = (data[20] as number) ^ 1;
    return { ...e, tensors: [{ name: 'sealed', shape: [data.length], data }] };
  };
  await assert.rejects(runPair(l, f, { columns: ['id'] }, { tamper: flip }), (err: unknown) => err instanceof ValidationError || (err instanceof EduFedError && err.code === 'PARTICIPANT'));

  let replayed = false;
  const replay: Tamper = (e) => {
    if (e.kind === 'psi.blinded' && !replayed) {
      replayed = true;
      return [e, e];
    }
    return e;
  };
  await assert.rejects(runPair(l, f, { columns: ['id'] }, { tamper: replay }), /replayed|sequence|failed/);

  const rekey: Tamper = (e) => (e.kind === 'psi.hello' ? [e, e] : e);
  await assert.rejects(runPair(l, f, { columns: ['id'] }, { tamper: rekey }), /second psi-hello|failed/);
});

test('different parameters on the two sides are refused before any identifier is sent', async () => {
  const ids = idSourceFromColumns({ id: ['a'] });
  const sent: string[] = [];
  await assert.rejects(
    runPair(ids, ids, { columns: ['id'] }, { featureSpec: { reveal: 'label-holder' }, tamper: (e) => (sent.push(e.kind), e) }),
    (err: unknown) => err instanceof ConfigError || (err instanceof EduFedError && err.code === 'PARTICIPANT'),
  );
  assert.ok(!sent.includes('psi.blinded'));
});

test('a failure on one side reaches the other as a PARTICIPANT error, whichever operation fails', async () => {
  const compute = await inlineCompute('x25519');
  const ids = idSourceFromColumns({ id: Array.from({ length: 300 }, (_, i) => `u${i}`) });
  const params = resolvePsiParams({ columns: ['id'], salt: createJobSalt() });
  for (const failing of ['blind', 'hashBlind'] as const) {
    // Prepare: the feature holder's backend fails on its second call of one operation.
    let calls = 0;
    const fail = <T>(ok: () => Promise<T>): Promise<T> => (++calls > 1 ? Promise.reject(new EduFedError('INTERNAL', 'disk on fire')) : ok());
    const broken: PsiCompute = {
      suite: compute.suite,
      parallelism: 1,
      createSecret: () => compute.createSecret(),
      hashBlind: (s, m) => (failing === 'hashBlind' ? fail(() => compute.hashBlind(s, m)) : compute.hashBlind(s, m)),
      blind: (s, e) => (failing === 'blind' ? fail(() => compute.blind(s, e)) : compute.blind(s, e)),
      destroySecret: (s) => compute.destroySecret(s),
      close: () => compute.close(),
    };
    let feature: FeatureHolderPsi | undefined;
    const label = new LabelHolderPsi({ pair: PAIR, params, ids, compute, batchSize: 64, send: (m) => void setImmediate(() => feature?.deliver(m)) });
    feature = new FeatureHolderPsi({ pair: PAIR, params, ids, compute: broken, batchSize: 64, send: (m) => void setImmediate(() => label.deliver(m)) });
    // Execute
    const [l, f] = await Promise.allSettled([label.run(), feature.run()]);
    // Assert
    assert.equal(f.status, 'rejected', failing);
    assert.match(String(l.status === 'rejected' ? l.reason : 'fulfilled'), /feature-holder failed: INTERNAL: disk on fire/, failing);
  }
});

test('aborting one role ends both: the aborted one with PROTOCOL, its peer with PARTICIPANT', async () => {
  const compute = await inlineCompute('x25519');
  const ids = idSourceFromColumns({ id: Array.from({ length: 400 }, (_, i) => `u${i}`) });
  const params = resolvePsiParams({ columns: ['id'], salt: createJobSalt() });
  const controller = new AbortController();
  let feature: FeatureHolderPsi | undefined;
  const label = new LabelHolderPsi({
    pair: PAIR,
    params,
    ids,
    compute,
    batchSize: 32,
    signal: controller.signal,
    onProgress: (p) => p.done > 100 && controller.abort(),
    send: (m) => void setImmediate(() => feature?.deliver(m)),
  });
  feature = new FeatureHolderPsi({ pair: PAIR, params, ids, compute, batchSize: 32, send: (m) => void setImmediate(() => label.deliver(m)) });
  const [l, f] = await Promise.allSettled([label.run(), feature.run()]);
  assert.match(String(l.status === 'rejected' ? l.reason : 'fulfilled'), /aborted/);
  assert.ok(f.status === 'rejected' && f.reason instanceof EduFedError && f.reason.code === 'PARTICIPANT');
});

test('an ID source without a parameter column is refused at construction', async () => {
  const compute = await inlineCompute('x25519');
  const params = resolvePsiParams({ columns: ['email'], salt: createJobSalt() });
  assert.throws(() => new LabelHolderPsi({ pair: PAIR, params, ids: idSourceFromColumns({ mail: ['a'] }), compute, send: () => undefined }), ConfigError);
});

test('worker threads compute the same intersection and report progress', async () => {
  const compute = await workerCompute({ suite: 'x25519', threads: 2 });
  try {
    const rng = seededRng(21);
    const labelRaw = randomIds(rng, 3000, 5000);
    const featureRaw = randomIds(rng, 2500, 5000);
    const progress: PsiProgress[] = [];
    const { label, feature } = await runPair(idSourceFromColumns({ id: labelRaw }), idSourceFromColumns({ id: featureRaw }), { columns: ['id'] }, { compute, options: { batchSize: 512, onProgress: (p) => progress.push(p) } });
    const expected = [...firstRows(labelRaw).keys()].filter((id) => firstRows(featureRaw).has(id)).length;
    assert.equal(label.size, expected);
    assert.equal(feature.size, expected);
    const own = progress.filter((p) => p.phase === 'own' && p.role === 'label-holder');
    assert.equal(own.at(-1)?.done, labelRaw.length);
    assert.ok(own.every((p, i) => i === 0 || p.done >= (own[i - 1] as PsiProgress).done));
    assert.ok(progress.some((p) => p.phase === 'peer'));
  } finally {
    await compute.close();
  }
});
