/**
 * `edufed participant --config FILE`: a learning platform's side of a deployment.
 */
import { parseArgs } from 'node:util';
import { loadParticipantConfig } from '../participant/config.js';
import { startParticipant } from '../participant/participant-service.js';
import { stderrLogger } from '../transport/logger.js';
import { flagString } from './args.js';

const HELP = `edufed participant --config FILE

Loads this platform's data (it never leaves this process), connects to the coordinator over
mutual TLS, answers its requests, and records every message in the local ledger. Reconnects with
backoff after any disconnect. Stops on SIGINT/SIGTERM, or when the coordinator refuses it.
See examples/participant.json for the configuration file.
`;

/** Runs the participant command; returns the exit code. */
export async function participantCommand(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({ args: [...argv], options: { config: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true });
  if (values.help === true) {
    process.stdout.write(HELP);
    return 0;
  }
  const file = flagString(values, 'config');
  if (file === undefined) {
    process.stderr.write(HELP);
    return 2;
  }
  const config = loadParticipantConfig(file);
  const logger = stderrLogger(`edufed participant ${config.id}`);
  const service = startParticipant(config, logger, (s) => {
    if (s.state === 'connected') logger.info('connected to the coordinator', { coordinator: config.coordinator });
    if (s.state === 'refused') logger.error('refused by the coordinator', { reason: s.reason });
  });
  logger.info('data loaded', { rows: service.rows, ledger: config.ledger });
  const stop = (): void => void service.close();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const final = await service.connection.done;
  await service.close();
  return final.state === 'refused' ? 3 : 0;
}
