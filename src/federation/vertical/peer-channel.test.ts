import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EduFedError } from '../../core/errors.js';
import { freshAgreementKey, PeerChannel } from './peer-channel.js';
import type { DirectoryEntry, PartyRole } from './protocol.js';
import { ringAdd, ringZeros } from './ring.js';

function channels(roles: Record<string, PartyRole>): Map<string, PeerChannel> {
  const keys = new Map(Object.keys(roles).map((id) => [id, freshAgreementKey()]));
  const directory: DirectoryEntry[] = Object.entries(roles).map(([id, role]) => ({ id, role, agreementKey: keys.get(id)?.publicKey ?? new Uint8Array() }));
  return new Map(Object.keys(roles).map((id) => [id, new PeerChannel('job-1', id, keys.get(id) ?? freshAgreementKey(), directory)]));
}

test('the pairwise masks of three feature holders cancel exactly in their sum; the label holder has none', () => {
  // Prepare
  const ch = channels({ A: 'feature-holder', B: 'feature-holder', D: 'feature-holder', C: 'label-holder' });
  // Execute
  const total = ringZeros(50);
  for (const id of ['A', 'B', 'D']) ringAdd(total, ch.get(id)?.pairwiseMask('train/1', 50) ?? ringZeros(50), total);
  // Assert
  assert.deepEqual(total, ringZeros(50));
  assert.notDeepEqual(ch.get('A')?.pairwiseMask('train/1', 50), ringZeros(50));
  assert.notDeepEqual(ch.get('A')?.pairwiseMask('train/1', 50), ch.get('A')?.pairwiseMask('train/2', 50));
  assert.equal(ch.get('C')?.masks, false);
});

test('a sealed payload opens only for its receiver, at the place and step it was sealed for', () => {
  const ch = channels({ A: 'feature-holder', B: 'feature-holder', C: 'label-holder' });
  const a = ch.get('A');
  const c = ch.get('C');
  const b = ch.get('B');
  assert.ok(a !== undefined && b !== undefined && c !== undefined);
  const sealed = a.seal('C', 'partial-logits', 'train/1/0', Uint8Array.of(1, 2, 3));
  assert.deepEqual(c.open('A', 'partial-logits', 'train/1/0', sealed), Uint8Array.of(1, 2, 3));
  assert.throws(() => c.open('A', 'partial-logits', 'train/1/1', sealed), EduFedError);
  assert.throws(() => c.open('A', 'embeddings', 'train/1/0', sealed), EduFedError);
  assert.throws(() => b.open('A', 'partial-logits', 'train/1/0', sealed), EduFedError);
  c.wipe();
  assert.throws(() => c.open('A', 'partial-logits', 'train/1/0', sealed), /no key/);
});
