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
  const all = readdirSync(CLI_DIR)
    .filter((f) => f.endsWith('.ts') && !f.startsWith('_'))
    .sort();
  // A named command loads only its own module (each file is named after its command): about 0.5 s of
  // TypeScript loading saved on every run; help and unknown commands load them all.
  const named = `${argv[2] ?? ''}.ts`;
  const modules = all.includes(named) ? [named] : all;
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
