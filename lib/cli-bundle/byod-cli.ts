/**
 * Entry of the bundled bring-your-own-data commands (see cli-bundle.mjs): the `shelves` program of
 * bin/shelves.ts with only `train` and `recommend` registered, and the same error output. Built into
 * .cli-bundle/ by esbuild; bin/shelves.mjs runs it for those two commands.
 */
import { runCli, shelvesProgram } from '../cli/_program.ts';
import { register as registerRecommend } from '../cli/recommend.ts';
import { register as registerTrain } from '../cli/train.ts';

runCli(async () => {
  const program = shelvesProgram();
  registerTrain(program);
  registerRecommend(program);
  await program.parseAsync(process.argv);
});
