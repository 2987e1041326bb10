/**
 * The `shelves` CLI. Each command lives in lib/cli/<command>.ts and exports
 * `register(program)`; modules import their heavy dependencies inside the action, so `--help` is fast.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { runCli, shelvesProgram } from '../lib/cli/_program.ts';

const CLI_DIR = fileURLToPath(new URL('../lib/cli/', import.meta.url));

async function main(argv: string[]): Promise<void> {
  const program = shelvesProgram();
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

runCli(() => main(process.argv));
