import type { Command } from 'commander';
import { InputError } from '../core/errors.ts';
import { DEFAULT_WORLD } from '../sim/vocabulary.ts';

export function register(program: Command): void {
  program
    .command('world')
    .description('generate a simulated streaming service history (events, catalog, users, manifest, ground truth)')
    .option('--users <n>', 'number of users (80% exist at the start, the rest sign up day by day)', String(DEFAULT_WORLD.users))
    .option('--days <n>', 'days of history', String(DEFAULT_WORLD.days))
    .option('--seed <n>', 'random seed: the same seed gives the same bytes', String(DEFAULT_WORLD.seed))
    .option('--start <date>', 'first day, YYYY-MM-DD (UTC)', DEFAULT_WORLD.start)
    .option(
      '--workers <n>',
      'worker threads simulating users (the same bytes for any number; default: one per core for 50,000+ users when cores are idle, else 0)',
    )
    .requiredOption('--out <dir>', 'output folder, or s3://bucket/prefix')
    .addHelpText(
      'after',
      '\nExamples:\n  shelves world --users 2000 --days 30 --seed 7 --out /tmp/world\n  shelves world --out s3://my-raw-bucket/  (written locally first, then uploaded)',
    )
    .action(async (opts: { users: string; days: string; seed: string; start: string; out: string; workers?: string }) => {
      const users = Number(opts.users);
      const days = Number(opts.days);
      const seed = Number(opts.seed);
      if (!Number.isInteger(users) || users < 1) throw new InputError(`--users must be a positive integer, got "${opts.users}"`);
      if (!Number.isInteger(days) || days < 1) throw new InputError(`--days must be a positive integer, got "${opts.days}"`);
      if (!Number.isInteger(seed)) throw new InputError(`--seed must be an integer, got "${opts.seed}"`);
      const workers = opts.workers === undefined ? undefined : Number(opts.workers);
      if (workers !== undefined && (!Number.isInteger(workers) || workers < 0))
        throw new InputError(`--workers must be a whole number >= 0, got "${opts.workers}"`);
      if (!/^\d{4}-\d{2}-\d{2}$/.test(opts.start) || Number.isNaN(Date.parse(`${opts.start}T00:00:00Z`)))
        throw new InputError(`--start must be YYYY-MM-DD, got "${opts.start}"`);
      const { writeWorld } = await import('../sim/write-world.ts');
      await writeWorld(opts.out, { users, days, seed, start: opts.start, ...(workers === undefined ? {} : { workers }) });
    });
}
