import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ConfigError, ValidationError } from '../core/errors.js';
import { createCkks, DEFAULT_CKKS_PARAMS, loadSeal, MAX_COEFF_BITS_128, validateCkksParams, type Ckks } from './ckks.js';

/** Deterministic test vectors (xorshift), scaled by `magnitude`. */
function vector(length: number, seed: number, magnitude: number): Float64Array {
  let s = seed >>> 0 || 1;
  const out = new Float64Array(length);
  for (let i = 0; i < length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = ((s >>> 0) / 2 ** 32 - 0.5) * 2 * magnitude;
  }
  return out;
}

function maxAbsDiff(a: Float64Array, b: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

describe('ckks', () => {
  // One key pair for the file: SEAL's context is built once per process and shared.
  let ckks: Ckks;
  before(async () => {
    ckks = await createCkks();
    ckks.generateKeys();
  });
  after(() => ckks.dispose());

  it('the decrypted sum of k encrypted vectors equals their plain sum within the bound derived from the parameters', () => {
    // Prepare: 12 vectors spanning two ciphertexts, with magnitudes from 1e-3 to 1e6.
    const length = 5000;
    const inputs = Array.from({ length: 12 }, (_, k) => vector(length, k + 1, 10 ** ((k % 10) - 3)));
    const plain = new Float64Array(length);
    for (const v of inputs) v.forEach((x, i) => (plain[i] = (plain[i] as number) + x));
    const maxAbs = inputs.reduce((m, v) => m + v.reduce((a, x) => Math.max(a, Math.abs(x)), 0), 0);
    // Execute
    const sum = ckks.sum(inputs.map((v) => ckks.encrypt(v)));
    const decrypted = ckks.decrypt(sum, length);
    // Assert
    const err = maxAbsDiff(decrypted, plain);
    const bound = ckks.errorBound(inputs.length, maxAbs);
    assert.ok(err <= bound, `error ${err} exceeds the bound ${bound}`);
    assert.ok(err / maxAbs < 1e-12, `relative error ${err / maxAbs}`);
  });

  it('the documented bound is below 1e-9 relative for 1000 inputs whose sum reaches magnitude 1 or more', () => {
    for (const magnitude of [1, 1e3, 1e9]) assert.ok(ckks.errorBound(1000, magnitude) / magnitude < 1e-9, `at ${magnitude}`);
  });

  it('encrypts a float32 vector shorter than one ciphertext, zero-padding the rest', () => {
    const v = Float32Array.from([1.5, -2.25, 3e-3]);
    const out = ckks.decrypt(ckks.encrypt(v), 3);
    assert.equal(out.length, 3);
    v.forEach((x, i) => assert.ok(Math.abs((out[i] as number) - x) < 1e-12));
    assert.equal(ckks.ciphertextCount(4096), 1);
    assert.equal(ckks.ciphertextCount(4097), 2);
  });

  it('a secret key saved by one instance decrypts, in another, a sum of ciphertexts made with the saved public key', async () => {
    // Prepare: an encryptor that holds only the public key, a decryptor that holds only the secret key.
    const encryptor = await createCkks();
    const decryptor = await createCkks();
    try {
      encryptor.loadPublicKey(ckks.savePublicKey());
      const secret = ckks.saveSecretKey();
      decryptor.loadSecretKey(secret);
      secret.fill(0);
      assert.equal(encryptor.hasSecretKey, false);
      const a = vector(100, 7, 5);
      const b = vector(100, 8, 5);
      // Execute: one public-key ciphertext plus one made with the secret key (seeded, smaller).
      const fromPublic = encryptor.encrypt(a);
      const fromSecret = ckks.encrypt(b);
      const out = decryptor.decrypt(decryptor.sum([fromPublic, fromSecret]), 100);
      // Assert
      const expected = a.map((x, i) => x + (b[i] as number));
      assert.ok(maxAbsDiff(out, expected) <= ckks.errorBound(2, 10));
      assert.ok((fromSecret[0] as Uint8Array).length < 0.6 * (fromPublic[0] as Uint8Array).length, 'seeded ciphertexts are about half the size');
    } finally {
      encryptor.dispose();
      decryptor.dispose();
    }
  });

  it('refuses garbage, truncated, foreign and mis-scaled ciphertexts with a ValidationError naming the ciphertext', async () => {
    const good = ckks.encrypt(vector(10, 3, 1))[0] as Uint8Array;
    const otherScale = await createCkks({ ...DEFAULT_CKKS_PARAMS, scaleBits: 50 });
    otherScale.generateKeys();
    try {
      const cases: [string, Uint8Array][] = [
        ['random bytes', new Uint8Array(randomBytes(4000))],
        ['empty', new Uint8Array(0)],
        ['truncated', good.subarray(0, good.length - 100)],
        ['a public key', ckks.savePublicKey()],
        ['another scale', otherScale.encrypt(vector(10, 3, 1))[0] as Uint8Array],
        ['oversized', new Uint8Array(2 * 8192 * 2 * 8 + 5000)],
      ];
      for (const [what, bytes] of cases) {
        const acc = ckks.createSum();
        assert.throws(
          () => ckks.addInto(acc, [bytes], 'input'),
          (err: unknown) => err instanceof ValidationError && err.message.includes('input[0]'),
          what,
        );
        acc.dispose();
        assert.throws(() => ckks.decrypt([bytes], 10, 'sum'), (err: unknown) => err instanceof ValidationError && err.message.includes('sum[0]'), what);
      }
    } finally {
      otherScale.dispose();
    }
  });

  it('a refused vector leaves the running sum unchanged', () => {
    const a = vector(5000, 11, 1);
    const b = vector(5000, 12, 1);
    const acc = ckks.createSum();
    try {
      ckks.addInto(acc, ckks.encrypt(a));
      const bad = ckks.encrypt(b);
      bad[1] = new Uint8Array(randomBytes(1000));
      assert.throws(() => ckks.addInto(acc, bad, 'second'), /second\[1\]/);
      assert.throws(() => ckks.addInto(acc, ckks.encrypt(b).slice(0, 1), 'short'), /short: 1 ciphertexts, but the sum holds 2/);
      assert.equal(acc.inputs, 1);
      assert.ok(maxAbsDiff(ckks.decrypt(acc.save(), 5000), a) <= ckks.errorBound(1, 1));
    } finally {
      acc.dispose();
    }
  });

  it('refuses non-finite values and values beyond maxAbs, without putting the value in the message', () => {
    const secretish = 123456.789;
    assert.throws(() => ckks.encrypt(Float64Array.from([0, NaN])), (e: unknown) => e instanceof ValidationError && /vector\[1\]/.test(e.message));
    assert.throws(
      () => ckks.encrypt(Float64Array.from([secretish]), { maxAbs: 1000 }),
      (e: unknown) => e instanceof ValidationError && /vector\[0\]/.test(e.message) && !e.message.includes('123456'),
    );
    assert.throws(() => ckks.encrypt(Float64Array.from([ckks.capacity * 2])), ValidationError);
    assert.throws(() => ckks.encrypt(new Float64Array(0)), ValidationError);
  });

  it('refuses to decrypt a ciphertext count that does not match the length', () => {
    const cts = ckks.encrypt(vector(10, 5, 1));
    assert.throws(() => ckks.decrypt(cts, 5000), /1 ciphertexts for 5000 values, expected 2/);
    assert.throws(() => ckks.decrypt(cts, 0), ValidationError);
  });

  it('refuses keys that are garbage or of another kind, and tells matching key pairs from mismatched ones', async () => {
    const other = await createCkks();
    try {
      assert.throws(() => other.loadPublicKey(new Uint8Array(randomBytes(500))), /CKKS public key/);
      const secret = ckks.saveSecretKey();
      assert.throws(() => other.loadPublicKey(secret), ValidationError);
      assert.throws(() => other.loadSecretKey(ckks.savePublicKey()), ValidationError);
      other.generateKeys();
      assert.equal(other.checkKeyPair(), true);
      other.loadSecretKey(secret);
      assert.equal(other.checkKeyPair(), false);
    } finally {
      other.dispose();
    }
  });

  it('the 128-bit limits of the parameter check agree with SEAL, and invalid parameters are refused naming the field', async () => {
    const seal = await loadSeal();
    for (const [n, bits] of Object.entries(MAX_COEFF_BITS_128)) assert.equal(seal.CoeffModulus.MaxBitCount(Number(n), seal.SecurityLevel.tc128), bits);
    assert.deepEqual(validateCkksParams(DEFAULT_CKKS_PARAMS), DEFAULT_CKKS_PARAMS);
    const bad: [unknown, string][] = [
      [null, 'p'],
      [{ ...DEFAULT_CKKS_PARAMS, polyModulusDegree: 1000 }, 'p.polyModulusDegree'],
      [{ ...DEFAULT_CKKS_PARAMS, coeffModulusBits: [60] }, 'p.coeffModulusBits'],
      [{ ...DEFAULT_CKKS_PARAMS, coeffModulusBits: [60, 61, 60] }, 'p.coeffModulusBits[1]'],
      [{ ...DEFAULT_CKKS_PARAMS, coeffModulusBits: [60, 60, 60, 60] }, 'p.coeffModulusBits'],
      [{ ...DEFAULT_CKKS_PARAMS, scaleBits: 117 }, 'p.scaleBits'],
      [{ ...DEFAULT_CKKS_PARAMS, scaleBits: 1.5 }, 'p.scaleBits'],
    ];
    for (const [value, field] of bad) {
      assert.throws(() => validateCkksParams(value, 'p'), (e: unknown) => e instanceof ConfigError && e.field === field, field);
    }
  });

  it('an instance refuses use after dispose', async () => {
    const short = await createCkks();
    short.generateKeys();
    short.dispose();
    assert.throws(() => short.encrypt(Float64Array.from([1])), /after dispose/);
  });
});
