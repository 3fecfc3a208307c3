/**
 * `edufed keys ...`: the federation's certificates. `init` creates the CA and the coordinator's
 * certificate, `issue` one participant's, `revoke` adds a participant's certificate to the
 * revocation list the coordinator reads, `list` shows every certificate and its state.
 */
import { parseArgs } from 'node:util';
import { ConfigError } from '../core/errors.js';
import {
  coordinatorFolder,
  initFederation,
  issueParticipant,
  listCertificates,
  participantFolder,
  revocationFile,
  revokeParticipant,
  DEFAULT_CA_DAYS,
  DEFAULT_LEAF_DAYS,
} from '../transport/pki.js';
import { isRevocationReason, REVOCATION_REASONS } from '../transport/revocation.js';
import { flagNumber, flagString, type FlagValues } from './args.js';
import { formatTable } from './format-table.js';

const HELP = `edufed keys <init|issue|revoke|list> --dir DIR [flags]

  init   --dir DIR [--host NAME]... [--days N] [--ca-days N]
         Create a federation CA in DIR and the coordinator's certificate, valid for localhost,
         127.0.0.1 and each --host (DNS name or IP address participants will dial).
  issue  --dir DIR --id ID [--days N]
         Issue participant ID's certificate into DIR/participants/ID/ (give that folder to the platform).
  revoke --dir DIR --id ID [--reason REASON]
         Revoke ID's current certificate; the coordinator refuses it from its next check on.
         REASON: ${REVOCATION_REASONS.join(', ')}.
  list   --dir DIR [--json]
         Every certificate with its serial number, expiry and state.

Defaults: certificates last ${DEFAULT_LEAF_DAYS} days, the CA ${DEFAULT_CA_DAYS}. Keys are ECDSA P-256; signing uses the openssl command.
`;

function requireDir(values: FlagValues): string {
  const dir = flagString(values, 'dir');
  if (dir === undefined) throw new ConfigError('--dir', 'give the federation folder');
  return dir;
}

function requireId(values: FlagValues): string {
  const id = flagString(values, 'id');
  if (id === undefined) throw new ConfigError('--id', 'give the participant id');
  return id;
}

/**
 * Runs `edufed keys ...` (argv without the word `keys`); returns the exit code.
 * @throws ConfigError for a bad flag, a folder without (or already with) a CA, an invalid id, a
 *   participant that still holds a valid certificate, or an openssl failure.
 */
export async function keysCommand(argv: readonly string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    process.stdout.write(HELP);
    return sub === undefined ? 2 : 0;
  }
  const { values } = parseArgs({
    args: rest,
    options: {
      dir: { type: 'string' },
      id: { type: 'string' },
      host: { type: 'string', multiple: true },
      days: { type: 'string' },
      'ca-days': { type: 'string' },
      reason: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help === true) {
    process.stdout.write(HELP);
    return 0;
  }
  switch (sub) {
    case 'init': {
      const dir = requireDir(values);
      const { coordinator } = await initFederation(dir, {
        hosts: values.host ?? [],
        days: flagNumber(values, 'days', DEFAULT_LEAF_DAYS, { integer: true, min: 0 }),
        caDays: flagNumber(values, 'ca-days', DEFAULT_CA_DAYS, { integer: true, min: 1 }),
      });
      process.stdout.write(
        `Created the federation CA in ${dir} (keep ${dir}/private/ on the operator's machine only).\n` +
          `Coordinator certificate: ${coordinatorFolder(dir)}/ (valid until ${coordinator.notAfter}; ${coordinator.subjectAltName}).\n` +
          `Revocation list: ${revocationFile(dir)}.\nNext: edufed keys issue --dir ${dir} --id PARTICIPANT\n`,
      );
      return 0;
    }
    case 'issue': {
      const dir = requireDir(values);
      const id = requireId(values);
      const issued = await issueParticipant(dir, id, { days: flagNumber(values, 'days', DEFAULT_LEAF_DAYS, { integer: true, min: 0 }) });
      process.stdout.write(
        `Issued the certificate of "${id}" (serial ${issued.serial}, valid until ${issued.notAfter}).\n` +
          `Give ${participantFolder(dir, id)}/ (ca-cert.pem, cert.pem, key.pem) to that platform only.\n`,
      );
      return 0;
    }
    case 'revoke': {
      const dir = requireDir(values);
      const id = requireId(values);
      const reason = flagString(values, 'reason') ?? 'unspecified';
      if (!isRevocationReason(reason)) throw new ConfigError('--reason', `must be one of ${REVOCATION_REASONS.join(', ')}; got "${reason}"`);
      const entry = revokeParticipant(dir, id, reason);
      process.stdout.write(
        `Revoked serial ${entry.serial} of "${id}" (${entry.reason}). A coordinator reading ${revocationFile(dir)} refuses it from its next check on;\n` +
          `copy the file to the coordinator host if it runs elsewhere.\n`,
      );
      return 0;
    }
    case 'list': {
      const certs = listCertificates(requireDir(values));
      if (values.json === true) {
        process.stdout.write(`${JSON.stringify(certs, null, 2)}\n`);
        return 0;
      }
      const rows = certs.map((c) => [
        c.role,
        c.id,
        c.serial,
        c.notAfter,
        c.revocation !== undefined ? `revoked (${c.revocation.reason}, ${c.revocation.revokedAt})` : c.status,
      ]);
      process.stdout.write(`${formatTable(['role', 'id', 'serial', 'expires', 'state'], rows)}\n`);
      return 0;
    }
    default:
      throw new ConfigError('keys', `unknown subcommand "${sub}" (available: init, issue, revoke, list)`);
  }
}
