import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, ValidationError } from '../../../core/errors.js';
import { inlineCompute } from './compute.js';
import type { PackedMessages } from './group.js';

function pack(msgs: readonly string[]): PackedMessages {
  const parts = msgs.map((m) => Buffer.from(m));
  const offsets = new Uint32Array(parts.length + 1);
  parts.forEach((p, i) => (offsets[i + 1] = (offsets[i] as number) + p.length));
  return { bytes: new Uint8Array(Buffer.concat(parts)), offsets };
}

test('inline compute: two secrets commute on hashed identifiers', async () => {
  const c = await inlineCompute('x25519');
  const a = await c.createSecret();
  const b = await c.createSecret();
  const m = pack(['alice', 'bob']);
  assert.deepEqual(await c.blind(b, await c.hashBlind(a, m)), await c.blind(a, await c.hashBlind(b, m)));
  assert.equal(c.parallelism, 1);
});

test('inline compute: a bad element rejects with a ValidationError, a destroyed secret with a ConfigError', async () => {
  const c = await inlineCompute('ristretto255');
  const a = await c.createSecret();
  await assert.rejects(c.blind(a, new Uint8Array(32).fill(0xff)), ValidationError);
  c.destroySecret(a);
  await assert.rejects(c.hashBlind(a, pack(['x'])), ConfigError);
  await c.close();
});
