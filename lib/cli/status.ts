import type { Command } from 'commander';
import { withRuntime } from './_runtime.ts';

export function register(program: Command): void {
  program
    .command('status')
    .description(
      'one line per shelf (live / canary / previous), per model version (gate in one line) and per run; --verbose for tables with every decision',
    )
    .option('--shelf <name>', 'one shelf (shortcuts, podcasts, playlists); default all')
    .option('--verbose', 'tables: versions, runs and every endpoint decision with its full reason')
    .option('--json', 'print one JSON object (everything --verbose shows)')
    .action(async (opts: { shelf?: string; json?: boolean; verbose?: boolean }) => {
      await withRuntime(async () => {
        const { showStatus } = await import('../pipeline/status.ts');
        if (opts.json || opts.verbose) {
          process.stdout.write(await showStatus({ ...(opts.shelf ? { shelf: opts.shelf } : {}), ...(opts.json ? { json: true } : {}) }));
          return;
        }
        const { compactStatus } = await import('../console/status-lines.ts');
        const all = JSON.parse(await showStatus({ ...(opts.shelf ? { shelf: opts.shelf } : {}), json: true })) as Parameters<
          typeof compactStatus
        >[0];
        process.stdout.write(compactStatus(all, process.stdout.columns ?? 160));
      });
    });
}
