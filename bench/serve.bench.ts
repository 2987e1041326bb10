/**
 * Serving at scale (part `scale`, issue 11): one serving container's memory and latency with the
 * online user-state table holding 30,000 and then 1,000,000 listeners (SERVE_BENCH_USERS) and the
 * SAME catalog (SERVE_BENCH_CATALOG_ITEMS, default 145,000 items, the 1M-user world's size, in the
 * 100k world's mix of types; or SERVE_BENCH_CATALOG, a world's catalog.jsonl). The catalog goes
 * through the pipeline's compact snapshot, models and endpoints through the registry, listeners
 * through BatchWriteItem into dynalite; each container is its own process (bench/_serve-container.ts),
 * so its RSS is serving's alone. Figures: RSS after load and after SERVE_BENCH_REQUESTS requests, the
 * in-process p50/p99 with each listener's read (UserStateStore.get) on dynalite (loopback), and the
 * table's write rate.
 *
 * Part `latency`: a full home request at a catalog of 100,000 items (three shelves, dedupe, fresh
 * overlay), the first request including the artifact load, and local HTTP p99 under a steady 200
 * requests/s (autocannon, loopback, bounded duration). In-process, one service answers
 * SERVE_BENCH_ROUNDS rounds of SERVE_BENCH_PER_ROUND requests per arm, arms interleaved (same load,
 * heap and models), each arm reading the listener differently: `memory` (no lookup: the service's own
 * time), `query` (the previous get(): one Query through the DocumentClient), `documentBatchGet` (one
 * BatchGetItem through the DocumentClient), `get` (today's UserStateStore.get) and `bare` (the same
 * BatchGetItem as a plain HTTP POST: dynalite and loopback without the SDK, the floor) on dynalite over
 * loopback; per arm the home request's and the lookup's p50/p95/p99/max, the process's CPU per
 * request (all threads: on a loaded machine the figure to compare) with the main thread's share
 * (the rest is the engines' worker and LevelDB's threads), and the main thread's GC pauses
 * (ms per request, pauses per 1,000 requests, longest). SERVE_BENCH_ARMS picks arms (e.g.
 * `memory,get`), SERVE_BENCH_HTTP=0 leaves the HTTP figures out. The IVF's recall is reported over
 * all items and over the Podcasts shelf's candidates.
 *
 * SERVE_BENCH_PARTS picks the parts (default `scale,latency`).
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromRow, type Row, UserStateStore } from '../lib/aws/user-state.ts';
import type { CatalogItem, User } from '../lib/core/contract.ts';
import { fitOwnHistory } from '../lib/core/models/baselines/own-history.ts';
import { fitHybrid } from '../lib/core/models/hybrid/index.ts';
import type { FeatureRows, Interaction } from '../lib/core/models/recommender.ts';
import { Rng } from '../lib/core/rng.ts';
import { startLocalEngines } from '../lib/local/engines.ts';
import { startHttpServer } from '../lib/local/http-server.ts';
import { BatchGetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient } from '../lib/aws/registry.ts';
import { mergeServingHistory } from '../lib/core/transforms/online-history.ts';
import { createHomeService, type HomeService } from '../lib/serving/home-service.ts';
import type { ServingPorts, UserState } from '../lib/serving/ports.ts';

const DAY = 86_400_000;
const NOW = Date.parse('2026-10-01T00:00:00Z');
const ITEMS = Number(process.env.SERVE_BENCH_ITEMS ?? 100_000);
const USERS = 5000;
/** Rounds of the lookup comparison, and requests per arm in each round. */
const ROUNDS = Number(process.env.SERVE_BENCH_ROUNDS ?? 6);
const PER_ROUND = Number(process.env.SERVE_BENCH_PER_ROUND ?? 500);

function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

/** Latency quantiles of one set of timings (ms). */
interface Quantiles {
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
}

function quantiles(times: number[]): Quantiles {
  const sorted = [...times].sort((a, b) => a - b);
  return { p50: percentile(sorted, 0.5), p95: percentile(sorted, 0.95), p99: percentile(sorted, 0.99), max: sorted.at(-1) ?? 0 };
}

/**
 * UserStateStore.get as it was before 2026-12-01 21:30 (one Query on the listener's key, every
 * attribute), kept here so that one run compares it with today's get() at the same machine load.
 */
async function queryUserState(tableName: string, userId: string): Promise<UserState | undefined> {
  const out = await documentClient().send(
    new QueryCommand({ TableName: tableName, KeyConditionExpression: 'userId = :u', ExpressionAttributeValues: { ':u': userId } }),
  );
  const items = out.Items ?? [];
  if (items.length === 0) return undefined;
  const batch = items.find((i) => i.sk === 'batch');
  const online = items.find((i) => i.sk === 'online');
  const batchHistory = batch ? (JSON.parse(batch.h as string) as Row[]).map(fromRow) : [];
  const onlineHistory = ((online?.ev as string[] | undefined) ?? []).map((s) => fromRow(JSON.parse(s) as Row));
  const history = mergeServingHistory(batchHistory, (batch?.batchEnd as number | undefined) ?? 0, onlineHistory);
  return { ...(batch?.profile ? { user: JSON.parse(batch.profile as string) as User } : {}), history };
}

/**
 * One BatchGetItem of the two keys through the DocumentClient (no cached middleware): today's get()
 * without its client, to tell the two changes apart.
 */
async function documentBatchGet(tableName: string, userId: string): Promise<UserState | undefined> {
  const out = await documentClient().send(
    new BatchGetCommand({
      RequestItems: {
        [tableName]: {
          Keys: [
            { userId, sk: 'batch' },
            { userId, sk: 'online' },
          ],
          ProjectionExpression: '#sk, #profile, #h, #batchEnd, #ev',
          ExpressionAttributeNames: { '#sk': 'sk', '#profile': 'profile', '#h': 'h', '#batchEnd': 'batchEnd', '#ev': 'ev' },
        },
      },
    }),
  );
  const items = out.Responses?.[tableName] ?? [];
  if (items.length === 0) return undefined;
  const batch = items.find((i) => i.sk === 'batch');
  const online = items.find((i) => i.sk === 'online');
  const batchHistory = batch ? (JSON.parse(batch.h as string) as Row[]).map(fromRow) : [];
  const onlineHistory = ((online?.ev as string[] | undefined) ?? []).map((s) => fromRow(JSON.parse(s) as Row));
  const history = mergeServingHistory(batchHistory, (batch?.batchEnd as number | undefined) ?? 0, onlineHistory);
  return { ...(batch?.profile ? { user: JSON.parse(batch.profile as string) as User } : {}), history };
}

/**
 * The `bare` arm: the same BatchGetItem of the listener's two keys as a plain keep-alive HTTP POST with
 * a fixed signature (dynalite does not check signatures), decoded as UserStateStore.get decodes. Not a
 * client to use: it shows the floor of dynalite and loopback under the SDK's own cost, in the same run.
 */
function bareBatchGet(endpoint: string, tableName: string): (userId: string) => Promise<UserState | undefined> {
  const url = new URL(endpoint);
  const agent = new http.Agent({ keepAlive: true });
  const headers = {
    'content-type': 'application/x-amz-json-1.0',
    'x-amz-target': 'DynamoDB_20120810.BatchGetItem',
    'x-amz-date': '20260101T000000Z',
    authorization: 'AWS4-HMAC-SHA256 Credential=S3RVER/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0',
  };
  const post = (body: string) =>
    new Promise<string>((done, fail) => {
      const req = http.request(
        {
          host: url.hostname,
          port: url.port,
          method: 'POST',
          path: '/',
          agent,
          headers: { ...headers, 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => {
            text += d;
          });
          res.on('end', () =>
            res.statusCode === 200 ? done(text) : fail(new Error(`bare BatchGetItem answered ${res.statusCode}: ${text}`)),
          );
        },
      );
      req.on('error', fail);
      req.end(body);
    });
  return async (userId) => {
    const keys = [
      { userId: { S: userId }, sk: { S: 'batch' } },
      { userId: { S: userId }, sk: { S: 'online' } },
    ];
    const out = JSON.parse(
      await post(JSON.stringify({ RequestItems: { [tableName]: { Keys: keys, ProjectionExpression: 'sk, profile, h, batchEnd, ev' } } })),
    ) as { Responses?: Record<string, Record<string, { S?: string; N?: string; L?: { S?: string }[] }>[]> };
    const items = out.Responses?.[tableName] ?? [];
    if (items.length === 0) return undefined;
    const batch = items.find((i) => i.sk?.S === 'batch');
    const online = items.find((i) => i.sk?.S === 'online');
    const batchHistory = batch?.h?.S === undefined ? [] : (JSON.parse(batch.h.S) as Row[]).map(fromRow);
    const onlineHistory = (online?.ev?.L ?? []).map((v) => fromRow(JSON.parse(v.S ?? 'null') as Row));
    const history = mergeServingHistory(batchHistory, Number(batch?.batchEnd?.N ?? 0), onlineHistory);
    const profile = batch?.profile?.S;
    return { ...(profile ? { user: JSON.parse(profile) as User } : {}), history };
  };
}

/** One arm's figures: latency quantiles (ms), CPU of the process and main-thread GC per request. */
interface ArmFigures {
  readonly home: Quantiles;
  readonly lookup: Quantiles;
  readonly cpuMsPerRequest: number;
  /** The main thread's share (NaN where /proc is not readable). */
  readonly cpuMainMsPerRequest: number;
  readonly gcMsPerRequest: number;
  readonly gcPer1000Requests: number;
  readonly gcMaxPauseMs: number;
}

/**
 * CPU ms of this process's main thread (Linux: /proc/self/task/<pid>/stat, utime + stime in clock
 * ticks of 10 ms); NaN elsewhere. With process.cpuUsage (all threads) it splits a lookup's CPU into
 * the client's side (SDK, main thread) and the engine's (the engines' worker, LevelDB's threads).
 */
function mainThreadCpuMs(): number {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return Number.NaN;
  }
}

/** Arms of the lookup comparison to run (SERVE_BENCH_ARMS, comma-separated; default all five). */
const ARMS = process.env.SERVE_BENCH_ARMS?.split(',');

/** Where a home request's listener comes from in one arm of the comparison. */
type Lookup = (userId: string) => Promise<UserState | undefined>;

/**
 * One service, the listener read by each arm in turn: `rounds` rounds of `perRound` requests per arm,
 * arms interleaved, so every arm sees the same machine load, the same heap and the same loaded models.
 * Per arm: the whole home request and the lookup alone (timed in the port), p50/p95/p99/max.
 */
async function compareLookups(
  service: HomeService,
  setLookup: (lookup: Lookup) => void,
  arms: Readonly<Record<string, Lookup>>,
  users: number,
  rng: Rng,
  rounds: number,
  perRound: number,
): Promise<Record<string, ArmFigures>> {
  const home = new Map(Object.keys(arms).map((a) => [a, [] as number[]]));
  // Main-thread GC pauses (the engines' worker has its own heap), counted afterwards to the arm whose
  // time window holds their start (entries reach the observer late, after the pause).
  const pauses: { start: number; duration: number }[] = [];
  const windows: { arm: string; from: number; to: number }[] = [];
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) pauses.push({ start: entry.startTime, duration: entry.duration });
  });
  observer.observe({ entryTypes: ['gc'] });
  // CPU of the whole process (this thread and the engines' worker), the figure a loaded machine does not distort.
  const cpu = new Map(Object.keys(arms).map((a) => [a, 0]));
  const cpuMain = new Map(Object.keys(arms).map((a) => [a, 0]));
  const lookup = new Map(Object.keys(arms).map((a) => [a, [] as number[]]));
  const timed =
    (name: string, read: Lookup): Lookup =>
    async (userId) => {
      const t = performance.now();
      try {
        return await read(userId);
      } finally {
        lookup.get(name)?.push(performance.now() - t);
      }
    };
  for (const read of Object.values(arms)) {
    setLookup(read);
    for (let i = 0; i < 200; i++) await service.home({ userId: `u${rng.int(users)}` }); // warm-up
  }
  for (let round = 0; round < rounds; round++)
    for (const [name, read] of Object.entries(arms)) {
      setLookup(timed(name, read));
      const from = performance.now();
      const before = process.cpuUsage();
      const mainBefore = mainThreadCpuMs();
      for (let i = 0; i < perRound; i++) {
        const t = performance.now();
        await service.home({ userId: `u${rng.int(users)}` });
        home.get(name)?.push(performance.now() - t);
      }
      const used = process.cpuUsage(before);
      cpuMain.set(name, (cpuMain.get(name) ?? 0) + mainThreadCpuMs() - mainBefore);
      windows.push({ arm: name, from, to: performance.now() });
      cpu.set(name, (cpu.get(name) ?? 0) + (used.user + used.system) / 1000);
    }
  await new Promise((r) => setTimeout(r, 50)); // the last pauses' entries
  observer.disconnect();
  const gc = new Map(Object.keys(arms).map((a) => [a, { ms: 0, count: 0, max: 0 }]));
  for (const p of pauses) {
    const w = windows.find((x) => p.start >= x.from && p.start < x.to);
    const g = w === undefined ? undefined : gc.get(w.arm);
    if (g === undefined) continue;
    g.ms += p.duration;
    g.count++;
    g.max = Math.max(g.max, p.duration);
  }
  return Object.fromEntries(
    Object.keys(arms).map((name) => {
      const g = gc.get(name) ?? { ms: 0, count: 0, max: 0 };
      return [
        name,
        {
          home: quantiles(home.get(name) ?? []),
          lookup: quantiles(lookup.get(name) ?? []),
          cpuMsPerRequest: (cpu.get(name) ?? 0) / (rounds * perRound),
          cpuMainMsPerRequest: (cpuMain.get(name) ?? 0) / (rounds * perRound),
          gcMsPerRequest: g.ms / (rounds * perRound),
          gcPer1000Requests: (1000 * g.count) / (rounds * perRound),
          gcMaxPauseMs: g.max,
        },
      ];
    }),
  );
}

/** The latency figures of a 100,000-item catalog with listeners in memory, then on dynalite, and over local HTTP. */
async function latencyPart(): Promise<Record<string, number | string | boolean>> {
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
  const fromMemory: Lookup = async (userId) => {
    const user = users.get(userId);
    return user ? { user, history: history.get(userId) ?? [] } : undefined;
  };
  let lookup = fromMemory;
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
    loadData: async () => ({ catalog }),
    // Listeners from memory (the service time without the lookup) or from dynalite, per arm.
    userState: (userId) => lookup(userId),
    logRequests: async () => undefined,
    writeFeedback: async () => undefined,
  };
  const service = createHomeService(ports, { catalogRefreshMs: 3_600_000, endpointTtlMs: 3_600_000 }, () => NOW);
  const t = performance.now();
  await service.home({ userId: 'u0' });
  const firstMs = performance.now() - t;

  // The same listeners in the online user-state table on dynalite (loopback, the engines' worker thread).
  const home = await mkdtemp(join(tmpdir(), 'shelves-serve-bench-'));
  // SERVE_BENCH_DYNAMO=memory: dynalite's in-memory store instead of LevelDB on disk.
  const engines = await startLocalEngines({ home, dynamoStore: process.env.SERVE_BENCH_DYNAMO === 'memory' ? 'memory' : 'disk' });
  let arms: Record<string, ArmFigures>;
  try {
    const store = new UserStateStore();
    await store.putBatch(
      [...users.values()].map((user) => ({ userId: user.userId, user, history: history.get(user.userId) ?? [] })),
      NOW,
      'bench',
    );
    arms = await compareLookups(
      service,
      (next) => {
        lookup = next;
      },
      Object.fromEntries(
        Object.entries<Lookup>({
          memory: fromMemory,
          query: (id) => queryUserState(store.tableName, id),
          documentBatchGet: (id) => documentBatchGet(store.tableName, id),
          get: (id) => store.get(id),
          bare: bareBatchGet(engines.dynamoEndpoint, store.tableName),
        }).filter(([name]) => ARMS === undefined || ARMS.includes(name)),
      ),
      USERS,
      rng,
      ROUNDS,
      PER_ROUND,
    );
  } finally {
    lookup = fromMemory;
    await engines.stop();
    await rm(home, { recursive: true, force: true });
  }
  const figures: Record<string, number> = {};
  const ms = (v: number) => Number(v.toFixed(3));
  for (const [name, a] of Object.entries(arms)) {
    const { home: h, lookup: l, cpuMsPerRequest, cpuMainMsPerRequest, gcMsPerRequest, gcPer1000Requests, gcMaxPauseMs } = a;
    const Arm = name.charAt(0).toUpperCase() + name.slice(1);
    figures[`cpu${Arm}MsPerRequest`] = ms(cpuMsPerRequest);
    figures[`cpuMain${Arm}MsPerRequest`] = ms(cpuMainMsPerRequest);
    figures[`gc${Arm}MsPerRequest`] = ms(gcMsPerRequest);
    figures[`gc${Arm}Per1000Requests`] = ms(gcPer1000Requests);
    figures[`gc${Arm}MaxPauseMs`] = ms(gcMaxPauseMs);
    for (const q of ['p50', 'p95', 'p99', 'max'] as const) {
      const Q = q.charAt(0).toUpperCase() + q.slice(1);
      figures[`home${Arm}${Q}Ms`] = ms(h[q]);
      if (name !== 'memory') figures[`lookup${Arm}${Q}Ms`] = ms(l[q]);
    }
  }
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
  // And over the Podcasts shelf's candidates (the shows), the lists the home serves: recall of the exact top 10.
  const shows = catalog.filter((c) => c.type === 'show').map((c) => c.itemId);
  let found = 0;
  for (let u = 0; u < 200; u++) {
    const a = new Set(approx.recommend({ userId: `u${u}`, now: NOW }, 10, { candidates: shows }).map((s) => s.itemId));
    found += exact.recommend({ userId: `u${u}`, now: NOW }, 10, { candidates: shows }).filter((s) => a.has(s.itemId)).length / 10;
  }
  const http = process.env.SERVE_BENCH_HTTP === '0' ? {} : await httpFigures(service);
  const memory = arms.memory;
  const get = arms.get;
  return {
    catalogItems: ITEMS,
    firstRequestMsIncludingArtifactLoad: Number(firstMs.toFixed(1)),
    requestsPerArm: ROUNDS * PER_ROUND,
    ...(memory ? { inProcessP50Ms: ms(memory.home.p50), inProcessP99Ms: ms(memory.home.p99) } : {}),
    ...figures,
    annTop10OverlapWithExact: Number((overlap / 200).toFixed(3)),
    annShowsTop10RecallWithExact: Number((found / 200).toFixed(4)),
    ...http,
    ...(memory ? { inProcessP99UnderTarget5Ms: memory.home.p99 < 5 } : {}),
    ...(get ? { homeWithLookupP99UnderTarget5Ms: get.home.p99 < 5 } : {}),
    loadAverage: Number((await import('node:os')).loadavg()[0]?.toFixed(1)),
  };
}

/** Local HTTP figures of the service (SERVE_BENCH_HTTP=0 leaves them out): steady 200 requests/s, 10 and 1 connections. */
async function httpFigures(service: HomeService): Promise<Record<string, number | boolean>> {
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
    httpRequestsPerSecond: result.requests.average,
    httpP50Ms: result.latency.p50,
    httpP99Ms: result.latency.p99,
    httpErrors: result.errors + result.non2xx,
    http1ConnRequestsPerSecond: single.requests.average,
    http1ConnP50Ms: single.latency.p50,
    http1ConnP99Ms: single.latency.p99,
    http1ConnP99UnderTarget20Ms: single.latency.p99 < 20,
    httpP99UnderTarget20Ms: result.latency.p99 < 20,
  };
}

const SCALE_USERS = (process.env.SERVE_BENCH_USERS ?? '30000,1000000').split(',').map(Number);
const SCALE_ITEMS = Number(process.env.SERVE_BENCH_CATALOG_ITEMS ?? 145_000);
const SCALE_REQUESTS = Number(process.env.SERVE_BENCH_REQUESTS ?? 2000);
/** The 100k-user world's catalog mix (36,020 items): episodes, albums, shows, playlists, audiobooks. */
const TYPE_MIX: readonly [CatalogItem['type'], number][] = [
  ['episode', 26_474],
  ['album', 3_397],
  ['show', 2_894],
  ['playlist', 2_368],
  ['audiobook', 887],
];
/** Users written per putBatch call (the writer holds one slice at a time). */
const WRITE_SLICE = 20_000;
/** History events per listener: the 1M x 14-day world has ~14 events per listener. */
const HISTORY_PER_USER = 20;

/** A catalog of `n` items in the world's mix; episodes belong to shows. */
function scaleCatalog(n: number): CatalogItem[] {
  const total = TYPE_MIX.reduce((a, [, c]) => a + c, 0);
  const cats = ['news', 'comedy', 'tech', 'history', 'sports', 'science', 'pop', 'rock', 'jazz', 'indie', 'health', 'true-crime'];
  const out: CatalogItem[] = [];
  const shows = Math.max(1, Math.round((n * (TYPE_MIX.find(([t]) => t === 'show')?.[1] ?? 0)) / total));
  for (const [type, count] of TYPE_MIX) {
    const m = Math.round((n * count) / total);
    for (let i = 0; i < m; i++) {
      const id = `${type.slice(0, 2)}-${i}`;
      const show = `sh-${i % shows}`;
      out.push({
        itemId: type === 'episode' ? `${show}-ep${i}` : type === 'show' ? `sh-${i}` : id,
        type,
        title: `${type} ${i}`,
        categories: [cats[i % cats.length] as string, ...(i % 3 === 0 ? [cats[(i + 5) % cats.length] as string] : [])],
        publisher: `publisher-${i % 700}`,
        language: ['en', 'sv', 'es', 'hi'][i % 4] as string,
        publishedAt: new Date(NOW - (i % 997 === 0 ? 2 : 30 + (i % 300)) * DAY).toISOString(),
        ...(type === 'episode' ? { showId: show, durationMs: 1_200_000 + (i % 40) * 60_000 } : {}),
      });
    }
  }
  return out;
}

/** Writes listeners [from, to) with BatchWriteItem (25 a call, 8 calls in flight): a profile and HISTORY_PER_USER plays each. */
async function writeListeners(store: UserStateStore, from: number, to: number, itemIds: readonly string[]): Promise<void> {
  const began = performance.now();
  for (let start = from; start < to; start += WRITE_SLICE) {
    if (start > from && (start - from) % 100_000 === 0)
      process.stderr.write(
        `serve bench: ${start} listeners written, ${Math.round((start - from) / ((performance.now() - began) / 1000))}/s\n`,
      );
    const states = Array.from({ length: Math.min(WRITE_SLICE, to - start) }, (_, k) => {
      const u = start + k;
      return {
        userId: `u-${u}`,
        user: {
          userId: `u-${u}`,
          country: ['SE', 'US', 'BR', 'IN'][u % 4] as string,
          signupAt: '2026-01-01T00:00:00Z',
          onboardingGenres: ['news'],
          device: 'mobile',
          ageBand: '25-34',
        } as User,
        history: Array.from({ length: HISTORY_PER_USER }, (_, j) => ({
          itemId: itemIds[(u * 7919 + j * 104_729) % itemIds.length] as string,
          ts: NOW - (HISTORY_PER_USER - j) * 3_600_000,
          eventType: 'play',
          msPlayed: 600_000,
          progress: 0.5,
          localHour: 8,
        })),
      };
    });
    await store.putBatch(states, NOW, 'bench');
  }
}

/** Memory and latency of one serving container per table size, with the same catalog. */
async function scalePart(): Promise<Record<string, number | string | boolean>> {
  const { readFile } = await import('node:fs/promises');
  const { execFile } = await import('node:child_process');
  const { promisify } = await import('node:util');
  const { formatS3Uri, putObjectBytes } = await import('../lib/aws/s3-uri.ts');
  const { writeArtifactUri } = await import('../lib/pipeline/artifact-store.ts');
  const { writeCatalogSnapshot } = await import('../lib/pipeline/catalog-snapshot.ts');
  const { ModelRegistry } = await import('../lib/aws/registry.ts');
  const { EndpointStore } = await import('../lib/aws/endpoints.ts');
  const { ARTIFACTS_BUCKET, PREFIXES, RAW_BUCKET } = await import('../lib/wiring/resources.ts');
  const { SHELVES } = await import('../lib/core/contract.ts');

  const home = await mkdtemp(join(tmpdir(), 'shelves-serve-scale-'));
  const engines = await startLocalEngines({ home });
  const figures: Record<string, number | string | boolean> = {};
  try {
    const file = process.env.SERVE_BENCH_CATALOG;
    const catalog: CatalogItem[] = file
      ? (await readFile(file, 'utf8'))
          .split('\n')
          .filter((l) => l !== '')
          .map((l) => JSON.parse(l) as CatalogItem)
      : scaleCatalog(SCALE_ITEMS);
    figures.catalogItems = catalog.length;
    figures.catalogSource = file ?? 'synthetic (the 100k world type mix)';
    await putObjectBytes(
      formatS3Uri(RAW_BUCKET.localName, `${PREFIXES.catalog}catalog.jsonl`),
      `${catalog.map((c) => JSON.stringify(c)).join('\n')}\n`,
    );
    let t = performance.now();
    await writeCatalogSnapshot(formatS3Uri(RAW_BUCKET.localName, PREFIXES.catalog), ARTIFACTS_BUCKET.localName, 'bench');
    figures.snapshotWriteSeconds = Number(((performance.now() - t) / 1000).toFixed(1));

    // Models: a hybrid over shows and playlists (Podcasts, Playlists), most-recent for Shortcuts.
    const rng = new Rng(11);
    const ranked = catalog.filter((c) => c.type === 'show' || c.type === 'playlist');
    const interactions: Interaction[] = [];
    for (let u = 0; u < 5000; u++)
      for (let j = 0; j < 20; j++)
        interactions.push({
          userId: `u-${u}`,
          itemId: (ranked[Math.floor(rng.next() ** 3 * ranked.length)] as CatalogItem).itemId,
          ts: NOW - rng.int(30) * DAY,
          weight: 1,
        });
    const itemFeatures: FeatureRows = new Map(
      ranked.map((c) => [
        c.itemId,
        [
          [`cat:${c.categories[0]}`, 1],
          [`type:${c.type}`, 1],
        ] as const,
      ]),
    );
    const hybrid = fitHybrid(
      { interactions, itemFeatures, cutoff: NOW, snapshot: 'bench', transformVersion: 'bench' },
      { epochs: 2, dim: 64, seed: 1 },
    );
    const shortcuts = fitOwnHistory('most-recent', { interactions: [], cutoff: NOW, snapshot: 'bench', transformVersion: 'bench' });
    const registry = new ModelRegistry();
    const endpoints = new EndpointStore();
    for (const shelf of SHELVES) {
      const uri = formatS3Uri(ARTIFACTS_BUCKET.localName, `runs/${shelf}/bench/model/`);
      const model = shelf === 'shortcuts' ? shortcuts : hybrid;
      await writeArtifactUri(uri, model.save());
      await registry.putVersion({
        shelf,
        versionId: `${shelf}-bench`,
        runId: 'bench',
        kind: model.kind,
        status: 'evaluated',
        artifactUri: uri,
        reportUri: formatS3Uri(ARTIFACTS_BUCKET.localName, `runs/${shelf}/bench/report.html`),
        metrics: { 'ndcg@10': 0 },
        decision: { pass: true, reasons: ['registered by the serving bench'] },
        dataSnapshot: 'bench',
        transformVersion: 'bench',
        createdAt: new Date(NOW).toISOString(),
      });
      await endpoints.deployCandidate(shelf, `${shelf}-bench`, { canaryWeight: 0.1 });
    }

    const store = new UserStateStore();
    const itemIds = catalog.map((c) => c.itemId);
    const script = new URL('./_serve-container.ts', import.meta.url).pathname;
    let written = 0;
    for (const users of SCALE_USERS) {
      t = performance.now();
      await writeListeners(store, written, users, itemIds);
      const seconds = (performance.now() - t) / 1000;
      figures[`users${users}WriteSeconds`] = Number(seconds.toFixed(1));
      figures[`users${users}WritePerSecond`] = Math.round((users - written) / seconds);
      written = users;
      const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', '--import', 'tsx', script], {
        env: {
          ...process.env,
          LOG_LEVEL: 'ERROR',
          SERVE_CONTAINER_USERS: String(users),
          SERVE_CONTAINER_REQUESTS: String(SCALE_REQUESTS),
          SERVE_CONTAINER_NOW: new Date(NOW).toISOString(),
        },
        maxBuffer: 1 << 24,
      });
      const line = stdout.trim().split('\n').at(-1) ?? '{}';
      for (const [k, v] of Object.entries(JSON.parse(line) as Record<string, number | string>))
        figures[`users${users}${k.charAt(0).toUpperCase()}${k.slice(1)}`] = typeof v === 'number' ? Number(v.toFixed(3)) : v;
      figures[`users${users}LoadAverage`] = (await import('node:os')).loadavg()[0]?.toFixed(1) ?? '';
      // Each step's figures as they come: a long run stopped midway still tells what it measured.
      process.stderr.write(
        `serve bench: ${JSON.stringify(Object.fromEntries(Object.entries(figures).filter(([k]) => k.startsWith(`users${users}`))))}\n`,
      );
    }
    // The smallest and the largest table: memory must be the same (within allocator noise).
    const small = SCALE_USERS[0];
    const large = SCALE_USERS.at(-1);
    if (small !== undefined && large !== undefined && small !== large) {
      const a = figures[`users${small}RssAfterRequestsMb`] as number;
      const b = figures[`users${large}RssAfterRequestsMb`] as number;
      figures.rssDifferenceMb = Number((b - a).toFixed(1));
      figures.heapDifferenceMb = Number(
        ((figures[`users${large}HeapAfterRequestsMb`] as number) - (figures[`users${small}HeapAfterRequestsMb`] as number)).toFixed(1),
      );
      figures.rssWithin600Mb = Math.max(a, b) <= 600;
    }
  } finally {
    await engines.stop();
    await rm(home, { recursive: true, force: true });
  }
  return figures;
}

export default async function bench(): Promise<Record<string, number | string | boolean>> {
  const parts = (process.env.SERVE_BENCH_PARTS ?? 'scale,latency').split(',');
  return {
    ...(parts.includes('scale') ? await scalePart() : {}),
    ...(parts.includes('latency') ? await latencyPart() : {}),
  };
}
