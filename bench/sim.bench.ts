/**
 * World simulator throughput and memory.
 *
 * Generates SIM_BENCH_USERS users (default 1,000,000) over SIM_BENCH_DAYS days (default 20: ~1.3 events
 * per user per day, so ~25M events) into a temp dir deleted afterwards, and reports
 * events/s, wall time, bytes written and the peak RSS (sampled every 200 ms, and the process high-water
 * mark from resourceUsage). Set SIM_BENCH_USERS=100000 SIM_BENCH_DAYS=10 for a quick check.
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateWorld } from '../lib/sim/world.ts';

function bytesUnder(dir: string): number {
  let total = 0;
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true }))
    if (e.isFile()) total += statSync(join(e.parentPath, e.name)).size;
  return total;
}

export default async function bench(): Promise<Record<string, number | string | boolean>> {
  const users = Number(process.env.SIM_BENCH_USERS ?? '1000000');
  const days = Number(process.env.SIM_BENCH_DAYS ?? '20');
  const dir = mkdtempSync(join(tmpdir(), 'sim-bench-'));
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 200);
  try {
    const started = performance.now();
    const manifest = await generateWorld(dir, {
      users,
      days,
      seed: 42,
      start: '2026-09-01',
      onProgress: (day, total, events) => {
        if (day % 5 === 0 || day === total)
          process.stderr.write(`sim bench: day ${day}/${total}, ${events.toLocaleString('en-US')} events\n`);
      },
    });
    const seconds = (performance.now() - started) / 1000;
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    return {
      users,
      days,
      events: manifest.counts.events,
      items: manifest.counts.items,
      seconds,
      eventsPerSecond: manifest.counts.events / seconds,
      bytesWritten: bytesUnder(dir),
      peakRssMB: peakRss / 1e6,
      maxRssMB: process.resourceUsage().maxRSS / 1e3,
    };
  } finally {
    clearInterval(sampler);
    rmSync(dir, { recursive: true, force: true });
  }
}
