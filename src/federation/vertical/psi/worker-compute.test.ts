import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, EduFedError, ValidationError } from '../../../core/errors.js';
import { inlineCompute } from './compute.js';
import type { PackedMessages } from './group.js';
import { workerCompute } from './worker-compute.js';

function pack(msgs: readonly string[]): PackedMessages {
  const parts = msgs.map((m) => Buffer.from(m));
  const offsets = new Uint32Array(parts.length + 1);
  parts.forEach((p, i) => (offsets[i + 1] = (offsets[i] as number) + p.length));
  return { bytes: new Uint8Array(Buffer.concat(parts)), offsets };
}

test('worker threads and the calling thread compute the same group: their secrets commute', async () => {
  // Prepare: one secret in each backend; many batches so both workers take part.
  const workers = await workerCompute({ suite: 'x25519', threads: 2 });
  const inline = await inlineCompute('x25519');
  try {
    const w = await workers.createSecret();
    const i = await inline.createSecret();
    const batches = Array.from({ length: 6 }, (_, b) => pack(Array.from({ length: 40 }, (_, k) => `id-${b}-${k}`)));
    // Execute
    const viaWorkers = await Promise.all(batches.map(async (m) => inline.blind(i, await workers.hashBlind(w, m))));
    const viaInline = await Promise.all(batches.map(async (m) => workers.blind(w, await inline.hashBlind(i, m))));
    // Assert
    assert.deepEqual(viaWorkers, viaInline);
    assert.equal(workers.parallelism, 2);
  } finally {
    await workers.close();
  }
});

test('a worker error comes back as a typed rejection and the backend keeps working', async () => {
  const workers = await workerCompute({ suite: 'x25519', threads: 1 });
  try {
    const s = await workers.createSecret();
    await assert.rejects(workers.blind(s, new Uint8Array(32)), ValidationError);
    assert.equal((await workers.hashBlind(s, pack(['a', 'b']))).length, 64);
    const view = new Uint8Array(100).subarray(10, 42);
    view.set(await workers.hashBlind(s, pack(['c'])));
    // The caller's bytes are copied, never transferred away.
    await workers.blind(s, view);
    assert.equal(view.byteLength, 32);
    workers.destroySecret(s);
    await assert.rejects(workers.blind(s, view), /no secret/);
  } finally {
    await workers.close();
  }
});

test('a closed backend refuses work; bad options are refused up front', async () => {
  const workers = await workerCompute({ suite: 'ristretto255', threads: 1 });
  const s = await workers.createSecret();
  await workers.close();
  await assert.rejects(workers.hashBlind(s, pack(['a'])), EduFedError);
  await assert.rejects(workerCompute({ suite: 'x25519', threads: 0 }), ConfigError);
  const other = await workerCompute({ suite: 'x25519', threads: 1 });
  try {
    await assert.rejects(other.blind(s, new Uint8Array(32)), ConfigError);
  } finally {
    await other.close();
  }
});
