import type { Command } from 'commander';
import { InputError } from '../core/errors.ts';

export function register(program: Command): void {
  program
    .command('world')
    .description('generate a simulated streaming service history (events, catalog, users, manifest, ground truth)')
    .option('--users <n>', 'number of users (80% exist at the start, the rest sign up day by day)', '2000')
    .option('--days <n>', 'days of history', '42')
    .option('--seed <n>', 'random seed: the same seed gives the same bytes', '42')
    .option('--start <date>', 'first day, YYYY-MM-DD (UTC)', '2026-09-01')
    .requiredOption('--out <dir>', 'output folder, or s3://bucket/prefix')
    .addHelpText('after', '\nExamples:\n  shelves world --users 2000 --days 30 --seed 7 --out /tmp/world\n  shelves world --out s3://my-raw-bucket/  (written locally first, then uploaded)')
    .action(async (opts: { users: string; days: string; seed: string; start: string; out: string }) => {
      const users = Number(opts.users);
      const days = Number(opts.days);
      const seed = Number(opts.seed);
      if (!Number.isInteger(users) || users < 1) throw new InputError(`--users must be a positive integer, got "${opts.users}"`);
      if (!Number.isInteger(days) || days < 1) throw new InputError(`--days must be a positive integer, got "${opts.days}"`);
      if (!Number.isInteger(seed)) throw new InputError(`--seed must be an integer, got "${opts.seed}"`);
      if (!/^\d{4}-\d{2}-\d{2}$/.test(opts.start)) throw new InputError(`--start must be YYYY-MM-DD, got "${opts.start}"`);
      const { writeWorld } = await import('../sim/write-world.ts');
      await writeWorld(opts.out, { users, days, seed, start: opts.start });
    });
}
