import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConfigError } from '../core/errors.js';
import { caCertFile, caKeyFile, coordinatorFolder, initFederation, issueParticipant, listCertificates, participantFolder, readTlsMaterial, revocationFile, revokeParticipant } from './pki.js';
import { readRevocationList } from './revocation.js';

let root = '';
let dir = '';

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'edufed-pki-'));
  dir = join(root, 'fed');
  await initFederation(dir, { hosts: ['coord.example.org', '192.0.2.7'] });
});

after(() => rmSync(root, { recursive: true, force: true }));

describe('federation PKI', () => {
  it('init creates a P-256 CA, keeps private keys at mode 0600, and names the coordinator for localhost, 127.0.0.1 and the extra hosts', () => {
    const ca = new X509Certificate(readFileSync(caCertFile(dir)));
    assert.equal(ca.ca, true);
    assert.equal(ca.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    assert.equal(statSync(caKeyFile(dir)).mode & 0o777, 0o600);
    assert.equal(statSync(join(coordinatorFolder(dir), 'key.pem')).mode & 0o777, 0o600);
    const tls = readTlsMaterial(coordinatorFolder(dir));
    const cert = new X509Certificate(tls.certPem);
    assert.ok(cert.verify(ca.publicKey));
    assert.equal(cert.checkHost('localhost'), 'localhost');
    assert.equal(cert.checkHost('coord.example.org'), 'coord.example.org');
    assert.equal(cert.checkIP('127.0.0.1'), '127.0.0.1');
    assert.equal(cert.checkIP('192.0.2.7'), '192.0.2.7');
    assert.match(cert.subjectAltName ?? '', /URI:edufed:coordinator/);
    assert.equal(readRevocationList(revocationFile(dir)).entries.length, 0);
  });

  it('init refuses a folder that already holds a CA, and a host that is neither a name nor an address', async () => {
    await assert.rejects(initFederation(dir), (e: unknown) => e instanceof ConfigError && /already holds a federation CA/.test(e.message));
    await assert.rejects(initFederation(join(root, 'other'), { hosts: ['bad host'] }), /"bad host" is neither an IP address nor a DNS name/);
  });

  it('issues a client-only certificate naming the participant, verifiable against the CA', async () => {
    const summary = await issueParticipant(dir, 'school-1', { days: 30 });
    const cert = new X509Certificate(readTlsMaterial(participantFolder(dir, 'school-1')).certPem);
    const ca = new X509Certificate(readFileSync(caCertFile(dir)));
    assert.ok(cert.verify(ca.publicKey));
    assert.equal(summary.status, 'valid');
    assert.equal(cert.subjectAltName, 'URI:edufed:participant:school-1');
    assert.equal(cert.checkHost('localhost'), undefined);
    assert.ok(cert.keyUsage?.includes('1.3.6.1.5.5.7.3.2'));
    assert.ok(!cert.keyUsage?.includes('1.3.6.1.5.5.7.3.1'));
    const days = (Date.parse(summary.notAfter) - Date.parse(summary.notBefore)) / 86_400_000;
    assert.equal(days, 30);
  });

  it('refuses to issue over a valid certificate; after revocation it issues a new serial and lists both states', async () => {
    const first = await issueParticipant(dir, 'school-2');
    await assert.rejects(issueParticipant(dir, 'school-2'), /already holds a valid certificate .* revoke it first/);
    const entry = revokeParticipant(dir, 'school-2', 'keyCompromise');
    assert.equal(entry.serial, first.serial);
    assert.throws(() => revokeParticipant(dir, 'school-2'), /already revoked/);
    assert.equal(listCertificates(dir).find((c) => c.id === 'school-2')?.status, 'revoked');
    const second = await issueParticipant(dir, 'school-2');
    assert.notEqual(second.serial, first.serial);
    assert.equal(second.status, 'valid');
    assert.equal(readRevocationList(revocationFile(dir)).find(first.serial)?.reason, 'keyCompromise');
  });

  it('lists the CA, the coordinator and the participants; a zero-day certificate shows as expired', async () => {
    await issueParticipant(dir, 'school-9', { days: 0 });
    const later = new Date(Date.now() + 5_000);
    const list = listCertificates(dir, later);
    assert.deepEqual(list.slice(0, 2).map((c) => c.role), ['ca', 'coordinator']);
    assert.equal(list.find((c) => c.id === 'school-9')?.status, 'expired');
  });

  it('refuses invalid participant ids and folders without a CA', async () => {
    await assert.rejects(issueParticipant(dir, '../escape'), /not a valid participant id/);
    await assert.rejects(issueParticipant(dir, 'coordinator'), /not a valid participant id/);
    await assert.rejects(issueParticipant(join(root, 'nothing'), 'p1'), /holds no federation CA/);
    assert.throws(() => revokeParticipant(dir, 'nobody'), /has no certificate/);
  });
});
