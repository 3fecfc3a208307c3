import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getRandomValues } from 'node:crypto';
import { ConfigError, ValidationError } from '../../../core/errors.js';
import {
  fingerprintsOf,
  itemBatches,
  itemPrefix,
  MatchIndex,
  OwnItems,
  planStages,
  psiParamsDigest,
  resolvePsiParams,
  ShuffleBuffer,
  type PsiParamsSpec,
} from './ecdh-psi.js';
import { FINGERPRINT_BYTES } from './fingerprint-set.js';
import { idSourceFromColumns } from './id-source.js';
import { createNormalizer, ID_RULES } from './normalize.js';

const SALT = new Uint8Array(32).fill(3);
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

test('resolvePsiParams fills the defaults: x25519, reveal both, the text rule', () => {
  const p = resolvePsiParams({ columns: ['email', { name: 'number', rule: 'number' }], salt: SALT });
  assert.equal(p.suite, 'x25519');
  assert.equal(p.reveal, 'both');
  assert.deepEqual(p.columns.map((c) => c.name), ['email', 'number']);
  assert.deepEqual(p.columns[0]?.rule, ID_RULES.text);
  assert.deepEqual(p.columns[1]?.rule, ID_RULES.number);
});

test('resolvePsiParams refuses bad suites, reveals, columns and salts, naming the field', () => {
  const cases: [PsiParamsSpec, string][] = [
    [{ suite: 'p256' as 'x25519', columns: ['a'], salt: SALT }, 'suite'],
    [{ reveal: 'everyone' as 'both', columns: ['a'], salt: SALT }, 'reveal'],
    [{ columns: [], salt: SALT }, 'columns'],
    [{ columns: ['a', 'a'], salt: SALT }, 'columns'],
    [{ columns: [''], salt: SALT }, 'columns[0].name'],
    [{ columns: [{ name: 'a', rule: 'soundex' as 'text' }], salt: SALT }, 'columns[0].rule'],
    [{ columns: ['a'], salt: new Uint8Array(8) }, 'salt'],
  ];
  for (const [spec, field] of cases) assert.throws(() => resolvePsiParams(spec), (e: unknown) => e instanceof ConfigError && e.field === field, field);
});

test('the parameters digest changes with every field both sides must agree on', () => {
  const base: PsiParamsSpec = { columns: ['email', 'number'], salt: SALT };
  const d = psiParamsDigest(resolvePsiParams(base));
  assert.equal(psiParamsDigest(resolvePsiParams({ ...base })), d);
  const variants: PsiParamsSpec[] = [
    { ...base, suite: 'ristretto255' },
    { ...base, reveal: 'label-holder' },
    { ...base, columns: ['number', 'email'] },
    { ...base, columns: [{ name: 'email', rule: 'email' }, 'number'] },
    { ...base, salt: new Uint8Array(32).fill(4) },
  ];
  for (const v of variants) assert.notEqual(psiParamsDigest(resolvePsiParams(v)), d);
});

test('stages: one per column; matched rows leave later stages per the reveal option', () => {
  const both = planStages(resolvePsiParams({ columns: ['a', 'b'], salt: SALT }));
  assert.deepEqual(both.map((s) => [s.stage, s.column, s.excludeLabelMatched, s.excludeFeatureMatched]), [[0, 0, true, true], [1, 1, true, true]]);
  const lh = planStages(resolvePsiParams({ reveal: 'label-holder', columns: ['a', 'b'], salt: SALT }));
  assert.deepEqual(lh.map((s) => [s.excludeLabelMatched, s.excludeFeatureMatched]), [[true, false], [true, false]]);
  const card = planStages(resolvePsiParams({ reveal: 'cardinality', columns: ['a'], salt: SALT }));
  assert.deepEqual(card.map((s) => [s.excludeLabelMatched, s.excludeFeatureMatched]), [[false, false]]);
});

test('item messages are injective in (salt, column, identifier): shifted boundaries never collide', () => {
  const message = (salt: Uint8Array, column: string, id: string): string => hex(Buffer.concat([itemPrefix(salt, column), Buffer.from(id)]));
  const salt16 = new Uint8Array(16).fill(1);
  const salt17 = new Uint8Array(17).fill(1);
  assert.notEqual(message(SALT, 'ab', 'c'), message(SALT, 'a', 'bc'));
  assert.notEqual(message(salt16, '\u0001x', 'y'), message(salt17, 'x', 'y'));
  assert.notEqual(message(SALT, 'email', 'a'), message(SALT, 'number', 'a'));
});

test('item batches skip blank, unnormalisable and excluded rows, follow the given order, and pack UTF-8', () => {
  // Prepare
  const source = idSourceFromColumns({ id: [' Zoë ', '', null, 'bob', 'x'.repeat(100) + 'é', '   ', 'carol'] });
  const prefix = itemPrefix(SALT, 'id');
  const exclude = Uint8Array.from([0, 0, 0, 0, 0, 0, 1]);
  // Execute
  const batches = [...itemBatches({ source, column: 0, normalize: createNormalizer(ID_RULES.text), prefix, order: Uint32Array.from([6, 5, 4, 3, 2, 1, 0]), exclude, batchSize: 2 })];
  // Assert
  const rows = batches.flatMap((b) => [...b.rows]);
  assert.deepEqual(rows, [4, 3, 0]);
  assert.deepEqual(batches.map((b) => b.rows.length), [2, 1]);
  const texts = batches.flatMap((b) => Array.from(b.rows, (_, i) => Buffer.from(b.messages.bytes.subarray((b.messages.offsets[i] as number) + prefix.length, b.messages.offsets[i + 1])).toString('utf8')));
  assert.deepEqual(texts, ['x'.repeat(100) + 'é', 'bob', 'zoë']);
  for (const b of batches) assert.deepEqual(b.messages.bytes.subarray(0, prefix.length), prefix);
});

test('own items: duplicates are dropped before sending and the lowest row keeps the position', () => {
  const a = getRandomValues(new Uint8Array(32));
  const b = getRandomValues(new Uint8Array(32));
  const items = new OwnItems(10);
  const first = items.admit(Uint32Array.from([7, 3]), Buffer.concat([a, b]));
  const second = items.admit(Uint32Array.from([2, 9, 5]), Buffer.concat([b, a, b]));
  assert.deepEqual(first, new Uint8Array(Buffer.concat([a, b])));
  assert.equal(second.length, 0);
  assert.equal(items.size, 2);
  assert.equal(items.duplicates, 3);
  assert.equal(items.row(0, 'x'), 7);
  assert.equal(items.row(1, 'x'), 2);
  assert.throws(() => items.row(2, 'label-holder'), (e: unknown) => e instanceof ValidationError && e.participant === 'label-holder');
});

test('the match index finds exactly the common fingerprints and lists them in ascending fingerprint order', () => {
  // Prepare: 50 own fingerprints; the peer holds 20 of them (shuffled) and 30 others.
  const own = Array.from({ length: 50 }, () => getRandomValues(new Uint8Array(16)));
  const common = [3, 17, 41, 0, 22, 9, 30, 48, 11, 5, 36, 27, 14, 44, 2, 19, 33, 7, 25, 38];
  const peer = [...common.map((i) => own[i] as Uint8Array), ...Array.from({ length: 30 }, () => getRandomValues(new Uint8Array(16)))];
  const index = new MatchIndex(50);
  // Execute
  index.addOwn(Buffer.concat(own.slice(0, 25)));
  index.addOwn(Buffer.concat(own.slice(25)));
  index.probe(Buffer.concat(peer.slice(0, 10)), 0);
  index.probe(Buffer.concat(peer.slice(10)), 10);
  const { own: ownPos, peer: peerPos } = index.canonical();
  // Assert
  assert.equal(index.matches, 20);
  assert.deepEqual([...ownPos].sort((x, y) => x - y), [...common].sort((x, y) => x - y));
  ownPos.forEach((o, k) => assert.equal(common[peerPos[k] as number], o));
  const value = (i: number): bigint => BigInt('0x' + Buffer.from(own[i] as Uint8Array).reverse().toString('hex'));
  for (let k = 1; k < ownPos.length; k++) assert.ok(value(ownPos[k - 1] as number) < value(ownPos[k] as number));
});

test('the match index refuses repeated own values, repeated peer identifiers and overflow', () => {
  const fp = getRandomValues(new Uint8Array(16));
  const index = new MatchIndex(2);
  index.addOwn(fp);
  assert.throws(() => index.addOwn(fp), /repeats/);
  index.probe(fp, 0);
  assert.throws(() => index.probe(fp, 1), /repeats an earlier one/);
  const full = new MatchIndex(1);
  assert.throws(() => full.addOwn(getRandomValues(new Uint8Array(32))), /more double-blinded values/);
});

test('the shuffle buffer returns every fingerprint once, in an order unrelated to arrival', () => {
  const values = Array.from({ length: 3000 }, (_, i) => {
    const b = new Uint8Array(16);
    new DataView(b.buffer).setUint32(0, i, true);
    return b;
  });
  const buffer = new ShuffleBuffer();
  buffer.add(Buffer.concat(values.slice(0, 1000)));
  buffer.add(Buffer.concat(values.slice(1000)));
  const out = [...buffer.batches(700)];
  assert.deepEqual(out.map((b) => b.length / FINGERPRINT_BYTES), [700, 700, 700, 700, 200]);
  const order = out.flatMap((b) => Array.from({ length: b.length / 16 }, (_, i) => new DataView(b.buffer, b.byteOffset).getUint32(i * 16, true)));
  assert.deepEqual([...order].sort((x, y) => x - y), values.map((_, i) => i));
  const inPlace = order.filter((v, i) => v === i).length;
  assert.ok(inPlace < 20, `${inPlace} values kept their place`);
});

test('fingerprints are the first 16 bytes of each 32-byte element', () => {
  const e = getRandomValues(new Uint8Array(96));
  const f = fingerprintsOf(e);
  assert.deepEqual(f, new Uint8Array(Buffer.concat([e.subarray(0, 16), e.subarray(32, 48), e.subarray(64, 80)])));
});
