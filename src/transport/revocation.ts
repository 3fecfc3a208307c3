/**
 * The federation's revocation list: serial numbers of participant certificates that must no longer
 * be accepted, with the reason (RFC 5280 §5.3.1 CRLReason names). A JSON file written by
 * `edufed keys revoke` and read by the coordinator, which re-reads it whenever it changes.
 */
import { renameSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { ConfigError } from '../core/errors.js';
import { isRecord } from '../core/validate.js';

/** CRLReason values of RFC 5280 §5.3.1 (without removeFromCRL, which this list never needs). */
export const REVOCATION_REASONS = [
  'unspecified',
  'keyCompromise',
  'cACompromise',
  'affiliationChanged',
  'superseded',
  'cessationOfOperation',
  'certificateHold',
  'privilegeWithdrawn',
  'aACompromise',
] as const;

/** Why a certificate was revoked. */
export type RevocationReason = (typeof REVOCATION_REASONS)[number];

/** One revoked certificate. */
export interface RevocationEntry {
  /** Serial number: uppercase hex, no leading zeros (see {@link normalizeSerial}). */
  readonly serial: string;
  readonly participantId: string;
  readonly reason: RevocationReason;
  /** ISO 8601 time of revocation. */
  readonly revokedAt: string;
}

/** A loaded revocation list. */
export interface RevocationList {
  readonly entries: readonly RevocationEntry[];
  /** The entry revoking this serial (any hex spelling), if any. */
  find(serial: string): RevocationEntry | undefined;
}

const FORMAT = 'edufed-revocations';
const VERSION = 1;

/** Canonical spelling of a certificate serial number: uppercase hex without leading zeros or colons. */
export function normalizeSerial(serial: string): string {
  const hex = serial.replace(/:/g, '').toUpperCase().replace(/^0+/, '');
  return hex.length === 0 ? '0' : hex;
}

/** True for a known RFC 5280 reason name. */
export function isRevocationReason(v: unknown): v is RevocationReason {
  return typeof v === 'string' && (REVOCATION_REASONS as readonly string[]).includes(v);
}

/** Builds a list from entries. */
export function revocationList(entries: readonly RevocationEntry[]): RevocationList {
  const bySerial = new Map<string, RevocationEntry>();
  for (const e of entries) bySerial.set(normalizeSerial(e.serial), e);
  return { entries, find: (serial) => bySerial.get(normalizeSerial(serial)) };
}

/** An empty list. */
export const EMPTY_REVOCATION_LIST: RevocationList = revocationList([]);

/**
 * Validates the parsed JSON of a revocation file.
 * @throws ConfigError naming the file and the offending entry.
 */
export function parseRevocationList(json: unknown, file: string): RevocationList {
  if (!isRecord(json) || json['format'] !== FORMAT || json['version'] !== VERSION || !Array.isArray(json['revoked'])) {
    throw new ConfigError(file, `not an EduFed revocation list (expected {"format":"${FORMAT}","version":${VERSION},"revoked":[...]})`);
  }
  const entries = json['revoked'].map((raw: unknown, i: number): RevocationEntry => {
    const where = `revoked[${i}]`;
    if (!isRecord(raw)) throw new ConfigError(file, `${where}: expected an object`);
    const { serial, participantId, reason, revokedAt } = raw;
    if (typeof serial !== 'string' || !/^[0-9A-Fa-f:]+$/.test(serial)) throw new ConfigError(file, `${where}.serial: expected a hex string`);
    if (typeof participantId !== 'string') throw new ConfigError(file, `${where}.participantId: expected a string`);
    if (!isRevocationReason(reason)) {
      throw new ConfigError(file, `${where}.reason: expected one of ${REVOCATION_REASONS.join(', ')}`);
    }
    if (typeof revokedAt !== 'string' || Number.isNaN(Date.parse(revokedAt))) {
      throw new ConfigError(file, `${where}.revokedAt: expected an ISO 8601 time`);
    }
    return { serial: normalizeSerial(serial), participantId, reason, revokedAt };
  });
  return revocationList(entries);
}

/**
 * Reads and validates a revocation file.
 * @throws ConfigError when the file is missing, not JSON, or not a valid list.
 */
export function readRevocationList(file: string): RevocationList {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(file, `cannot read the revocation list (${err instanceof Error ? err.message : String(err)})`, { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(file, `revocation list is not valid JSON (${err instanceof Error ? err.message : String(err)})`, { cause: err });
  }
  return parseRevocationList(json, file);
}

/** Writes a revocation list atomically (temporary file, then rename). */
export function writeRevocationList(file: string, list: RevocationList): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify({ format: FORMAT, version: VERSION, revoked: list.entries }, null, 2)}\n`, { mode: 0o644 });
  renameSync(tmp, file);
}

/** A revocation file that is re-read whenever its modification time or size changes. */
export class RevocationFile {
  private list: RevocationList;
  private stamp: string;

  /** @throws ConfigError when the file cannot be read or is invalid. */
  constructor(readonly file: string) {
    this.stamp = this.currentStamp();
    this.list = readRevocationList(file);
  }

  private currentStamp(): string {
    try {
      const s = statSync(this.file);
      return `${s.mtimeMs}:${s.size}:${s.ino}`;
    } catch {
      return 'missing';
    }
  }

  /**
   * The list as on disk now.
   * @throws ConfigError when the file changed and is no longer readable or valid; callers refuse
   *   connections then (fail closed) rather than keep trusting an old list.
   */
  current(): RevocationList {
    const stamp = this.currentStamp();
    if (stamp !== this.stamp) {
      this.list = readRevocationList(this.file);
      this.stamp = stamp;
    }
    return this.list;
  }
}
