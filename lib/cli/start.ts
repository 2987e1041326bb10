import type { Command } from 'commander';
import { shelvesHome } from './_home.ts';
import { withRuntime } from './_runtime.ts';

export function register(program: Command): void {
  program
    .command('start')
    .description('the main job (npm start): generate the default world if absent, run the pipeline for all shelves, deploy what passes')
    .option('--data <dir>', 'use this dataset folder instead of the simulated world')
    .addHelpText('after', `\nLocal state lives in ${'$'}SHELVES_HOME or .shelves/; delete it to start over.`)
    .action(async (opts: { data?: string }) => {
      const { ensureData, newRunId, runPipelines } = await import('../local/main-job.ts');
      const { SHELVES } = await import('../core/contract.ts');
      const started = performance.now();
      await withRuntime(async (engines) => {
        process.stderr.write(`local runtime: DynamoDB (dynalite) ${engines?.dynamoEndpoint ?? 'AWS'}, S3 (s3rver) ${engines?.s3Endpoint ?? 'AWS'}, state under ${shelvesHome()}\n`);
        const t0 = performance.now();
        await ensureData(shelvesHome(), opts.data);
        process.stderr.write(`data ready in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
        const results = await runPipelines(shelvesHome(), { shelves: SHELVES, runId: newRunId() });
        process.stdout.write(`\nsummary: ${results.map((r) => `${r.shelf} ${r.outcome}`).join(', ')} in ${((performance.now() - started) / 1000).toFixed(1)} s; see \`shelves status\`\n`);
        if (results.some((r) => r.status === 'FAILED')) process.exitCode = 1;
      });
    });
}
