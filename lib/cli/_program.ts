/**
 * The `shelves` program and its error output, shared by the full CLI (bin/shelves.ts) and the bundled
 * bring-your-own-data commands (lib/cli-bundle/byod-cli.ts), so both print the same help and errors.
 */
import { Command } from 'commander';
import { isUserFacing } from '../core/errors.ts';

/** The root command, with no subcommand registered yet. */
export function shelvesProgram(): Command {
  return new Command('shelves')
    .description('home-shelves: train, evaluate, deploy and serve the home-screen recommendation shelves')
    .showHelpAfterError()
    .configureHelp({ sortSubcommands: true });
}

/** Runs `main`; an error a user can act on prints its message alone, any other its stack. Exit code 1 on error. */
export function runCli(main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    if (isUserFacing(error)) {
      process.stderr.write(`error: ${error.message}\n`);
    } else {
      process.stderr.write(`error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    }
    process.exitCode = 1;
  });
}
