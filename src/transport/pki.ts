/**
 * The federation's certificates: a CA, one TLS server certificate for the coordinator and one
 * TLS client certificate per participant, all ECDSA P-256 with SHA-256 (the curve every TLS 1.3
 * stack, gRPC's included, supports). Keys come from node:crypto; certificates are signed by the
 * `openssl` command (OpenSSL 1.1.1 or 3.x; set EDUFED_OPENSSL to use another binary), so no ASN.1
 * is written by hand. Every certificate is checked with node:crypto after issuance.
 *
 * Layout of a federation folder D:
 * - `D/ca-cert.pem`: the CA certificate (public; every party needs it).
 * - `D/private/ca-key.pem`: the CA key (mode 0600; stays with the federation operator).
 * - `D/revoked.json`: the revocation list the coordinator loads.
 * - `D/coordinator/{ca-cert,cert,key}.pem`: what the coordinator host needs.
 * - `D/participants/<id>/{ca-cert,cert,key}.pem`: what each participant host needs.
 */
import { execFile } from 'node:child_process';
import { X509Certificate, createPrivateKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../core/errors.js';
import { COORDINATOR_ID } from './channel.js';
import { assertParticipantId, COORDINATOR_URI, identityFromCertificate, PARTICIPANT_URI_PREFIX } from './identity.js';
import {
  EMPTY_REVOCATION_LIST,
  normalizeSerial,
  readRevocationList,
  revocationList,
  writeRevocationList,
  type RevocationEntry,
  type RevocationReason,
} from './revocation.js';

/** PEM texts a TLS endpoint needs. */
export interface TlsMaterial {
  /** The federation CA certificate, trusted for the peer. */
  readonly caCertPem: string;
  /** This endpoint's certificate. */
  readonly certPem: string;
  /** This endpoint's private key. */
  readonly keyPem: string;
}

/** State of an issued certificate. */
export type CertificateStatus = 'valid' | 'expired' | 'not-yet-valid' | 'revoked';

/** What `keys list` shows about one certificate. */
export interface CertificateSummary {
  readonly role: 'ca' | 'coordinator' | 'participant';
  readonly id: string;
  readonly serial: string;
  readonly notBefore: string;
  readonly notAfter: string;
  readonly status: CertificateStatus;
  readonly revocation: RevocationEntry | undefined;
  /** Subject alternative names, as OpenSSL prints them. */
  readonly subjectAltName: string;
  readonly certFile: string;
}

/** Default lifetime of the CA certificate, in days. */
export const DEFAULT_CA_DAYS = 3650;
/** Default lifetime of coordinator and participant certificates, in days. */
export const DEFAULT_LEAF_DAYS = 365;

/** Path of the CA certificate in a federation folder. */
export function caCertFile(dir: string): string {
  return join(dir, 'ca-cert.pem');
}
/** Path of the CA key in a federation folder. */
export function caKeyFile(dir: string): string {
  return join(dir, 'private', 'ca-key.pem');
}
/** Path of the revocation list in a federation folder. */
export function revocationFile(dir: string): string {
  return join(dir, 'revoked.json');
}
/** Folder holding the coordinator's TLS files. */
export function coordinatorFolder(dir: string): string {
  return join(dir, 'coordinator');
}
/** Folder holding a participant's TLS files. */
export function participantFolder(dir: string, participantId: string): string {
  return join(dir, 'participants', assertParticipantId(participantId, '--id'));
}

/**
 * Reads `ca-cert.pem`, `cert.pem` and `key.pem` from an endpoint folder (see the layout above).
 * @throws ConfigError naming the missing or unreadable file.
 */
export function readTlsMaterial(folder: string): TlsMaterial {
  const read = (name: string): string => {
    const file = join(folder, name);
    try {
      return readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError(file, `cannot read TLS file (${err instanceof Error ? err.message : String(err)})`, { cause: err });
    }
  };
  return { caCertPem: read('ca-cert.pem'), certPem: read('cert.pem'), keyPem: read('key.pem') };
}

function openssl(args: readonly string[]): Promise<void> {
  const bin = process.env['EDUFED_OPENSSL'] ?? 'openssl';
  return new Promise((resolve, reject) => {
    execFile(bin, args, { timeout: 30_000, maxBuffer: 1 << 20 }, (err, _stdout, stderr) => {
      if (err === null) {
        resolve();
        return;
      }
      if ('code' in err && err.code === 'ENOENT') {
        reject(new ConfigError('openssl', `the "${bin}" command was not found; install OpenSSL (Debian: apt-get install openssl) or set EDUFED_OPENSSL`));
        return;
      }
      reject(new ConfigError('openssl', `openssl ${args[0] ?? ''} failed: ${stderr.trim() || err.message}`, { cause: err }));
    });
  });
}

function checkDays(days: number, field: string): number {
  if (!Number.isInteger(days) || days < 0 || days > 36500) throw new ConfigError(field, `${days} is not a whole number of days in 0..36500`);
  return days;
}

const DNS_NAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

function sanEntry(host: string): string {
  if (isIP(host) !== 0) return `IP:${host}`;
  if (DNS_NAME.test(host)) return `DNS:${host}`;
  throw new ConfigError('--host', `${JSON.stringify(host)} is neither an IP address nor a DNS name`);
}

// A fresh positive 127-bit serial, first byte >= 0x10 so its hex spelling has no leading zero.
function newSerial(): string {
  const b = randomBytes(16);
  b[0] = 0x10 + ((b[0] as number) % 0x70);
  return b.toString('hex').toUpperCase();
}

function opensslConfig(participantSan: string, coordinatorSan: string): string {
  const leaf = ['basicConstraints = critical, CA:FALSE', 'keyUsage = critical, digitalSignature', 'subjectKeyIdentifier = hash', 'authorityKeyIdentifier = keyid'];
  return [
    '[req]',
    'distinguished_name = dn',
    'prompt = no',
    '[dn]',
    'CN = unused',
    '[ca_ext]',
    'basicConstraints = critical, CA:TRUE, pathlen:0',
    'keyUsage = critical, keyCertSign, cRLSign',
    'subjectKeyIdentifier = hash',
    '[coordinator_ext]',
    ...leaf,
    'extendedKeyUsage = serverAuth',
    `subjectAltName = ${coordinatorSan}`,
    '[participant_ext]',
    ...leaf,
    'extendedKeyUsage = clientAuth',
    `subjectAltName = ${participantSan}`,
    '',
  ].join('\n');
}

function newKeyPem(): string {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

function writeSecret(file: string, text: string): void {
  writeFileSync(file, text, { mode: 0o600 });
  chmodSync(file, 0o600);
}

/** Signs a leaf certificate for `keyPem` with the CA of `dir`, in a scratch folder; returns the PEM. */
async function signLeaf(
  dir: string,
  keyPem: string,
  profile: 'coordinator_ext' | 'participant_ext',
  cn: string,
  san: string,
  days: number,
): Promise<string> {
  const work = mkdtempSync(join(tmpdir(), 'edufed-pki-'));
  try {
    const cfg = join(work, 'openssl.cnf');
    const key = join(work, 'key.pem');
    const csr = join(work, 'req.csr');
    const crt = join(work, 'cert.pem');
    writeFileSync(cfg, profile === 'coordinator_ext' ? opensslConfig('URI:unused', san) : opensslConfig(san, 'URI:unused'));
    writeSecret(key, keyPem);
    await openssl(['req', '-new', '-key', key, '-subj', `/O=EduFed/CN=${cn}`, '-config', cfg, '-out', csr]);
    await openssl([
      'x509', '-req', '-in', csr, '-CA', caCertFile(dir), '-CAkey', caKeyFile(dir), '-set_serial', `0x${newSerial()}`,
      '-days', String(days), '-sha256', '-extfile', cfg, '-extensions', profile, '-out', crt,
    ]);
    const pem = readFileSync(crt, 'utf8');
    verifyIssued(dir, pem, keyPem);
    return pem;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function verifyIssued(dir: string, certPem: string, keyPem: string): void {
  const cert = new X509Certificate(certPem);
  const ca = new X509Certificate(readFileSync(caCertFile(dir)));
  if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey) || !cert.checkPrivateKey(createPrivateKey(keyPem))) {
    throw new ConfigError('openssl', 'the issued certificate does not verify against the CA and its key');
  }
}

function installEndpoint(folder: string, caPem: string, certPem: string, keyPem: string): void {
  mkdirSync(folder, { recursive: true, mode: 0o700 });
  const tmpKey = join(folder, 'key.pem.tmp');
  const tmpCert = join(folder, 'cert.pem.tmp');
  writeSecret(tmpKey, keyPem);
  writeFileSync(tmpCert, certPem, { mode: 0o644 });
  writeFileSync(join(folder, 'ca-cert.pem'), caPem, { mode: 0o644 });
  renameSync(tmpKey, join(folder, 'key.pem'));
  renameSync(tmpCert, join(folder, 'cert.pem'));
}

/**
 * Creates a federation folder: the CA, the coordinator's certificate (SANs: DNS localhost, IP
 * 127.0.0.1 and `hosts`, plus URI `edufed:coordinator`) and an empty revocation list.
 * @throws ConfigError when the folder already holds a CA, a host is invalid, or openssl fails.
 */
export async function initFederation(
  dir: string,
  options: { readonly hosts?: readonly string[]; readonly caDays?: number; readonly days?: number } = {},
): Promise<{ ca: CertificateSummary; coordinator: CertificateSummary }> {
  if (existsSync(caCertFile(dir)) || existsSync(caKeyFile(dir))) {
    throw new ConfigError('--dir', `${dir} already holds a federation CA; use another folder`);
  }
  const caDays = checkDays(options.caDays ?? DEFAULT_CA_DAYS, '--ca-days');
  const days = checkDays(options.days ?? DEFAULT_LEAF_DAYS, '--days');
  // Refuse a bad --host before anything is written.
  for (const host of options.hosts ?? []) sanEntry(host);
  mkdirSync(join(dir, 'private'), { recursive: true, mode: 0o700 });
  const caKeyPem = newKeyPem();
  writeSecret(caKeyFile(dir), caKeyPem);
  const work = mkdtempSync(join(tmpdir(), 'edufed-pki-'));
  try {
    const cfg = join(work, 'openssl.cnf');
    writeFileSync(cfg, opensslConfig('URI:unused', 'URI:unused'));
    await openssl([
      'req', '-new', '-x509', '-key', caKeyFile(dir), '-subj', '/O=EduFed/CN=EduFed federation CA', '-days', String(caDays),
      '-sha256', '-set_serial', `0x${newSerial()}`, '-config', cfg, '-extensions', 'ca_ext', '-out', caCertFile(dir),
    ]);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  writeRevocationList(revocationFile(dir), EMPTY_REVOCATION_LIST);
  await issueCoordinator(dir, { hosts: options.hosts ?? [], days });
  const all = listCertificates(dir);
  const ca = all.find((c) => c.role === 'ca');
  const coordinator = all.find((c) => c.role === 'coordinator');
  if (ca === undefined || coordinator === undefined) throw new ConfigError('--dir', `${dir}: initialisation left no CA or coordinator certificate`);
  return { ca, coordinator };
}

/**
 * Issues (or re-issues) the coordinator's certificate, e.g. to add host names.
 * @throws ConfigError when the folder has no CA, a host is invalid, or openssl fails.
 */
export async function issueCoordinator(
  dir: string,
  options: { readonly hosts?: readonly string[]; readonly days?: number } = {},
): Promise<CertificateSummary> {
  requireCa(dir);
  const days = checkDays(options.days ?? DEFAULT_LEAF_DAYS, '--days');
  const san = [`URI:${COORDINATOR_URI}`, ...['localhost', '127.0.0.1', ...(options.hosts ?? [])].map(sanEntry)].join(', ');
  const keyPem = newKeyPem();
  const certPem = await signLeaf(dir, keyPem, 'coordinator_ext', COORDINATOR_ID, san, days);
  installEndpoint(coordinatorFolder(dir), readFileSync(caCertFile(dir), 'utf8'), certPem, keyPem);
  return summarize('coordinator', COORDINATOR_ID, join(coordinatorFolder(dir), 'cert.pem'), loadRevocations(dir), new Date());
}

/**
 * Issues a participant's certificate (SAN URI `edufed:participant:<id>`, CN `<id>`, client auth only).
 * @throws ConfigError for an invalid id, a participant that still holds a valid certificate (revoke
 *   it first), a folder without a CA, or an openssl failure.
 */
export async function issueParticipant(dir: string, participantId: string, options: { readonly days?: number } = {}): Promise<CertificateSummary> {
  requireCa(dir);
  const folder = participantFolder(dir, participantId);
  const days = checkDays(options.days ?? DEFAULT_LEAF_DAYS, '--days');
  const certFile = join(folder, 'cert.pem');
  const revocations = loadRevocations(dir);
  if (existsSync(certFile)) {
    const current = summarize('participant', participantId, certFile, revocations, new Date());
    if (current.status === 'valid' || current.status === 'not-yet-valid') {
      throw new ConfigError(
        '--id',
        `participant "${participantId}" already holds a valid certificate (serial ${current.serial}, expires ${current.notAfter}); revoke it first`,
      );
    }
  }
  const keyPem = newKeyPem();
  const certPem = await signLeaf(dir, keyPem, 'participant_ext', participantId, `URI:${PARTICIPANT_URI_PREFIX}${participantId}`, days);
  installEndpoint(folder, readFileSync(caCertFile(dir), 'utf8'), certPem, keyPem);
  return summarize('participant', participantId, certFile, revocations, new Date());
}

/**
 * Revokes a participant's current certificate: adds its serial to `revoked.json`, which the
 * coordinator re-reads on its next connection check.
 * @throws ConfigError when the participant has no certificate or it is already revoked.
 */
export function revokeParticipant(dir: string, participantId: string, reason: RevocationReason = 'unspecified', now = new Date()): RevocationEntry {
  requireCa(dir);
  const certFile = join(participantFolder(dir, participantId), 'cert.pem');
  if (!existsSync(certFile)) throw new ConfigError('--id', `participant "${participantId}" has no certificate in ${dir}`);
  const revocations = loadRevocations(dir);
  const current = summarize('participant', participantId, certFile, revocations, now);
  if (current.revocation !== undefined) {
    throw new ConfigError('--id', `certificate serial ${current.serial} of "${participantId}" is already revoked (${current.revocation.revokedAt})`);
  }
  const entry: RevocationEntry = { serial: current.serial, participantId, reason, revokedAt: now.toISOString() };
  writeRevocationList(revocationFile(dir), revocationList([...revocations.entries, entry]));
  return entry;
}

/** Every certificate in a federation folder, CA first, with its status at `now`. */
export function listCertificates(dir: string, now = new Date()): CertificateSummary[] {
  requireCa(dir);
  const revocations = loadRevocations(dir);
  const out = [summarize('ca', 'ca', caCertFile(dir), revocations, now)];
  const coordinatorCert = join(coordinatorFolder(dir), 'cert.pem');
  if (existsSync(coordinatorCert)) out.push(summarize('coordinator', COORDINATOR_ID, coordinatorCert, revocations, now));
  const participantsDir = join(dir, 'participants');
  if (existsSync(participantsDir)) {
    for (const id of readdirSync(participantsDir).sort()) {
      const certFile = join(participantsDir, id, 'cert.pem');
      if (existsSync(certFile)) out.push(summarize('participant', id, certFile, revocations, now));
    }
  }
  return out;
}

function requireCa(dir: string): void {
  if (!existsSync(caCertFile(dir)) || !existsSync(caKeyFile(dir))) {
    throw new ConfigError('--dir', `${dir} holds no federation CA (run "edufed keys init --dir ${dir}" first)`);
  }
}

function loadRevocations(dir: string): ReturnType<typeof readRevocationList> {
  return existsSync(revocationFile(dir)) ? readRevocationList(revocationFile(dir)) : EMPTY_REVOCATION_LIST;
}

function summarize(
  role: CertificateSummary['role'],
  id: string,
  certFile: string,
  revocations: ReturnType<typeof readRevocationList>,
  now: Date,
): CertificateSummary {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(readFileSync(certFile));
  } catch (err) {
    throw new ConfigError(certFile, `not a readable certificate (${err instanceof Error ? err.message : String(err)})`, { cause: err });
  }
  const notBefore = new Date(cert.validFrom);
  const notAfter = new Date(cert.validTo);
  let serial = normalizeSerial(cert.serialNumber);
  if (role !== 'ca') {
    const identity = identityFromCertificate(cert);
    if (identity.id !== id) throw new ConfigError(certFile, `certificate names "${identity.id}", expected "${id}"`);
    serial = identity.serial;
  }
  const revocation = role === 'participant' ? revocations.find(serial) : undefined;
  const status: CertificateStatus =
    revocation !== undefined ? 'revoked' : now < notBefore ? 'not-yet-valid' : now > notAfter ? 'expired' : 'valid';
  return {
    role,
    id,
    serial,
    notBefore: notBefore.toISOString(),
    notAfter: notAfter.toISOString(),
    status,
    revocation,
    subjectAltName: cert.subjectAltName ?? '',
    certFile,
  };
}
