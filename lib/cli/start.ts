import type { Command } from 'commander';
import { shelvesHome } from './_home.ts';
import { withRuntime } from './_runtime.ts';

/**
 * Shelves `npm start` runs at once. Two: the Lambda steps share this process's one thread, so a
 * second shelf's steps fill the time the first spends in its training job (another process) and in
 * the storage engines' thread; a third adds memory more than speed on two cores.
 */
const START_CONCURRENCY = 2;

export function register(program: Command): void {
  program
    .command('start')
    .description('the main job (npm start): generate the default world if absent, run the pipeline for all shelves, deploy what passes')
    .option('--data <dir>', 'use this dataset folder instead of the simulated world')
    .option('--serve', 'afterwards, serve the home API and the ML console until Ctrl-C (default when run in a terminal)')
    .option('--no-serve', 'exit after the pipeline runs')
    .option('--port <n>', 'port of the local API', '8787')
    .option(
      '--sequential',
      'run the shelves one after another (default: two at once, the next starting when the previous has built its features)',
    )
    .addHelpText('after', `\nLocal state lives in ${'$'}SHELVES_HOME or .shelves/; delete it to start over.`)
    .action(async (opts: { data?: string; serve?: boolean; port: string; sequential?: boolean }) => {
      const { ensureData, newRunId, runPipelines } = await import('../local/main-job.ts');
      const { SHELVES } = await import('../core/contract.ts');
      const started = performance.now();
      await withRuntime(async (engines) => {
        process.stderr.write(
          `local runtime: DynamoDB (dynalite) ${engines?.dynamoEndpoint ?? 'AWS'}, S3 (s3rver) ${engines?.s3Endpoint ?? 'AWS'}, state under ${shelvesHome()}\n`,
        );
        const t0 = performance.now();
        await ensureData(shelvesHome(), opts.data);
        process.stderr.write(`data ready in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
        const concurrency = opts.sequential ? 1 : START_CONCURRENCY;
        if (concurrency > 1)
          process.stderr.write(
            `pipeline: up to ${concurrency} shelves at once (each after the previous has built its features); their steps' times and memory include the other's work (--sequential for one at a time)\n`,
          );
        const results = await runPipelines(shelvesHome(), { shelves: SHELVES, runId: newRunId(), concurrency });
        process.stdout.write(
          `\nsummary: ${results.map((r) => `${r.shelf} ${r.outcome}`).join(', ')} in ${((performance.now() - started) / 1000).toFixed(1)} s; see \`shelves status\`\n`,
        );
        if (results.some((r) => r.status === 'FAILED')) process.exitCode = 1;
        if (opts.serve ?? process.stdout.isTTY) {
          const { startLocalApi } = await import('../local/local-api.ts');
          const api = await startLocalApi(Number(opts.port));
          process.stdout.write(
            `\nhome API on ${api.url}  (GET /v1/home?userId=u-0000001, POST /v1/home, POST /v1/events, /openapi.json)\nML console: ${api.url}/console/   Ctrl-C to stop\n`,
          );
          await new Promise<void>((resolve) => {
            process.once('SIGINT', resolve);
            process.once('SIGTERM', resolve);
          });
          await api.close();
        }
      });
    });
}
