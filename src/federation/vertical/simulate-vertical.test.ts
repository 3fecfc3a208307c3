import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EduFedError } from '../../core/errors.js';
import { seededRng, sigmoid } from '../../core/index.js';
import type { RandomBytes } from './dealer.js';
import { encodePartyTable } from './party-features.js';
import type { VerticalMessage, VerticalMode } from './protocol.js';
import { encodeFixed } from './ring.js';
import { joinedWeights, simulateVertical, type SimulateVerticalOptions, type VerticalPartyData } from './simulate-vertical.js';
import { splitByColumns } from './split-columns.js';
import { syntheticSource, syntheticVertical } from './synthetic-scenario.js';
import { verticalTrainConfig } from './train-config.js';

const split = syntheticVertical({ n: 600, seed: 3 });

function options(mode: VerticalMode, extra: Partial<SimulateVerticalOptions> = {}): SimulateVerticalOptions {
  return { idColumn: 'learner_id', config: verticalTrainConfig({ jobId: `test-${mode}`, mode, epochs: 4, batchSize: 32, learningRate: 0.2, l2: 0.001 }), ...extra };
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  a.forEach((v, i) => (m = Math.max(m, Math.abs(v - b[i]!))));
  return m;
}

function featureHolderIds(parties: readonly VerticalPartyData[]): string[] {
  return parties.filter((p) => !p.schema.columns.some((c) => c.type === 'label')).map((p) => p.id);
}

test('secure-lr is lossless: the parties’ weights equal centralized logistic regression on the joined table up to fixed-point rounding, and AUC within 0.002', async () => {
  // Execute
  const sim = await simulateVertical(split.platforms, options('secure-lr'));
  // Assert
  const c = sim.comparison;
  assert.ok(c !== undefined && sim.weights !== undefined);
  assert.ok(maxAbsDiff(joinedWeights(sim.weights, featureHolderIds(split.platforms)), c.centralizedParams) < 1e-4);
  assert.ok(c.delta.auc <= 0.002 && c.delta.accuracy <= 0.01, JSON.stringify(c.delta));
  assert.ok(c.gainOverLabelHolder.auc > 0.1, `vertical ${c.vertical.auc} vs the label holder alone ${c.labelHolderAlone.auc}`);
  assert.ok(sim.train.epochs.every((e) => Number.isFinite(e.loss) && e.ms >= 0));
  assert.ok(sim.train.epochs[3]!.loss < sim.train.epochs[0]!.loss);
});

test('plain-lr takes the same steps as the centralized model to float32 rounding', async () => {
  const sim = await simulateVertical(split.platforms, options('plain-lr'));
  assert.ok(sim.comparison !== undefined && sim.weights !== undefined);
  assert.ok(maxAbsDiff(joinedWeights(sim.weights, featureHolderIds(split.platforms)), sim.comparison.centralizedParams) < 1e-6);
});

test('secure-lr stays lossless with one feature holder (no pairwise masks) and with three (masks cancel in the sum)', async () => {
  const { raw, schema } = syntheticSource({ n: 400, seed: 8 });
  for (const groups of [
    [{ id: 'AB', columns: ['a_age', 'a_credits', 'a_region', 'b_clicks', 'b_forum'], presence: 0.85 }],
    [
      { id: 'A', columns: ['a_age', 'a_credits'], presence: 0.85 },
      { id: 'R', columns: ['a_region'], presence: 0.9 },
      { id: 'B', columns: ['b_clicks', 'b_forum'], presence: 0.8 },
    ],
  ]) {
    const parties = splitByColumns(raw, schema, { idColumn: 'learner_id', seed: 2, groups: [...groups, { id: 'C', columns: ['c_score', 'passed'], presence: 0.9 }] }).platforms;
    const sim = await simulateVertical(parties, options('secure-lr'));
    assert.ok(sim.comparison !== undefined && sim.weights !== undefined);
    assert.ok(maxAbsDiff(joinedWeights(sim.weights, featureHolderIds(parties)), sim.comparison.centralizedParams) < 1e-4, `${groups.length} feature holder(s)`);
    assert.ok(sim.comparison.delta.auc <= 0.002);
  }
});

test('no learner of the label holder is dropped: learners missing from a feature holder are counted and imputed', async () => {
  const sim = await simulateVertical(split.platforms, options('plain-lr', { compare: false }));
  const c = split.platforms.find((p) => p.id === 'C');
  assert.equal(sim.alignment.n, c?.raw.rows.length);
  const counts = new Map(sim.counts.map((k) => [k.party, k]));
  assert.equal(counts.get('C')?.imputed, 0);
  for (const id of ['A', 'B']) {
    const k = counts.get(id);
    assert.ok(k !== undefined && k.imputed > 0 && k.present + k.imputed === sim.alignment.n, JSON.stringify(k));
  }
});

test('joint inference and cold start: each score equals the joint model on the learner’s features, with absent parties’ features imputed', async () => {
  // Prepare: one learner on every platform, one new to C but known to A and B, one known to C only.
  const ids = (id: string): Set<string> => new Set(split.platforms.find((p) => p.id === id)?.raw.rows.map((r) => r[0] ?? '') ?? []);
  const [a, b, c] = [ids('A'), ids('B'), ids('C')];
  const everywhere = [...c].find((k) => a.has(k) && b.has(k)) ?? '';
  const coldStart = [...a].find((k) => b.has(k) && !c.has(k)) ?? '';
  const onlyC = [...c].find((k) => !a.has(k) && !b.has(k)) ?? '';
  assert.ok(everywhere !== '' && coldStart !== '' && onlyC !== '');
  // Execute
  const sim = await simulateVertical(split.platforms, options('secure-lr', { queries: [[everywhere, coldStart, onlyC]], compare: false }));
  // Assert: recompute each score from the parties' weights and their own encodings.
  const w = sim.weights;
  assert.ok(w !== undefined);
  const encoded = new Map(split.platforms.map((p) => [p.id, encodePartyTable(p.id, p.raw, p.schema, 'learner_id')]));
  const part = (party: string, key: string, weights: Float32Array): number => {
    const f = encoded.get(party);
    const r = f?.ids.indexOf(key) ?? -1;
    if (f === undefined || r < 0) return 0; // imputed: an all-zero row
    let s = 0;
    for (let j = 0; j < f.d; j++) s += weights[j]! * f.x[r * f.d + j]!;
    return s;
  };
  const expected = [everywhere, coldStart, onlyC].map((key) => {
    const cWeights = w.labelHolder.weights;
    const dOwn = encoded.get('C')?.d ?? 0;
    const presence = (a.has(key) ? cWeights[dOwn]! : 0) + (b.has(key) ? cWeights[dOwn + 1]! : 0);
    return sigmoid(w.labelHolder.bias + part('C', key, cWeights) + presence + part('A', key, w.featureHolders['A'] ?? new Float32Array()) + part('B', key, w.featureHolders['B'] ?? new Float32Array()));
  });
  const got = sim.scores[0] ?? new Float64Array();
  expected.forEach((p, i) => assert.ok(Math.abs((got[i] ?? Number.NaN) - p) < 1e-5, `learner ${i}: ${got[i]} vs ${p}`));
});

test('the relaying coordinator sees only sealed payloads in secure-lr, and never the fixed-point words of a feature holder’s features', async () => {
  // Prepare: record every relayed message.
  const relayed: VerticalMessage[] = [];
  const sealedBytes = (m: VerticalMessage): Uint8Array[] => {
    switch (m.step) {
      case 'partial-logits':
        return m.payload.data.encoding === 'sealed' ? [m.payload.data.sealed] : [];
      case 'masked-features':
      case 'gradient-shares':
      case 'embeddings':
      case 'embedding-gradients':
        return [m.payload.sealed];
      default:
        return [];
    }
  };
  // Execute
  await simulateVertical(split.platforms, options('secure-lr', { onRelay: (m) => relayed.push(m), compare: false }));
  const plainRelayed: VerticalMessage[] = [];
  await simulateVertical(split.platforms, options('plain-lr', { onRelay: (m) => plainRelayed.push(m), compare: false }));
  // Assert: every relayed secure payload is sealed; the plain mode, by contrast, relays residuals in the clear.
  assert.ok(relayed.length > 0 && relayed.every((m) => sealedBytes(m).length === 1), 'an unsealed payload was relayed');
  assert.ok(plainRelayed.some((m) => m.step === 'residual'));
  const a = split.platforms.find((p) => p.id === 'A');
  assert.ok(a !== undefined);
  const features = encodePartyTable('A', a.raw, a.schema, 'learner_id');
  const words = encodeFixed(Float64Array.from(features.x), 20);
  const haystack = Buffer.concat(relayed.flatMap(sealedBytes));
  let checked = 0;
  for (let i = 0; i < words.length; i += 2) {
    if (words[i] === 0 && words[i + 1] === 0) continue;
    assert.equal(haystack.indexOf(Buffer.from(words.buffer, i * 4, 8)), -1, `feature word ${i / 2} appears in relayed bytes`);
    checked++;
  }
  assert.ok(checked > 1000);
});

test('a party’s failure comes back as a PARTICIPANT error naming it and the cause (here: features too large for the ring at 30 fraction bits)', async () => {
  const config = verticalTrainConfig({ jobId: 'too-fine', mode: 'secure-lr', epochs: 1, batchSize: 32, fracBits: 30 });
  await assert.rejects(
    simulateVertical(split.platforms, { idColumn: 'learner_id', config, compare: false }),
    (e: unknown) => e instanceof EduFedError && e.code === 'PARTICIPANT' && /party "A"/.test(e.message) && /fracBits/.test(e.message),
  );
});

test('dealer randomness can be injected: the same bytes give the same secure run', async () => {
  const counting = (): RandomBytes => {
    let k = 0;
    return (n) => new Uint8Array(n).fill(++k);
  };
  const a = await simulateVertical(split.platforms, options('secure-lr', { randomBytes: counting(), compare: false }));
  const b = await simulateVertical(split.platforms, options('secure-lr', { randomBytes: counting(), compare: false }));
  assert.deepEqual(a.weights, b.weights);
});

test('split-nn learns: its AUC beats the label holder alone, with and without noise on the embeddings', async () => {
  for (const noiseStd of [0, 0.1]) {
    const config = verticalTrainConfig({
      jobId: `split-${noiseStd}`,
      mode: 'split-nn',
      epochs: 6,
      batchSize: 32,
      learningRate: 0.1,
      splitNn: { bottomHidden: [8], embedding: 4, topHidden: [8], noiseStd },
    });
    const sim = await simulateVertical(split.platforms, { idColumn: 'learner_id', config, noiseRng: seededRng(5) });
    const c = sim.comparison;
    assert.ok(c !== undefined);
    assert.ok(c.vertical.auc > 0.75 && c.gainOverLabelHolder.auc > 0.1, `noise ${noiseStd}: ${c.vertical.auc} vs alone ${c.labelHolderAlone.auc}`);
    assert.equal(sim.weights, undefined);
  }
});
