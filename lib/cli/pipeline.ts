import type { Command } from 'commander';
import { InputError } from '../core/errors.ts';
import { shelvesHome } from './_home.ts';
import { withRuntime } from './_runtime.ts';

export function register(program: Command): void {
  program
    .command('pipeline')
    .description('run the retraining pipeline (the state machine cdk deploy ships) on the local runtime')
    .option('--shelf <name>', 'all, or shortcuts, podcasts, playlists (comma-separated)', 'all')
    .option('--run-id <id>', 'idempotency key: a run id that already finished is not run again (default: from the clock)')
    .option('--data <dir>', 'upload this dataset folder to the raw bucket first (default: the simulated world, generated if absent)')
    .option('--cutoff <iso>', "training cut-off (default: end of the data minus the shelf's test window)")
    .option('--epochs <n>', 'override the epochs hyperparameter')
    .option('--sabotage', 'negative control: train on shuffled interactions (the gate must reject it)')
    .option('--quiet', 'no progress lines')
    .addHelpText(
      'after',
      '\nExamples:\n  shelves pipeline --shelf podcasts\n  shelves pipeline --shelf all --run-id nightly-2026-11-28\n  shelves pipeline --shelf playlists --sabotage',
    )
    .action(
      async (opts: {
        shelf: string;
        runId?: string;
        data?: string;
        cutoff?: string;
        epochs?: string;
        sabotage?: boolean;
        quiet?: boolean;
      }) => {
        const { ensureData, newRunId, parseShelves, runPipelines } = await import('../local/main-job.ts');
        let shelves;
        try {
          shelves = parseShelves(opts.shelf);
        } catch (error) {
          throw new InputError((error as Error).message, { field: 'shelf' });
        }
        const hyperparameters: Record<string, string> = {};
        if (opts.epochs) hyperparameters.epochs = opts.epochs;
        if (opts.sabotage) hyperparameters.shuffle = 'true';
        await withRuntime(async () => {
          await ensureData(shelvesHome(), opts.data);
          const results = await runPipelines(shelvesHome(), {
            shelves,
            runId: opts.runId ?? newRunId(),
            ...(Object.keys(hyperparameters).length ? { hyperparameters } : {}),
            ...(opts.cutoff ? { cutoff: opts.cutoff } : {}),
            ...(opts.quiet ? { quiet: true } : {}),
          });
          if (results.some((r) => r.status === 'FAILED')) process.exitCode = 1;
        });
      },
    );
}
