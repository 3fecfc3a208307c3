#!/usr/bin/env node
/**
 * The `edufed` command.
 */
import { EduFedError } from '../core/errors.js';
import { coordinatorCommand } from './coordinator-command.js';
import { demoCommand } from './demo.js';
import { keysCommand } from './keys.js';
import { participantCommand } from './participant-command.js';
import { psiCommand } from './psi-command.js';
import { schemaCommand } from './schema-command.js';
import { simulateCommand } from './simulate.js';
import { statusCommand } from './status.js';
import { verticalDemoCommand, verticalSimulateCommand } from './vertical-command.js';

const HELP = `edufed <command> [flags]

Commands:
  demo          start a coordinator and 13 OULAD regional participants as processes over mutual TLS,
                run the early-warning job live, print the δ report
                (--vertical: three OULAD platforms aligned by PSI, vertical training over TLS)
  simulate      run a federated job with all participants in this process, with the δ report
                (--vertical: the OULAD three-platform vertical job, vertical vs centralized vs label holder)
  coordinator   run the central server (--config FILE)
  participant   run a learning platform's participant (--config FILE)
  keys          create the federation CA and certificates, revoke, list
  status        read a coordinator's HTTP API: participants, jobs, rounds
  schema infer  write an editable schema for a CSV file
  psi           private set intersection of two CSV files on this machine (both roles in process)
  --help        this text; every command takes --help
`;

type Command = (argv: readonly string[]) => Promise<number> | number;

const COMMANDS: Readonly<Record<string, Command>> = {
  demo: demoCommand,
  simulate: simulateCommand,
  coordinator: coordinatorCommand,
  participant: participantCommand,
  keys: keysCommand,
  status: statusCommand,
  schema: schemaCommand,
  psi: psiCommand,
};

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(HELP);
    return name === undefined ? 2 : 0;
  }
  if ((name === 'simulate' || name === 'demo') && rest.includes('--vertical')) {
    return name === 'simulate' ? verticalSimulateCommand(rest) : verticalDemoCommand(rest);
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    process.stderr.write(`edufed: unknown command "${name}"\n\n${HELP}`);
    return 2;
  }
  return command(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof EduFedError) {
      process.stderr.write(`edufed: ${err.message}\n`);
    } else if (err instanceof Error && 'code' in err && typeof err.code === 'string' && err.code.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`edufed: ${err.message}\n`);
    } else {
      process.stderr.write(`edufed: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    }
    process.exitCode = 1;
  },
);
