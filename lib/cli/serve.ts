import type { Command } from 'commander';
import { withRuntime } from './_runtime.ts';

export function register(program: Command): void {
  program
    .command('serve')
    .description('serve the home API locally (the same Lambda handlers as behind API Gateway) with the internal ML console')
    .option('--port <n>', 'port on 127.0.0.1', '8787')
    .action(async (opts: { port: string }) => {
      await withRuntime(async () => {
        const { startLocalApi } = await import('../local/local-api.ts');
        const api = await startLocalApi(Number(opts.port));
        process.stdout.write(
          `home API on ${api.url}  (GET /v1/home?userId=..., POST /v1/home, POST /v1/events, /openapi.json)\nconsole: ${api.url}/console/   (Ctrl-C to stop)\n`,
        );
        await new Promise<void>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
        await api.close();
      });
    });
}
