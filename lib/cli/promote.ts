import type { Command } from 'commander';
import { withRuntime } from './_runtime.ts';

export function register(program: Command): void {
  program
    .command('promote')
    .description("promote a shelf's canary to live by hand (recorded with your reason)")
    .requiredOption('--shelf <name>', 'shortcuts, podcasts or playlists')
    .option('--reason <text>', 'why, for the record', 'promoted by hand')
    .action(async (opts: { shelf: string; reason: string }) => {
      const { runEndpointAction } = await import('../pipeline/status.ts');
      await withRuntime(async () => process.stdout.write(await runEndpointAction('promote', opts.shelf, opts.reason)));
    });
}
