/**
 * `shelves console`: the internal ML console alone on loopback. Locally it reads the embedded runtime
 * (.shelves/); with `SHELVES_TARGET=aws` it reads the deployed registry, endpoints, buckets and reports
 * with the operator's own AWS credentials (table and bucket names from the stack's outputs, in
 * REGISTRY_TABLE, ENDPOINTS_TABLE, RAW_BUCKET, FEATURES_BUCKET, ARTIFACTS_BUCKET). Read-only.
 */
import type { Command } from 'commander';
import { withRuntime } from './_runtime.ts';

export function register(program: Command): void {
  program
    .command('console')
    .description('open the internal ML console (inspector, repetition, versions, runs, new content) on 127.0.0.1; read-only')
    .option('--port <n>', 'port on 127.0.0.1', '8788')
    .action(async (opts: { port: string }) => {
      await withRuntime(async (engines) => {
        if (engines !== null && process.env.SHELVES_NOW === undefined) {
          // Locally the clock is the world's, as `shelves serve` has it.
          const { worldEnd } = await import('../local/local-api.ts');
          const end = await worldEnd();
          if (end !== undefined) process.env.SHELVES_NOW = end;
        }
        const [{ startHttpServer }, { consoleMount }] = await Promise.all([
          import('../local/http-server.ts'),
          import('../console/mount.ts'),
        ]);
        const server = await startHttpServer({ port: Number(opts.port), mounts: [consoleMount()] });
        process.stdout.write(`console: ${server.url}/console/   (${engines === null ? 'AWS' : 'local runtime'}; Ctrl-C to stop)\n`);
        await new Promise<void>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
        await server.close();
      });
    });
}
