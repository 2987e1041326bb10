import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { InputError } from '../core/errors.ts';
import { ExecutionInputSchema } from '../wiring/pipeline.ts';
import { shelvesHome } from './_home.ts';
import { withRuntime } from './_runtime.ts';

/** The flags of `shelves pipeline` that become fields of the execution input. */
export interface PipelineInputFlags {
  readonly windowDays?: string;
  readonly evalSampleUsers?: string;
}

/**
 * `--window-days` and `--eval-sample-users` as execution-input fields, checked against the execution
 * input's own schema (the bounds the state machine accepts); throws InputError naming the flag, the
 * value received and what it expects.
 */
export function executionInputFlags(flags: PipelineInputFlags): { windowDays?: number; evalSampleUsers?: number } {
  const shape = ExecutionInputSchema.shape;
  const out: { windowDays?: number; evalSampleUsers?: number } = {};
  const fields = [
    ['windowDays', '--window-days', flags.windowDays, shape.windowDays, 'a whole number of days from 1 to 3660'],
    ['evalSampleUsers', '--eval-sample-users', flags.evalSampleUsers, shape.evalSampleUsers, 'a whole number of users, at least 1'],
  ] as const;
  for (const [key, flag, text, schema, expected] of fields) {
    if (text === undefined) continue;
    const value = /^\s*\d+\s*$/.test(text) ? Number(text) : Number.NaN;
    if (!schema.safeParse(value).success) throw new InputError(`${flag} must be ${expected}, got "${text}"`);
    out[key] = value;
  }
  return out;
}

export function register(program: Command): void {
  program
    .command('pipeline')
    .description('run the retraining pipeline (the state machine cdk deploy ships) on the local runtime')
    .option('--shelf <name>', 'all, or shortcuts, podcasts, playlists (comma-separated)', 'all')
    .option('--run-id <id>', 'idempotency key: a run id that already finished is not run again (default: from the clock)')
    .option('--data <dir>', 'upload this dataset folder to the raw bucket first (default: the simulated world, generated if absent)')
    .option('--cutoff <iso>', "training cut-off (default: end of the data minus the shelf's test window)")
    .option('--epochs <n>', 'override the epochs hyperparameter')
    .option('--window-days <n>', "days of daily partitions the run reads, ending where the test window ends (default: the shelf's setting)")
    .option('--eval-sample-users <n>', "users the evaluation scores, a deterministic sample (default: the shelf's setting)")
    .option('--sabotage', 'negative control: train on shuffled interactions (the gate must reject it)')
    .option('--report <file>', "write each shelf's outcome as JSON: status, step times, step peak memory")
    .option('--quiet', 'no progress lines')
    .addHelpText(
      'after',
      '\nExamples:\n  shelves pipeline --shelf podcasts\n  shelves pipeline --shelf all --run-id nightly-2026-11-28\n  shelves pipeline --shelf playlists --sabotage\n  shelves pipeline --shelf all --data /tmp/world --window-days 14 --eval-sample-users 20000 --report run.json',
    )
    .action(
      async (opts: {
        shelf: string;
        runId?: string;
        data?: string;
        cutoff?: string;
        epochs?: string;
        windowDays?: string;
        evalSampleUsers?: string;
        sabotage?: boolean;
        report?: string;
        quiet?: boolean;
      }) => {
        const { ensureData, newRunId, parseShelves, runPipelines } = await import('../local/main-job.ts');
        let shelves;
        try {
          shelves = parseShelves(opts.shelf);
        } catch (error) {
          throw new InputError((error as Error).message, { field: 'shelf' });
        }
        // Checked before the runtime starts: a typo costs nothing.
        const inputFlags = executionInputFlags(opts);
        const hyperparameters: Record<string, string> = {};
        if (opts.epochs) hyperparameters.epochs = opts.epochs;
        if (opts.sabotage) hyperparameters.shuffle = 'true';
        await withRuntime(async () => {
          await ensureData(shelvesHome(), opts.data);
          const results = await runPipelines(shelvesHome(), {
            shelves,
            runId: opts.runId ?? newRunId(),
            ...inputFlags,
            ...(Object.keys(hyperparameters).length ? { hyperparameters } : {}),
            ...(opts.cutoff ? { cutoff: opts.cutoff } : {}),
            ...(opts.quiet ? { quiet: true } : {}),
          });
          if (opts.report) await writeFile(opts.report, `${JSON.stringify(results, null, 2)}\n`);
          if (results.some((r) => r.status === 'FAILED')) process.exitCode = 1;
        });
      },
    );
}
