/**
 * Hosts many participants in one process for the `deployment-*` benchmarks, when one OS process per
 * participant would not fit the machine: `node dist/bench/deploy-worker.js CONFIG.json...`. Each
 * participant is the same service as `edufed participant --config` (own data, own TLS connection
 * and certificate, own ledger); only the process, and so the CPU core, is shared. Stops on SIGTERM.
 */
import { loadParticipantConfig } from '../src/participant/config.js';
import { startParticipant, type ParticipantService } from '../src/participant/participant-service.js';
import { stderrLogger } from '../src/transport/logger.js';

async function main(files: readonly string[]): Promise<void> {
  const services: ParticipantService[] = files.map((file) => {
    const config = loadParticipantConfig(file);
    return startParticipant(config, stderrLogger(`edufed participant ${config.id}`));
  });
  let closing: Promise<void> | undefined;
  const stop = (): void => {
    closing ??= Promise.all(services.map((s) => s.close())).then(() => undefined);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await Promise.all(services.map((s) => s.connection.done));
  await closing;
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`deploy-worker: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
