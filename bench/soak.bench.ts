/**
 * Soak of the local API (`npm run bench -- soak`): the real handlers behind the local HTTP server on
 * dynalite and s3rver, with a small simulated world, under a steady load for BENCH_SOAK_SECONDS
 * (default 300) at BENCH_SOAK_RATE requests/s (default 200). Each load connection cycles
 * GET /v1/home, POST /v1/home (request context) and POST /v1/events (impressions and plays of the
 * items it was just served, with the response's requestId), so feedback matches the request log.
 * The load generator (autocannon) runs in its own process; this process samples its own RSS and heap
 * every second, and the live heap after a full collection every 10 s. Figures: errors (must be 0),
 * p50/p99 latency, and how flat memory stays: the least-squares slope of RSS, heap and live heap over
 * the last 80% of the run in MB/min (a short run still includes the warm-up's growth).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { startLocalEngines } from '../lib/local/engines.ts';
import { startLocalApi } from '../lib/local/local-api.ts';
import { uploadDataset } from '../lib/local/seed-data.ts';
import { generateWorld } from '../lib/sim/world.ts';
import { RAW_BUCKET } from '../lib/wiring/resources.ts';

const SECONDS = Number(process.env.BENCH_SOAK_SECONDS ?? 300);
const RATE = Number(process.env.BENCH_SOAK_RATE ?? 200);
const USERS = 300;
const CONNECTIONS = 12;

/** Least-squares slope of y over x. */
function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  if (n < 2) return 0;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += ((xs[i] as number) - mx) * ((ys[i] as number) - my);
    den += ((xs[i] as number) - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

/**
 * The load generator, run in a child process (CommonJS, so autocannon's functions live there): three
 * requests per cycle, the third posting feedback for what the first one served.
 */
const LOAD_SCRIPT = `
const autocannon = require(process.env.AUTOCANNON);
const users = Number(process.env.SOAK_USERS);
const pick = () => 'u-' + String(1 + Math.floor(Math.random() * users)).padStart(7, '0');
const countries = ['SE', 'US', 'DE', 'GB', 'BR'];
const devices = ['mobile', 'desktop', 'tv', 'speaker', 'web', 'car'];
autocannon({
  url: process.env.SOAK_URL,
  connections: Number(process.env.SOAK_CONNECTIONS),
  overallRate: Number(process.env.SOAK_RATE),
  duration: Number(process.env.SOAK_SECONDS),
  timeout: 10,
  requests: [
    {
      setupRequest: (req, ctx) => { ctx.userId = pick(); return { ...req, method: 'GET', path: '/v1/home?userId=' + ctx.userId }; },
      onResponse: (status, body, ctx) => { try { ctx.home = JSON.parse(body); } catch { ctx.home = undefined; } },
    },
    {
      setupRequest: (req) => ({
        ...req, method: 'POST', path: '/v1/home', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ userId: pick(), context: { country: countries[Math.floor(Math.random() * 5)], device: devices[Math.floor(Math.random() * 6)], localTime: '2026-11-28T08:15:00+01:00' } }),
      }),
    },
    {
      setupRequest: (req, ctx) => {
        const home = ctx.home;
        const events = [];
        if (home && Array.isArray(home.shelves)) {
          for (const shelf of home.shelves) for (const [i, item] of shelf.items.entries()) {
            const base = { requestId: home.requestId, userId: home.userId, itemId: item.id, shelf: shelf.shelf, modelVersion: shelf.modelVersion, timestamp: home.generatedAt };
            events.push({ ...base, eventType: 'impression' });
            if (i === 0) events.push({ ...base, eventType: 'play', msPlayed: 60000 });
          }
        }
        if (events.length === 0) events.push({ userId: ctx.userId, itemId: 'none', eventType: 'impression', timestamp: new Date().toISOString() });
        return { ...req, method: 'POST', path: '/v1/events', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ events }) };
      },
    },
  ],
}, (error, result) => {
  if (error) { console.error(error); process.exit(1); }
  process.stdout.write(JSON.stringify(result));
});
`;

interface LoadResult {
  readonly requests: { readonly average: number; readonly total: number };
  readonly latency: { readonly p50: number; readonly p99: number; readonly max: number };
  readonly errors: number;
  readonly timeouts: number;
  readonly non2xx: number;
  readonly statusCodeStats?: Record<string, { count: number }>;
}

export default async function bench(): Promise<Record<string, number | string | boolean>> {
  const home = await mkdtemp(join(tmpdir(), 'shelves-soak-'));
  const previousLevel = process.env.LOG_LEVEL;
  process.env.LOG_LEVEL = 'ERROR';
  const engines = await startLocalEngines({ home });
  try {
    const world = join(home, 'world');
    await generateWorld(world, { users: USERS, days: 21, seed: 11, start: '2026-09-01' });
    await uploadDataset(world, RAW_BUCKET.localName);
    const api = await startLocalApi();
    // Warm-up: catalog load and module caches, outside the measured run.
    for (let i = 0; i < 20; i++) await fetch(`${api.url}/v1/home?userId=u-0000001`).then((r) => r.arrayBuffer());
    const samples: { t: number; rss: number; heap: number; external: number }[] = [];
    const t0 = performance.now();
    const sample = () => {
      const m = process.memoryUsage();
      samples.push({
        t: (performance.now() - t0) / 60_000,
        rss: m.rss / 2 ** 20,
        heap: m.heapUsed / 2 ** 20,
        external: m.external / 2 ** 20,
      });
    };
    sample();
    const timer = setInterval(sample, 1000);
    // heapUsed between collections is a saw-tooth; every 10 s a full collection gives the live heap.
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const live: { t: number; heap: number }[] = [];
    const collect = () => {
      gc();
      live.push({ t: (performance.now() - t0) / 60_000, heap: process.memoryUsage().heapUsed / 2 ** 20 });
    };
    collect();
    const gcTimer = setInterval(collect, 10_000);
    let result: LoadResult;
    try {
      const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=commonjs', '-e', LOAD_SCRIPT], {
        maxBuffer: 1 << 26,
        env: {
          ...process.env,
          AUTOCANNON: createRequire(import.meta.url).resolve('autocannon'),
          SOAK_URL: api.url,
          SOAK_USERS: String(USERS),
          SOAK_CONNECTIONS: String(CONNECTIONS),
          SOAK_RATE: String(RATE),
          SOAK_SECONDS: String(SECONDS),
        },
      });
      result = JSON.parse(stdout) as LoadResult;
    } finally {
      clearInterval(timer);
      clearInterval(gcTimer);
      sample();
      collect();
      await api.close();
    }
    const tail = samples.filter((s) => s.t >= (0.2 * SECONDS) / 60);
    const statuses = Object.entries(result.statusCodeStats ?? {})
      .map(([code, s]) => `${code}:${s.count}`)
      .join(' ');
    const errors = result.errors + result.timeouts + result.non2xx;
    return {
      seconds: SECONDS,
      targetRequestsPerSecond: RATE,
      requestsTotal: result.requests.total,
      requestsPerSecond: result.requests.average,
      statusCodes: statuses,
      errors,
      p50Ms: result.latency.p50,
      p99Ms: result.latency.p99,
      maxMs: result.latency.max,
      rssStartMb: Number((samples[0]?.rss ?? 0).toFixed(1)),
      rssEndMb: Number((samples.at(-1)?.rss ?? 0).toFixed(1)),
      rssMaxMb: Number(Math.max(...samples.map((s) => s.rss)).toFixed(1)),
      rssSlopeLast80PctMbPerMin: Number(
        slope(
          tail.map((s) => s.t),
          tail.map((s) => s.rss),
        ).toFixed(2),
      ),
      heapSlopeLast80PctMbPerMin: Number(
        slope(
          tail.map((s) => s.t),
          tail.map((s) => s.heap),
        ).toFixed(2),
      ),
      liveHeapStartMb: Number((live[0]?.heap ?? 0).toFixed(1)),
      liveHeapEndMb: Number((live.at(-1)?.heap ?? 0).toFixed(1)),
      liveHeapSlopeLast80PctMbPerMin: Number(
        slope(
          live.filter((s) => s.t >= (0.2 * SECONDS) / 60).map((s) => s.t),
          live.filter((s) => s.t >= (0.2 * SECONDS) / 60).map((s) => s.heap),
        ).toFixed(2),
      ),
      // Buffers and native memory outside the JS heap (s3rver and dynalite run in this process).
      externalSlopeLast80PctMbPerMin: Number(
        slope(
          tail.map((s) => s.t),
          tail.map((s) => s.external),
        ).toFixed(2),
      ),
      // The second half alone: growth that levels off (caches filling up) shows here as a smaller slope.
      rssSlopeLast50PctMbPerMin: Number(
        slope(
          samples.filter((s) => s.t >= (0.5 * SECONDS) / 60).map((s) => s.t),
          samples.filter((s) => s.t >= (0.5 * SECONDS) / 60).map((s) => s.rss),
        ).toFixed(2),
      ),
      zeroErrors: errors === 0,
    };
  } finally {
    await engines.stop();
    await rm(home, { recursive: true, force: true });
    if (previousLevel === undefined) delete process.env.LOG_LEVEL;
    else process.env.LOG_LEVEL = previousLevel;
  }
}
