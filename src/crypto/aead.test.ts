import { test } from 'node:test';
import assert from 'node:assert/strict';
import { open, seal } from './aead.js';

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));

test('open decrypts the GCM spec test case 14 (AES-256, zero key and IV, one zero block)', () => {
  // McGrew and Viega, "The Galois/Counter Mode of Operation", test case 14: C then T.
  const sealed = new Uint8Array([...new Uint8Array(12), ...hex('cea7403d4d606b6e074ec5d3baf39d18'), ...hex('d0d1c8a799996bf0265b98b5d48ab919')]);
  assert.deepEqual(open(new Uint8Array(32), sealed), new Uint8Array(16));
});

test('open authenticates the GCM spec test case 13 (empty plaintext, tag only)', () => {
  const sealed = new Uint8Array([...new Uint8Array(12), ...hex('530f8afbc74536b9a963b4f1c4cb738b')]);
  assert.equal(open(new Uint8Array(32), sealed).length, 0);
});

test('seal then open round-trips, and any flipped bit, other key or other aad is refused', () => {
  const key = new Uint8Array(32).fill(7);
  const msg = new TextEncoder().encode('share of participant a for b');
  const sealed = seal(key, msg, 'job|3');
  assert.deepEqual(open(key, sealed, 'job|3'), msg);
  for (const i of [0, 12, sealed.length - 1]) {
    const bad = sealed.slice();
    bad[i] = (bad[i] as number) ^ 1;
    assert.throws(() => open(key, bad, 'job|3'), /failed authentication/);
  }
  assert.throws(() => open(new Uint8Array(32), sealed, 'job|3'), /failed authentication/);
  assert.throws(() => open(key, sealed, 'job|4'), /failed authentication/);
  assert.throws(() => open(key, sealed.subarray(0, 20)), /too short/);
});

test('two seals of one message differ (fresh nonce each time)', () => {
  const key = new Uint8Array(32).fill(1);
  assert.notDeepEqual(seal(key, new Uint8Array(8)), seal(key, new Uint8Array(8)));
});

test('nonces never repeat across refills of the nonce pool', () => {
  const key = new Uint8Array(32).fill(2);
  const seen = new Set<string>();
  for (let i = 0; i < 1000; i++) seen.add(Buffer.from(seal(key, new Uint8Array(1)).subarray(0, 12)).toString('hex'));
  assert.equal(seen.size, 1000);
});
