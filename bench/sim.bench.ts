/**
 * World simulator throughput and memory.
 *
 * Generates SIM_BENCH_USERS users (default 200,000) over SIM_BENCH_DAYS days (default 14: ~3M events,
 * ~60k catalog items, about a minute or less on 2 idle cores) into a temp dir deleted afterwards, with
 * SIM_BENCH_WORKERS worker threads (default: the simulator's own choice, see workersFor), and reports
 * events/s, wall and CPU time, bytes written and the peak RSS (sampled every 200 ms, and the process
 * high-water mark from resourceUsage, worker threads included). The machine's load average is reported
 * with the figures: on shared cores the times say little without it.
 * The 1M x 14 world of issue 11: SIM_BENCH_USERS=1000000 (~14M events, ~145k items).
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateWorld, workersFor } from '../lib/sim/world.ts';

function bytesUnder(dir: string): number {
  let total = 0;
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true }))
    if (e.isFile()) total += statSync(join(e.parentPath, e.name)).size;
  return total;
}

export default async function bench(): Promise<Record<string, number | string | boolean>> {
  const users = Number(process.env.SIM_BENCH_USERS ?? '200000');
  const days = Number(process.env.SIM_BENCH_DAYS ?? '14');
  const workers = process.env.SIM_BENCH_WORKERS === undefined ? workersFor(users) : Number(process.env.SIM_BENCH_WORKERS);
  const dir = mkdtempSync(join(tmpdir(), 'sim-bench-'));
  const loadBefore = loadavg()[0] ?? 0;
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 200);
  try {
    const cpu = process.cpuUsage();
    const started = performance.now();
    const manifest = await generateWorld(dir, {
      users,
      days,
      seed: 42,
      start: '2026-09-01',
      workers,
      onProgress: (day, total, events) => {
        if (day % 5 === 0 || day === total)
          process.stderr.write(`sim bench: day ${day}/${total}, ${events.toLocaleString('en-US')} events\n`);
      },
    });
    const seconds = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    return {
      users,
      days,
      workers,
      cores: availableParallelism(),
      loadAverageBefore: loadBefore,
      loadAverageAfter: loadavg()[0] ?? 0,
      events: manifest.counts.events,
      items: manifest.counts.items,
      seconds,
      eventsPerSecond: manifest.counts.events / seconds,
      cpuSeconds: (used.user + used.system) / 1e6,
      eventsPerCpuSecond: manifest.counts.events / ((used.user + used.system) / 1e6),
      bytesWritten: bytesUnder(dir),
      peakRssMB: peakRss / 1e6,
      maxRssMB: process.resourceUsage().maxRSS / 1e3,
    };
  } finally {
    clearInterval(sampler);
    rmSync(dir, { recursive: true, force: true });
  }
}
