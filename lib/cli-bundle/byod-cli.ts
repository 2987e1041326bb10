/**
 * Entry of the bundled bring-your-own-data commands (see cli-bundle.mjs): the `shelves` program of
 * bin/shelves.ts with only `train` and `recommend` registered, and the same error output. Built into
 * .cli-bundle/ by esbuild; bin/shelves.mjs runs it for those two commands.
 */
import { Command } from 'commander';
import { register as registerRecommend } from '../cli/recommend.ts';
import { register as registerTrain } from '../cli/train.ts';
import { isUserFacing } from '../core/errors.ts';

async function main(argv: string[]): Promise<void> {
  const program = new Command('shelves')
    .description('home-shelves: train, evaluate, deploy and serve the home-screen recommendation shelves')
    .showHelpAfterError()
    .configureHelp({ sortSubcommands: true });
  registerTrain(program);
  registerRecommend(program);
  await program.parseAsync(argv);
}

main(process.argv).catch((error: unknown) => {
  if (isUserFacing(error)) {
    process.stderr.write(`error: ${error.message}\n`);
  } else {
    process.stderr.write(`error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  }
  process.exitCode = 1;
});
