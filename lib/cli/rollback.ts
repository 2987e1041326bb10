import type { Command } from 'commander';
import { withRuntime } from './_runtime.ts';

export function register(program: Command): void {
  program
    .command('rollback')
    .description('roll back a shelf: drop its canary, or restore the previous live version when there is no canary')
    .requiredOption('--shelf <name>', 'shortcuts, podcasts or playlists')
    .option('--reason <text>', 'why, for the record', 'rolled back by hand')
    .action(async (opts: { shelf: string; reason: string }) => {
      const { runEndpointAction } = await import('../pipeline/status.ts');
      await withRuntime(async () => process.stdout.write(await runEndpointAction('rollback', opts.shelf, opts.reason)));
    });
}
