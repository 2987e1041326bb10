/**
 * The `shelves` CLI. Each command lives in lib/cli/<command>.ts and exports
 * `register(program)`; modules import their heavy dependencies inside the action, so `--help` is fast.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { isUserFacing } from '../lib/core/errors.ts';

const CLI_DIR = fileURLToPath(new URL('../lib/cli/', import.meta.url));

async function main(argv: string[]): Promise<void> {
  const program = new Command('shelves')
    .description('home-shelves: train, evaluate, deploy and serve the home-screen recommendation shelves')
    .showHelpAfterError()
    .configureHelp({ sortSubcommands: true });
  const modules = readdirSync(CLI_DIR)
    .filter((f) => f.endsWith('.ts') && !f.startsWith('_'))
    .sort();
  for (const file of modules) {
    const mod = (await import(new URL(file, `file://${CLI_DIR}`).href)) as { register?: (p: Command) => void };
    mod.register?.(program);
  }
  await program.parseAsync(argv);
}

main(process.argv).catch((error: unknown) => {
  if (isUserFacing(error)) {
    process.stderr.write(`error: ${error.message}\n`);
  } else {
    process.stderr.write(`error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  }
  process.exitCode = 1;
});
