import { test } from 'node:test';
import assert from 'node:assert/strict';
import { agreeKey, generateX25519, hkdf, rawPrivateKey, x25519, x25519FromPrivate } from './key-agreement.js';

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

test('X25519 reproduces the RFC 7748 section 6.1 Alice and Bob vector', () => {
  const alice = x25519FromPrivate(hex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a'));
  const bob = x25519FromPrivate(hex('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb'));
  assert.equal(toHex(alice.publicKey), '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a');
  assert.equal(toHex(bob.publicKey), 'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f');
  const k = '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742';
  assert.equal(toHex(x25519(alice.privateKey, bob.publicKey)), k);
  assert.equal(toHex(x25519(bob.privateKey, alice.publicKey)), k);
});

test('HKDF-SHA256 reproduces RFC 5869 test case 3 (empty salt and info)', () => {
  const okm = hkdf(hex('0b'.repeat(22)), new Uint8Array(0), '', 42);
  assert.equal(toHex(okm), '8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8');
});

test('HKDF-SHA256 with ASCII info is deterministic and separates contexts', () => {
  const ikm = hex('0b'.repeat(22));
  assert.deepEqual(hkdf(ikm, 'salt', 'a'), hkdf(ikm, 'salt', 'a'));
  assert.notDeepEqual(hkdf(ikm, 'salt', 'a'), hkdf(ikm, 'salt', 'b'));
});

test('two parties derive the same key for one context and different keys for another', () => {
  const a = generateX25519();
  const b = generateX25519();
  assert.deepEqual(agreeKey(a.privateKey, b.publicKey, 'job|1|mask'), agreeKey(b.privateKey, a.publicKey, 'job|1|mask'));
  assert.notDeepEqual(agreeKey(a.privateKey, b.publicKey, 'job|1|mask'), agreeKey(a.privateKey, b.publicKey, 'job|2|mask'));
});

test('a private key survives export to raw bytes and back', () => {
  const a = generateX25519();
  const again = x25519FromPrivate(rawPrivateKey(a.privateKey));
  assert.deepEqual(again.publicKey, a.publicKey);
});

test('a low-order or malformed peer key is refused with a clear error', () => {
  const a = generateX25519();
  assert.throws(() => x25519(a.privateKey, new Uint8Array(32)), /low-order|agreement failed/);
  assert.throws(() => x25519(a.privateKey, new Uint8Array(31)), /expected 32 bytes/);
});
