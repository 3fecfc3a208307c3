import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ValidationError } from '../core/errors.js';
import { admitParticipant, identityFromCertificate, isParticipantId, type TlsPeerFacts } from './identity.js';
import { coordinatorFolder, initFederation, issueParticipant, participantFolder } from './pki.js';
import { EMPTY_REVOCATION_LIST, revocationList } from './revocation.js';

let dir = '';
let p1: X509Certificate;
let coordinator: X509Certificate;

/** A throw-away self-signed certificate with the given subject and extra extensions. */
function selfSigned(subject: string, ...addext: string[]): X509Certificate {
  const keyFile = join(dir, 'throwaway-key.pem');
  const pem = execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyFile, '-subj', subject, '-days', '1',
    ...addext.flatMap((e) => ['-addext', e]),
  ], { stdio: ['ignore', 'pipe', 'ignore'] });
  return new X509Certificate(pem);
}

const trusted = (certificate: X509Certificate): TlsPeerFacts => ({ authorized: true, authorizationError: undefined, certificate });

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'edufed-id-'));
  await initFederation(dir);
  await issueParticipant(dir, 'region-7');
  p1 = new X509Certificate(readFileSync(join(participantFolder(dir, 'region-7'), 'cert.pem')));
  coordinator = new X509Certificate(readFileSync(join(coordinatorFolder(dir), 'cert.pem')));
});

after(() => rmSync(dir, { recursive: true, force: true }));

describe('identityFromCertificate', () => {
  it('reads a participant id from the SAN URI and the coordinator role from its URI', () => {
    const id = identityFromCertificate(p1);
    assert.equal(id.role, 'participant');
    assert.equal(id.id, 'region-7');
    assert.match(id.serial, /^[0-9A-F]+$/);
    assert.equal(identityFromCertificate(coordinator).role, 'coordinator');
  });

  it('falls back to the CN when there is no EduFed URI', () => {
    assert.equal(identityFromCertificate(selfSigned('/CN=school-3')).id, 'school-3');
  });

  it('refuses a CN that contradicts the URI, two identities, a malformed id and a reserved one', () => {
    const refused = (cert: X509Certificate, pattern: RegExp): void => {
      assert.throws(() => identityFromCertificate(cert), (e: unknown) => e instanceof ValidationError && pattern.test(e.message));
    };
    refused(selfSigned('/CN=p2', 'subjectAltName=URI:edufed:participant:p1'), /CN "p2" contradicts its SAN URI/);
    refused(selfSigned('/CN=p1', 'subjectAltName=URI:edufed:participant:p1,URI:edufed:participant:p2'), /carries 2 EduFed identities/);
    refused(selfSigned('/CN=x', 'subjectAltName=URI:edufed:participant:bad id'), /malformed EduFed identity URI/);
    refused(selfSigned('/CN=coordinator'), /names no participant/);
    assert.equal(isParticipantId('coordinator'), false);
    assert.equal(isParticipantId('-x'), false);
  });
});

describe('admitParticipant', () => {
  it('admits a verified, current, unrevoked participant certificate', () => {
    const now = new Date();
    const a = admitParticipant(trusted(p1), { revocations: EMPTY_REVOCATION_LIST, now });
    assert.ok(a.ok);
    assert.equal(a.identity.id, 'region-7');
  });

  it('refuses with "unauthenticated" a missing, unknown-CA, expired or not-yet-valid certificate', () => {
    const now = new Date();
    const cases: [TlsPeerFacts, Date, RegExp][] = [
      [{ authorized: false, authorizationError: 'UNABLE_TO_GET_ISSUER_CERT', certificate: undefined }, now, /no client certificate presented/],
      [{ authorized: false, authorizationError: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', certificate: p1 }, now, /not issued by this federation's CA/],
      [{ authorized: false, authorizationError: 'CERT_HAS_EXPIRED', certificate: p1 }, now, /certificate expired on/],
      [trusted(p1), new Date(Date.now() + 2 * 365 * 86_400_000), /certificate expired on/],
      [trusted(p1), new Date(Date.now() - 86_400_000), /not valid before/],
    ];
    for (const [facts, at, pattern] of cases) {
      const a = admitParticipant(facts, { revocations: EMPTY_REVOCATION_LIST, now: at });
      assert.ok(!a.ok && a.status === 'unauthenticated' && pattern.test(a.reason), `${pattern}: ${JSON.stringify(a)}`);
    }
  });

  it('refuses with "permission-denied" a revoked certificate, an unregistered participant and a coordinator certificate', () => {
    const now = new Date();
    const serial = identityFromCertificate(p1).serial;
    const revoked = revocationList([{ serial, participantId: 'region-7', reason: 'superseded', revokedAt: '2026-01-01T00:00:00.000Z' }]);
    const cases: [TlsPeerFacts, Parameters<typeof admitParticipant>[1], RegExp][] = [
      [trusted(p1), { revocations: revoked, now }, new RegExp(`serial ${serial} was revoked on 2026-01-01T00:00:00.000Z \\(reason: superseded\\)`)],
      [trusted(p1), { revocations: EMPTY_REVOCATION_LIST, now, allow: (id) => id !== 'region-7' }, /not registered/],
      [trusted(coordinator), { revocations: EMPTY_REVOCATION_LIST, now }, /coordinator certificate cannot connect as a participant/],
    ];
    for (const [facts, policy, pattern] of cases) {
      const a = admitParticipant(facts, policy);
      assert.ok(!a.ok && a.status === 'permission-denied' && pattern.test(a.reason), `${pattern}: ${JSON.stringify(a)}`);
    }
  });
});
