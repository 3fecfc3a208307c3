import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getRandomValues } from 'node:crypto';
import fc from 'fast-check';
import { ConfigError, ValidationError } from '../../../core/errors.js';
import { x25519FromPrivate } from '../../../crypto/key-agreement.js';
import { ELEMENT_BYTES, isCanonicalU, loadPsiGroup, ristrettoToMontgomery, type PackedMessages, type PsiSuite } from './group.js';
import { loadSodium } from './hash-to-group.js';

const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const ascii = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'utf8'));
const SUITES: readonly PsiSuite[] = ['x25519', 'ristretto255'];

function pack(msgs: readonly string[]): PackedMessages {
  const parts = msgs.map(ascii);
  const offsets = new Uint32Array(parts.length + 1);
  parts.forEach((p, i) => (offsets[i + 1] = (offsets[i] as number) + p.length));
  const bytes = new Uint8Array(offsets[parts.length] as number);
  parts.forEach((p, i) => bytes.set(p, offsets[i] as number));
  return { bytes, offsets };
}

/** RFC 7748 clamping of a raw X25519 secret, then reduction mod ℓ as a ristretto255 scalar. */
async function clampedScalar(raw: Uint8Array): Promise<Uint8Array> {
  const na = await loadSodium();
  const c = raw.slice();
  c[0] = (c[0] as number) & 248;
  c[31] = ((c[31] as number) & 127) | 64;
  const wide = new Uint8Array(64);
  wide.set(c);
  return na.crypto_core_ristretto255_scalar_reduce(wide);
}

test('s² of the ristretto255 base point is a u-coordinate X25519 treats as the Curve25519 base point', async () => {
  // Prepare: the ristretto255 base point's encoding, and an X25519 key whose public key is X25519(k, 9).
  const na = await loadSodium();
  const one = new Uint8Array(32);
  one[0] = 1;
  const base = na.crypto_scalarmult_ristretto255_base(one);
  const raw = getRandomValues(new Uint8Array(32));
  const pair = x25519FromPrivate(raw);
  // Execute
  const g = await loadPsiGroup('x25519');
  const out = g.blind(g.importSecret(raw), ristrettoToMontgomery(base));
  // Assert: [c](B + T₂) = [c]B because c is a multiple of 8.
  assert.equal(toHex(out), toHex(pair.publicKey));
});

test('s² names the same element as libsodium Edwards-to-Montgomery conversion of [m]B (up to torsion)', async () => {
  const na = await loadSodium();
  const g = await loadPsiGroup('x25519');
  for (let i = 0; i < 8; i++) {
    const m = na.crypto_core_ristretto255_scalar_random();
    const viaRistretto = ristrettoToMontgomery(na.crypto_scalarmult_ristretto255_base(m));
    const viaEdwards = na.crypto_sign_ed25519_pk_to_curve25519(na.crypto_scalarmult_ed25519_base_noclamp(m));
    const k = g.importSecret(g.randomSecret());
    assert.equal(toHex(g.blind(k, viaRistretto)), toHex(g.blind(k, viaEdwards)), `m #${i}`);
  }
});

test('x25519 blinding is τ of ristretto255 blinding with the clamped scalar (module note, point 2)', async () => {
  // X25519(k₁, s([c]R)²) must equal X25519(k₁, X25519(k, s(R)²)) where c = clamp(k) mod ℓ.
  const na = await loadSodium();
  const g = await loadPsiGroup('x25519');
  const ref = await loadPsiGroup('ristretto255');
  for (let i = 0; i < 8; i++) {
    const r = ref.hashToElement(ascii(`learner-${i}`));
    const raw = g.randomSecret();
    const k = g.importSecret(raw);
    const k1 = g.importSecret(g.randomSecret());
    const viaRistretto = g.blind(k1, ristrettoToMontgomery(na.crypto_scalarmult_ristretto255(await clampedScalar(raw), r)));
    const viaX25519 = g.blind(k1, g.blind(k, ristrettoToMontgomery(r)));
    assert.equal(toHex(viaRistretto), toHex(viaX25519), `element #${i}`);
  }
});

test('the x25519 suite hashes to s² of the ristretto255 suite hash', async () => {
  const g = await loadPsiGroup('x25519');
  const ref = await loadPsiGroup('ristretto255');
  const msg = ascii('S-000123');
  assert.deepEqual(g.hashToElement(msg), ristrettoToMontgomery(ref.hashToElement(msg)));
});

for (const suite of SUITES) {
  test(`${suite}: blinding commutes, a·(b·H(m)) = b·(a·H(m)), for any message`, async () => {
    const g = await loadPsiGroup(suite);
    const a = g.importSecret(g.randomSecret());
    const b = g.importSecret(g.randomSecret());
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (s) => {
        const h = g.hashToElement(ascii(s));
        assert.deepEqual(g.blind(a, g.blind(b, h)), g.blind(b, g.blind(a, h)));
      }),
      { numRuns: 25 },
    );
  });

  test(`${suite}: 1,500 distinct identifiers give distinct elements and distinct double-blinded values`, async () => {
    const g = await loadPsiGroup(suite);
    const ids = Array.from({ length: 1500 }, (_, i) => `id-${i}`);
    const a = g.importSecret(g.randomSecret());
    const b = g.importSecret(g.randomSecret());
    const hashed = g.hashBatch(pack(ids));
    const double = g.blindBatch(b, g.hashBlindBatch(a, pack(ids)));
    const distinct = (bytes: Uint8Array): number => new Set(Array.from({ length: ids.length }, (_, i) => toHex(bytes.subarray(i * 32, i * 32 + 32)))).size;
    assert.equal(distinct(hashed), ids.length);
    assert.equal(distinct(double), ids.length);
  });

  test(`${suite}: batch operations equal the one-element operations`, async () => {
    const g = await loadPsiGroup(suite);
    const a = g.importSecret(g.randomSecret());
    const ids = ['a', '', 'ünïcode', 'x'.repeat(300)];
    const hashed = g.hashBatch(pack(ids));
    const blinded = g.hashBlindBatch(a, pack(ids));
    ids.forEach((id, i) => {
      const h = g.hashToElement(ascii(id));
      assert.deepEqual(hashed.subarray(i * 32, i * 32 + 32), h);
      assert.deepEqual(blinded.subarray(i * 32, i * 32 + 32), g.blind(a, h));
    });
    assert.deepEqual(g.blindBatch(a, hashed), blinded);
  });
}

test('x25519 identifies R and −R only: τ(−R) = τ(R) while their ristretto255 encodings differ', async () => {
  const na = await loadSodium();
  const g = await loadPsiGroup('x25519');
  const r = (await loadPsiGroup('ristretto255')).hashToElement(ascii('learner'));
  const minusR = na.crypto_core_ristretto255_sub(r, na.crypto_core_ristretto255_add(r, r));
  const k = g.importSecret(g.randomSecret());
  assert.notDeepEqual(minusR, r);
  assert.deepEqual(g.blind(k, ristrettoToMontgomery(minusR)), g.blind(k, ristrettoToMontgomery(r)));
});

test('x25519 refuses small-order and non-canonical u-coordinates and wrong lengths', async () => {
  const g = await loadPsiGroup('x25519');
  const k = g.importSecret(g.randomSecret());
  const zero = new Uint8Array(32);
  const one = new Uint8Array(32);
  one[0] = 1; // u = 1 has order 4
  const p = new Uint8Array(Buffer.from('edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', 'hex'));
  const high = new Uint8Array(32);
  high[31] = 0x80;
  assert.throws(() => g.blind(k, zero), ValidationError);
  assert.throws(() => g.blind(k, one), ValidationError);
  assert.throws(() => g.blind(k, p), /canonical/);
  assert.throws(() => g.blind(k, high), /canonical/);
  assert.throws(() => g.blind(k, new Uint8Array(31)), ValidationError);
  assert.throws(() => g.blindBatch(k, new Uint8Array(33)), ValidationError);
  assert.throws(() => g.blindBatch(k, Buffer.concat([g.hashToElement(ascii('ok')), zero])), /element 1/);
});

test('isCanonicalU accepts p − 1 and refuses p', () => {
  const pMinus1 = new Uint8Array(Buffer.from('ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', 'hex'));
  const p = new Uint8Array(Buffer.from('edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', 'hex'));
  assert.equal(isCanonicalU(pMinus1), true);
  assert.equal(isCanonicalU(p), false);
  assert.equal(isCanonicalU(new Uint8Array(ELEMENT_BYTES)), true);
});

test('ristretto255 refuses an invalid encoding, the zero scalar, and a secret of another suite', async () => {
  const g = await loadPsiGroup('ristretto255');
  const x = await loadPsiGroup('x25519');
  const k = g.importSecret(g.randomSecret());
  const negative = new Uint8Array(32);
  negative[0] = 1; // s = 1 is negative: not a canonical encoding
  assert.throws(() => g.blind(k, negative), ValidationError);
  assert.throws(() => g.importSecret(new Uint8Array(32)), /zero scalar/);
  assert.throws(() => g.importSecret(new Uint8Array(16)), ValidationError);
  assert.throws(() => g.blind(x.importSecret(x.randomSecret()), g.hashToElement(ascii('a'))), ConfigError);
});

test('loadPsiGroup refuses an unknown suite name', async () => {
  await assert.rejects(loadPsiGroup('p256' as PsiSuite), ConfigError);
});
