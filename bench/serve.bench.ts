/**
 * Serving latency at a catalog of 100,000 items: in-process p50/p99 of a full home request (three
 * shelves, dedupe, fresh overlay), the first request including the artifact load, and local HTTP p99
 * under a steady 200 requests/s (autocannon, loopback, bounded duration); and the in-process p50/p99
 * with each listener read from the online user-state table on dynalite (loopback), as serving does in AWS.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserStateStore } from '../lib/aws/user-state.ts';
import type { CatalogItem, User } from '../lib/core/contract.ts';
import { fitOwnHistory } from '../lib/core/models/baselines/own-history.ts';
import { fitHybrid } from '../lib/core/models/hybrid/index.ts';
import type { FeatureRows, HistoryEvent, Interaction } from '../lib/core/models/recommender.ts';
import { Rng } from '../lib/core/rng.ts';
import { startLocalEngines } from '../lib/local/engines.ts';
import { startHttpServer } from '../lib/local/http-server.ts';
import { createHomeService } from '../lib/serving/home-service.ts';
import type { ServingPorts } from '../lib/serving/ports.ts';

const DAY = 86_400_000;
const NOW = Date.parse('2026-10-01T00:00:00Z');
const ITEMS = Number(process.env.SERVE_BENCH_ITEMS ?? 100_000);
const USERS = 5000;

function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

/**
 * The same requests with each listener read from the online user-state table on dynalite (one Query per
 * request, as serving does in AWS), instead of from memory: p50/p99 including the lookup.
 */
async function withUserStateLookups(
  ports: ServingPorts,
  count: number,
  history: ReadonlyMap<string, HistoryEvent[]>,
  users: ReadonlyMap<string, User>,
  rng: Rng,
): Promise<{ p50: number; p99: number }> {
  const home = await mkdtemp(join(tmpdir(), 'shelves-serve-bench-'));
  const engines = await startLocalEngines({ home });
  try {
    const store = new UserStateStore();
    await store.putBatch(
      [...users.values()].map((user) => ({ userId: user.userId, user, history: history.get(user.userId) ?? [] })),
      NOW,
      'bench',
    );
    const service = createHomeService(
      {
        ...ports,
        loadData: async () => ({ ...(await ports.loadData()), users: new Map(), history: new Map() }),
        userState: (id) => store.get(id),
      },
      { catalogRefreshMs: 3_600_000, endpointTtlMs: 3_600_000 },
      () => NOW,
    );
    for (let i = 0; i < 200; i++) await service.home({ userId: `u${i}` }); // warm-up
    const times: number[] = [];
    for (let i = 0; i < 2000; i++) {
      const t = performance.now();
      await service.home({ userId: `u${rng.int(count)}` });
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    return { p50: percentile(times, 0.5), p99: percentile(times, 0.99) };
  } finally {
    await engines.stop();
    await rm(home, { recursive: true, force: true });
  }
}

export default async function bench(): Promise<Record<string, number | string | boolean>> {
  const rng = new Rng(5);
  const cats = ['news', 'comedy', 'tech', 'history', 'sports', 'science', 'pop', 'rock', 'jazz', 'indie'];
  const catalog: CatalogItem[] = Array.from({ length: ITEMS }, (_, i) => ({
    itemId: `it-${i}`,
    type: i % 2 === 0 ? 'show' : 'playlist',
    title: `item ${i}`,
    categories: [cats[i % cats.length] as string],
    publisher: `p-${i % 500}`,
    language: 'en',
    publishedAt: new Date(NOW - (i % 997 === 0 ? 2 * DAY : 200 * DAY)).toISOString(),
  }));
  const users = new Map<string, User>(
    Array.from({ length: USERS }, (_, u) => [
      `u${u}`,
      {
        userId: `u${u}`,
        country: 'SE',
        signupAt: '2026-01-01T00:00:00Z',
        onboardingGenres: [cats[u % cats.length] as string],
        device: 'mobile',
        ageBand: '25-34',
      } as User,
    ]),
  );
  const interactions: Interaction[] = [];
  for (let u = 0; u < USERS; u++)
    for (let j = 0; j < 20; j++)
      interactions.push({ userId: `u${u}`, itemId: `it-${Math.floor(rng.next() ** 3 * ITEMS)}`, ts: NOW - rng.int(30) * DAY, weight: 1 });
  const itemFeatures: FeatureRows = new Map(
    catalog.map((c) => [
      c.itemId,
      [
        [`cat:${c.categories[0]}`, 1],
        [`type:${c.type}`, 1],
      ] as const,
    ]),
  );
  const model = fitHybrid(
    { interactions, itemFeatures, cutoff: NOW, snapshot: 'bench', transformVersion: 'bench' },
    { epochs: 2, dim: 64, seed: 1 },
  );
  const artifact = model.save();
  // Shortcuts ranks the user's own items; a most-recent model stands in for the ranker here.
  const shortcuts = fitOwnHistory('most-recent', { interactions: [], cutoff: NOW, snapshot: 'bench', transformVersion: 'bench' }).save();
  const history = new Map(
    Array.from({ length: USERS }, (_, u) => [
      `u${u}`,
      interactions
        .slice(u * 20, u * 20 + 20)
        .map((i) => ({ itemId: i.itemId, ts: i.ts, eventType: 'play', msPlayed: 1000, progress: 0.5, localHour: 8 })),
    ]),
  );
  const ports: ServingPorts = {
    endpoint: async (shelf) => ({
      shelf,
      liveVersion: 'v1',
      canaryVersion: null,
      canaryWeight: 0,
      previousVersion: null,
      revision: 1,
      updatedAt: '',
    }),
    artifactUri: async (shelf) => `mem://${shelf}`,
    loadArtifact: async (uri) =>
      uri === 'mem://shortcuts' ? shortcuts : { manifest: artifact.manifest, payload: artifact.payload.slice() },
    loadData: async () => ({ catalog, users, history }),
    logRequests: async () => undefined,
    writeFeedback: async () => undefined,
  };
  const service = createHomeService(ports, { catalogRefreshMs: 3_600_000, endpointTtlMs: 3_600_000 }, () => NOW);
  let t = performance.now();
  await service.home({ userId: 'u0' });
  const firstMs = performance.now() - t;
  for (let i = 0; i < 200; i++) await service.home({ userId: `u${i}` }); // warm-up
  const times: number[] = [];
  for (let i = 0; i < 3000; i++) {
    t = performance.now();
    await service.home({ userId: `u${rng.int(USERS)}` });
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const lookups = await withUserStateLookups(ports, USERS, history, users, rng);
  // The IVF index is approximate: overlap of its top 10 with the exact scan, over 200 users.
  const { loadHybrid } = await import('../lib/core/models/hybrid/index.ts');
  const approx = loadHybrid(artifact);
  const exact = loadHybrid(artifact);
  exact.annMinItems = Infinity;
  let overlap = 0;
  for (let u = 0; u < 200; u++) {
    const a = new Set(approx.recommend({ userId: `u${u}`, now: NOW }, 10).map((s) => s.itemId));
    overlap += exact.recommend({ userId: `u${u}`, now: NOW }, 10).filter((s) => a.has(s.itemId)).length / 10;
  }
  // A handler of the Lambda's shape around the same service (the real one adds middy and zod).
  const server = await startHttpServer({
    handler: async (event) => ({
      statusCode: 200,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(await service.home({ userId: event.queryStringParameters?.userId ?? 'u1' })),
    }),
  });
  // The load generator runs in its own process, so it does not share the server's event loop.
  const { execFile } = await import('node:child_process');
  const { promisify } = await import('node:util');
  const { createRequire } = await import('node:module');
  const cli = createRequire(import.meta.url).resolve('autocannon/autocannon.js');
  type Result = { requests: { average: number }; latency: { p50: number; p99: number }; errors: number; non2xx: number };
  const load = async (connections: number): Promise<Result> => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [cli, '-j', '-c', String(connections), '-R', '200', '-d', '10', `${server.url}/v1/home?userId=u42`],
      { maxBuffer: 1 << 24 },
    );
    return JSON.parse(stdout) as Result;
  };
  // 10 connections send in bursts (queueing on one event loop); 1 connection shows the service time alone.
  const result = await load(10);
  const single = await load(1);
  await server.close();
  return {
    catalogItems: ITEMS,
    firstRequestMsIncludingArtifactLoad: Number(firstMs.toFixed(1)),
    inProcessP50Ms: Number(percentile(times, 0.5).toFixed(3)),
    inProcessP99Ms: Number(percentile(times, 0.99).toFixed(3)),
    userStateLookupP50Ms: Number(lookups.p50.toFixed(3)),
    userStateLookupP99Ms: Number(lookups.p99.toFixed(3)),
    userStateLookupP99UnderTarget5Ms: lookups.p99 < 5,
    annTop10OverlapWithExact: Number((overlap / 200).toFixed(3)),
    httpRequestsPerSecond: result.requests.average,
    httpP50Ms: result.latency.p50,
    httpP99Ms: result.latency.p99,
    httpErrors: result.errors + result.non2xx,
    http1ConnRequestsPerSecond: single.requests.average,
    http1ConnP50Ms: single.latency.p50,
    http1ConnP99Ms: single.latency.p99,
    inProcessP99UnderTarget5Ms: percentile(times, 0.99) < 5,
    http1ConnP99UnderTarget20Ms: single.latency.p99 < 20,
    httpP99UnderTarget20Ms: result.latency.p99 < 20,
  };
}
