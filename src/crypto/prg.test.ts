import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv } from 'node:crypto';
import { addMask, expandSeed } from './prg.js';

test('the stream is AES-256 of the big-endian block counter, read as little-endian words', () => {
  const seed = new Uint8Array(32).map((_, i) => i);
  const words = expandSeed(seed, 12);
  const ecb = createCipheriv('aes-256-ecb', seed, null).setAutoPadding(false);
  const counters = Buffer.alloc(48);
  counters[15] = 0;
  counters[31] = 1;
  counters[47] = 2;
  const blocks = ecb.update(counters);
  for (let i = 0; i < 12; i++) assert.equal(words[i], blocks.readUInt32LE(i * 4));
});

test('adding then subtracting the same mask restores the vector exactly, modulo 2^32', () => {
  const seed = new Uint8Array(32).fill(9);
  const v = Uint32Array.from([0, 1, 0xffffffff, 123456789]);
  const w = v.slice();
  addMask(w, seed, 1);
  assert.notDeepEqual(w, v);
  addMask(w, seed, -1);
  assert.deepEqual(w, v);
});

test('different seeds give different streams, and a short seed is refused', () => {
  assert.notDeepEqual(expandSeed(new Uint8Array(32).fill(1), 4), expandSeed(new Uint8Array(32).fill(2), 4));
  assert.throws(() => expandSeed(new Uint8Array(16), 4), /expected 32 bytes/);
});
