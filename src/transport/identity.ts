/**
 * Who a certificate says its holder is, and whether the coordinator admits that holder. A
 * participant's id comes only from its certificate, signed by the federation CA: the SAN URI
 * `edufed:participant:<id>` or, for certificates without one, the subject CN.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { ConfigError, ValidationError } from '../core/errors.js';
import { COORDINATOR_ID } from './channel.js';
import { normalizeSerial, type RevocationList } from './revocation.js';

/** SAN URI prefix naming a participant. */
export const PARTICIPANT_URI_PREFIX = 'edufed:participant:';
/** SAN URI naming the coordinator. */
export const COORDINATOR_URI = 'edufed:coordinator';

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** True for a valid participant id: 1-64 of `A-Z a-z 0-9 . _ -`, starting alphanumeric, not `coordinator`. */
export function isParticipantId(id: unknown): id is string {
  return typeof id === 'string' && ID_PATTERN.test(id) && id !== COORDINATOR_ID;
}

/**
 * Checks a participant id given as configuration or a CLI argument.
 * @throws ConfigError naming `field`.
 */
export function assertParticipantId(id: unknown, field = 'participant id'): string {
  if (!isParticipantId(id)) {
    throw new ConfigError(
      field,
      `${JSON.stringify(id)} is not a valid participant id (1-64 characters of A-Z a-z 0-9 . _ -, starting with a letter or digit, not "${COORDINATOR_ID}")`,
    );
  }
  return id;
}

/** The identity a certificate asserts. */
export interface CertificateIdentity {
  readonly role: 'participant' | 'coordinator';
  /** Participant id, or `coordinator`. */
  readonly id: string;
  /** Serial number, normalised (uppercase hex, no leading zeros). */
  readonly serial: string;
  readonly fingerprint256: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

function commonNames(subject: string): string[] {
  return subject
    .split('\n')
    .filter((line) => line.startsWith('CN='))
    .map((line) => line.slice(3));
}

function edufedUris(subjectAltName: string | undefined): string[] {
  if (subjectAltName === undefined) return [];
  return subjectAltName
    .split(', ')
    .filter((entry) => entry.startsWith('URI:'))
    .map((entry) => entry.slice(4))
    .filter((uri) => uri.startsWith('edufed:') || uri.startsWith('"edufed:'));
}

/**
 * Reads the EduFed identity of a certificate (the signature is not checked here: TLS did that).
 * @throws ValidationError when the certificate names no identity, several, or a malformed one, or
 *   when its CN contradicts its SAN URI.
 */
export function identityFromCertificate(cert: X509Certificate): CertificateIdentity {
  const uris = edufedUris(cert.subjectAltName);
  const cns = commonNames(cert.subject);
  const base = {
    serial: normalizeSerial(cert.serialNumber),
    fingerprint256: cert.fingerprint256,
    notBefore: new Date(cert.validFrom),
    notAfter: new Date(cert.validTo),
  };
  const subject = cert.subject.replace(/\n/g, ', ');
  if (uris.length > 1) throw new ValidationError(undefined, `certificate "${subject}" carries ${uris.length} EduFed identities`);
  const uri = uris[0];
  if (uri === COORDINATOR_URI) return { role: 'coordinator', id: COORDINATOR_ID, ...base };
  if (uri !== undefined) {
    const id = uri.slice(PARTICIPANT_URI_PREFIX.length);
    if (!uri.startsWith(PARTICIPANT_URI_PREFIX) || !isParticipantId(id)) {
      throw new ValidationError(undefined, `certificate "${subject}" has a malformed EduFed identity URI`);
    }
    if (cns.length > 0 && !cns.includes(id)) {
      throw new ValidationError(id, `certificate CN "${cns.join(', ')}" contradicts its SAN URI ${uri}`);
    }
    return { role: 'participant', id, ...base };
  }
  const cn = cns.length === 1 ? cns[0] : undefined;
  if (cn === undefined || !isParticipantId(cn)) {
    throw new ValidationError(undefined, `certificate "${subject}" names no participant (no ${PARTICIPANT_URI_PREFIX}<id> URI and no valid CN)`);
  }
  return { role: 'participant', id: cn, ...base };
}

/** What TLS established about a connecting peer. */
export interface TlsPeerFacts {
  /** True when the chain verified against the federation CA. */
  readonly authorized: boolean;
  /** OpenSSL's verification error code when not authorized (e.g. `CERT_HAS_EXPIRED`). */
  readonly authorizationError: string | undefined;
  readonly certificate: X509Certificate | undefined;
}

/** The coordinator's decision about a connecting participant. */
export type Admission =
  | { readonly ok: true; readonly identity: CertificateIdentity }
  | {
      readonly ok: false;
      /** `unauthenticated`: the certificate itself is not acceptable; `permission-denied`: the holder is not. */
      readonly status: 'unauthenticated' | 'permission-denied';
      readonly reason: string;
      /** The claimed participant id, when the certificate names one. */
      readonly participantId: string | undefined;
    };

function describeVerifyError(code: string | undefined, cert: X509Certificate): string {
  switch (code) {
    case 'CERT_HAS_EXPIRED':
      return `certificate expired on ${new Date(cert.validTo).toISOString()}`;
    case 'CERT_NOT_YET_VALID':
      return `certificate is not valid before ${new Date(cert.validFrom).toISOString()}`;
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'CERT_SIGNATURE_FAILURE':
      return `certificate is not issued by this federation's CA (unknown issuer "${cert.issuer.replace(/\n/g, ', ')}", ${code})`;
    case 'INVALID_PURPOSE':
      return 'certificate is not a participant (TLS client) certificate';
    default:
      return `certificate verification failed (${code ?? 'unknown error'})`;
  }
}

/**
 * Decides whether a TLS peer may connect as a participant. Pure: the clock and the lists are inputs.
 * Refuses a missing, unverified, expired or not-yet-valid certificate (`unauthenticated`) and a
 * non-participant, revoked or unregistered holder (`permission-denied`).
 */
export function admitParticipant(
  facts: TlsPeerFacts,
  policy: { readonly revocations: RevocationList; readonly now: Date; readonly allow?: ((participantId: string) => boolean) | undefined },
): Admission {
  const cert = facts.certificate;
  if (cert === undefined) {
    return { ok: false, status: 'unauthenticated', reason: 'no client certificate presented', participantId: undefined };
  }
  let identity: CertificateIdentity | undefined;
  let identityError: string | undefined;
  try {
    identity = identityFromCertificate(cert);
  } catch (err) {
    identityError = err instanceof Error ? err.message : String(err);
  }
  const participantId = identity?.role === 'participant' ? identity.id : undefined;
  if (!facts.authorized) {
    return { ok: false, status: 'unauthenticated', reason: describeVerifyError(facts.authorizationError, cert), participantId };
  }
  if (identity === undefined) {
    return { ok: false, status: 'permission-denied', reason: identityError ?? 'no identity', participantId };
  }
  if (identity.role !== 'participant') {
    return { ok: false, status: 'permission-denied', reason: 'a coordinator certificate cannot connect as a participant', participantId };
  }
  if (policy.now < identity.notBefore) {
    return { ok: false, status: 'unauthenticated', reason: `certificate is not valid before ${identity.notBefore.toISOString()}`, participantId };
  }
  if (policy.now > identity.notAfter) {
    return { ok: false, status: 'unauthenticated', reason: `certificate expired on ${identity.notAfter.toISOString()}`, participantId };
  }
  const revoked = policy.revocations.find(identity.serial);
  if (revoked !== undefined) {
    return {
      ok: false,
      status: 'permission-denied',
      reason: `certificate serial ${identity.serial} was revoked on ${revoked.revokedAt} (reason: ${revoked.reason})`,
      participantId,
    };
  }
  if (policy.allow !== undefined && !policy.allow(identity.id)) {
    return { ok: false, status: 'permission-denied', reason: 'participant is not registered with this coordinator', participantId };
  }
  return { ok: true, identity };
}

/**
 * Checks an endpoint's own TLS files before it listens or dials: the certificate and CA parse, the
 * certificate is issued by that CA, and the private key matches it. Returns the certificate's identity.
 * @throws ConfigError naming the bad file
 */
export function checkOwnTlsMaterial(tls: { readonly certPem: string; readonly caCertPem: string; readonly keyPem: string }): CertificateIdentity {
  let cert: X509Certificate;
  let ca: X509Certificate;
  try {
    cert = new X509Certificate(tls.certPem);
    ca = new X509Certificate(tls.caCertPem);
  } catch (err) {
    throw new ConfigError('tls', `unreadable certificate (${err instanceof Error ? err.message : String(err)})`, { cause: err });
  }
  const identity = identityFromCertificate(cert);
  if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) throw new ConfigError('tls.certPem', 'certificate is not issued by the given federation CA');
  if (!cert.checkPrivateKey(createPrivateKey(tls.keyPem))) throw new ConfigError('tls.keyPem', 'private key does not match the certificate');
  return identity;
}
