import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError } from '../core/errors.js';
import { normalizeSerial, parseRevocationList, RevocationFile, revocationList, writeRevocationList } from './revocation.js';

const entry = { serial: '0A:1b', participantId: 'p1', reason: 'keyCompromise', revokedAt: '2026-01-02T03:04:05.000Z' } as const;

describe('revocation list', () => {
  it('finds a serial whatever its hex spelling (case, colons, leading zeros)', () => {
    const list = revocationList([entry]);
    for (const s of ['A1B', '0a1b', '00:0A:1B']) assert.equal(list.find(s)?.participantId, 'p1', s);
    assert.equal(list.find('A1C'), undefined);
    assert.equal(normalizeSerial('0000'), '0');
  });

  it('refuses a file that is not a revocation list, naming the file and the bad entry', () => {
    const doc = (revoked: unknown[]): unknown => ({ format: 'edufed-revocations', version: 1, revoked });
    const cases: [unknown, RegExp][] = [
      [{ revoked: [] }, /f\.json: not an EduFed revocation list/],
      [doc([{ ...entry, serial: 'xyz' }]), /revoked\[0\]\.serial: expected a hex string/],
      [doc([{ ...entry, reason: 'bored' }]), /revoked\[0\]\.reason: expected one of unspecified, keyCompromise/],
      [doc([entry, { ...entry, revokedAt: 'yesterday' }]), /revoked\[1\]\.revokedAt: expected an ISO 8601 time/],
      [doc([{ ...entry, participantId: 7 }]), /revoked\[0\]\.participantId: expected a string/],
    ];
    for (const [json, pattern] of cases) assert.throws(() => parseRevocationList(json, 'f.json'), (e: unknown) => e instanceof ConfigError && pattern.test(e.message));
  });

  it('re-reads the file when it changes, and fails closed (throws) while it is unreadable', () => {
    const dir = mkdtempSync(join(tmpdir(), 'edufed-rev-'));
    try {
      const file = join(dir, 'revoked.json');
      writeRevocationList(file, revocationList([]));
      const watched = new RevocationFile(file);
      assert.equal(watched.current().entries.length, 0);
      writeRevocationList(file, revocationList([entry]));
      assert.equal(watched.current().find('A1B')?.reason, 'keyCompromise');
      writeFileSync(file, '{ broken');
      assert.throws(() => watched.current(), /revocation list is not valid JSON/);
      assert.throws(() => watched.current(), /revocation list is not valid JSON/);
      writeRevocationList(file, revocationList([]));
      assert.equal(watched.current().entries.length, 0);
      assert.throws(() => new RevocationFile(join(dir, 'missing.json')), /cannot read the revocation list/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
