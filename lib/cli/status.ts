import type { Command } from 'commander';
import { withRuntime } from './_runtime.ts';

export function register(program: Command): void {
  program
    .command('status')
    .description('list model versions, live/canary pointers, recent runs and endpoint decisions per shelf')
    .option('--shelf <name>', 'one shelf (shortcuts, podcasts, playlists); default all')
    .option('--json', 'print one JSON object instead of tables')
    .action(async (opts: { shelf?: string; json?: boolean }) => {
      const { showStatus } = await import('../pipeline/status.ts');
      await withRuntime(async () => {
        process.stdout.write(await showStatus(opts));
      });
    });
}
