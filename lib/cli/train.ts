/**
 * `shelves train`: fits a model on your own CSV files (bring your own data) and writes the model
 * directory: manifest.json + model.bin (the artifact) and seen.json (training users and their items,
 * for `shelves recommend --exclude-seen`).
 *
 * The hybrid model keeps every item of --item-features, including items without interactions, so
 * `shelves recommend --candidates` can rank them without the features file.
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { ALGOS, type TrainCommandOptions } from '../byod/options.ts';

export function register(program: Command): void {
  program
    .command('train')
    .description('train a model on your own interactions CSV (user_id,item_id,timestamp[,weight])')
    .requiredOption('--interactions <file>', 'interactions CSV: user_id,item_id,timestamp[,weight]')
    .addOption(new Option('--algo <algo>', 'model to train').choices(ALGOS).makeOptionMandatory())
    .requiredOption('--out <dir>', 'model directory to write')
    .option('--item-features <file>', 'item features CSV: item_id,feature[,value] (hybrid models)')
    .option('--user-features <file>', 'user features CSV: user_id,feature[,value] (hybrid models)')
    .option('--seed <n>', 'random seed', integer(0), 1)
    .option(
      '--epochs <n>',
      'maximum epochs (hybrid; default 40, early stopping on a validation split, then a refit on all the data when that split is a material share of it)',
      integer(1),
    )
    .option('--dim <n>', 'embedding size (hybrid; default 64)', integer(1))
    .option('--threads <n>', 'worker threads (hybrid; 1 = deterministic)', integer(1), 1)
    .option(
      '--identity-dropout <p>',
      'hybrid: share of training steps that see items through their features only, so items without interactions rank on the same scale (0..0.9; default 0.2 when --item-features names items without interactions, else 0)',
      fraction(0.9),
    )
    .option(
      '--lambda <n|auto>',
      "ease: the L2 weight λ, or 'auto' (default): the best of 25, 100, 400 and 1600 on a validation split of your data, then fitted on all of it",
      lambdaValue,
    )
    .action(async (options: TrainCommandOptions) => {
      const { runTrain } = await import('../byod/train-command.ts');
      await runTrain(options);
    });
}

/** A commander argument parser for EASE's λ: a number > 0 or 'auto'. */
export function lambdaValue(value: string): number | 'auto' {
  if (value === 'auto') return 'auto';
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0)
    throw new InvalidArgumentError(`expected a number > 0 or "auto", got "${value}"`);
  return n;
}

/** A commander argument parser for numbers in [0, max]. */
export function fraction(max: number): (value: string) => number {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > max)
      throw new InvalidArgumentError(`expected a number from 0 to ${max}, got "${value}"`);
    return n;
  };
}

/** A commander argument parser for integers >= min. */
export function integer(min: number): (value: string) => number {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`expected an integer >= ${min}, got "${value}"`);
    return n;
  };
}
