/**
 * `shelves recommend`: top-k items per user from a model directory written by `shelves train`,
 * as JSON Lines `{"userId": "...", "items": ["...", ...]}` (best first).
 *
 * Items that appear only in the training --item-features file are already in a hybrid model;
 * --item-features here adds items published after training (scored from their features).
 * --user-features ranks users absent from training by their features (hybrid with user features,
 * ease trained with --user-features): the Playlists shelf's new listeners, through your own files.
 */
import type { Command } from 'commander';
import { integer } from './train.ts';
import type { RecommendCommandOptions } from '../byod/options.ts';

export function register(program: Command): void {
  program
    .command('recommend')
    .description('write top-k recommendations per user from a model trained by `shelves train`')
    .requiredOption('--model <dir>', 'model directory written by `shelves train`')
    .requiredOption('--k <n>', 'items per user', integer(1))
    .requiredOption('--out <file>', 'JSON Lines output file')
    .option('--users <file>', 'user ids, one per line (default: every user with training interactions)')
    .option('--exclude-seen', 'leave out items the user interacted with in training')
    .option('--candidates <file>', 'rank only these item ids, one per line')
    .option('--item-features <file>', 'item features CSV of items added after training (hybrid models)')
    .option(
      '--user-features <file>',
      'user features CSV (user_id,feature[,value]) of the users to rank, by default all of them; users absent from training are ranked by their features (hybrid, ease)',
    )
    .action(async (options: RecommendCommandOptions) => {
      const { runRecommend } = await import('../byod/recommend-command.ts');
      await runRecommend(options);
    });
}
