import type { Command } from 'commander';
import { shelvesHome } from './_home.ts';
import { withRuntime } from './_runtime.ts';

export function register(program: Command): void {
  program
    .command('traffic')
    .description('drive the local home API with simulated users who play or skip what they are shown, then run the canary monitor')
    .option('--users <n>', 'distinct simulated users', '500')
    .option('--requests <n>', 'home requests to send', '1000')
    .option('--seed <n>', 'seed of who asks and how they respond', '1')
    .option('--no-monitor', 'do not run the canary monitor afterwards')
    .action(async (opts: { users: string; requests: string; seed: string; monitor: boolean }) => {
      const { join } = await import('node:path');
      const { loadTruth } = await import('../sim/respond.ts');
      const { runTraffic } = await import('../sim/traffic.ts');
      const { startLocalApi } = await import('../local/local-api.ts');
      await withRuntime(async () => {
        const truth = await loadTruth(join(shelvesHome(), 'world'));
        const api = await startLocalApi();
        try {
          const summary = await runTraffic({
            url: api.url,
            truth,
            users: Number(opts.users),
            requests: Number(opts.requests),
            seed: Number(opts.seed),
            onProgress: (d, t) => process.stderr.write(`traffic: ${d}/${t} requests\n`),
          });
          process.stdout.write(`traffic: ${summary.requests} requests, ${summary.impressions} impressions, ${summary.plays} plays\n`);
          for (const [arm, s] of Object.entries(summary.byVariant).sort())
            process.stdout.write(
              `  ${arm.padEnd(22)} play rate ${((s.plays / Math.max(1, s.impressions)) * 100).toFixed(2)}% of ${s.impressions}\n`,
            );
        } finally {
          await api.close();
        }
        if (opts.monitor) {
          const { runMonitorOnce } = await import('../serving/run-monitor.ts');
          process.stdout.write(await runMonitorOnce());
        }
      });
    });
  program
    .command('monitor')
    .description('run the canary monitor once: promote or roll back each canary from the logged feedback')
    .action(async () => {
      const { runMonitorOnce } = await import('../serving/run-monitor.ts');
      await withRuntime(async () => process.stdout.write(await runMonitorOnce()));
    });
}
