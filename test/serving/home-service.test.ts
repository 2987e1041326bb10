import { describe, expect, it } from 'vitest';
import type { EndpointRecord } from '../../lib/aws/endpoints.ts';
import type { CatalogItem, Shelf, User } from '../../lib/core/contract.ts';
import { fitPopularity } from '../../lib/core/models/baselines/popularity.ts';
import type { ModelArtifact } from '../../lib/core/models/artifact.ts';
import { createHomeService, HomeService, DEFAULT_SERVING_CONFIG } from '../../lib/serving/home-service.ts';
import type { RequestLogRecord, ServingData, ServingPorts } from '../../lib/serving/ports.ts';
import { HomeResponseSchema, type FeedbackEvent } from '../../lib/api/schemas.ts';

const NOW = Date.parse('2026-10-01T00:00:00Z');
const item = (id: string, type: CatalogItem['type'], publishedAt = '2026-01-01T00:00:00Z'): CatalogItem => ({
  itemId: id,
  type,
  title: `Title ${id}`,
  categories: ['news'],
  publisher: 'p',
  language: 'en',
  publishedAt,
});
const catalog = [...['s1', 's2', 's3'].map((id) => item(id, 'show')), ...['p1', 'p2'].map((id) => item(id, 'playlist'))];
const user: User = {
  userId: 'u1',
  country: 'SE',
  signupAt: '2026-01-01T00:00:00Z',
  onboardingGenres: ['news'],
  device: 'mobile',
  ageBand: '25-34',
};
const history = new Map([['u1', [{ itemId: 's2', ts: NOW - 3600_000, eventType: 'play', msPlayed: 1000, progress: 0.5, localHour: 8 }]]]);
const trained = (items: string[]) =>
  fitPopularity({
    interactions: items.map((itemId, i) => ({ userId: 'u1', itemId, ts: NOW - 1000, weight: items.length - i })),
    cutoff: NOW,
    snapshot: 's',
    transformVersion: 't',
  }).save();
const ARTIFACTS: Record<string, ModelArtifact> = { v1: trained(['s3', 'p1']), v2: trained(['s1', 'p2']) };
const endpoint = (shelf: Shelf, over: Partial<EndpointRecord> = {}): EndpointRecord => ({
  shelf,
  liveVersion: 'v1',
  canaryVersion: null,
  canaryWeight: 0,
  previousVersion: null,
  revision: 1,
  updatedAt: '',
  ...over,
});

/** In-memory ports (test doubles of serving's own port interfaces) that count calls and can be broken. */
function fakePorts() {
  const state = {
    endpoint: (shelf: Shelf): EndpointRecord => endpoint(shelf),
    data: { catalog } as ServingData,
    /** The online user state: listeners by id, read one at a time. */
    users: new Map([['u1', { user, history: history.get('u1') ?? [] }]]),
    dynamoDown: false,
    s3Down: new Set<string>(),
    dataDown: false,
    loads: [] as string[],
    endpointReads: 0,
    logged: [] as RequestLogRecord[][],
    feedback: [] as FeedbackEvent[],
  };
  const ports: ServingPorts = {
    endpoint: async (shelf) => {
      state.endpointReads++;
      if (state.dynamoDown) throw new Error('connect ECONNREFUSED 127.0.0.1:4567');
      return state.endpoint(shelf);
    },
    artifactUri: async (shelf, version) => `s3://artifacts/${shelf}/${version}/`,
    loadArtifact: async (uri) => {
      const version = uri.split('/').at(-2) ?? '';
      if (state.s3Down.has(version) || state.s3Down.has('*')) throw new Error('connect ECONNREFUSED 127.0.0.1:4568');
      state.loads.push(uri);
      const artifact = ARTIFACTS[version];
      if (artifact === undefined) throw new Error(`no artifact at ${uri}`);
      return artifact;
    },
    loadData: async () => {
      if (state.dataDown) throw new Error('connect ECONNREFUSED 127.0.0.1:4568');
      return state.data;
    },
    userState: async (userId) => state.users.get(userId),
    logRequests: async (records) => {
      state.logged.push([...records]);
    },
    writeFeedback: async (events) => {
      state.feedback.push(...events);
    },
  };
  return { ports, state };
}

describe('HomeService', () => {
  it('serves the live model of each shelf, in order, in the documented response shape', async () => {
    const { ports } = fakePorts();
    const home = await new HomeService(ports, DEFAULT_SERVING_CONFIG, () => NOW).home({ userId: 'u1' });
    expect(HomeResponseSchema.safeParse(home).success).toBe(true);
    expect(home.shelves.map((s) => [s.shelf, s.variant, s.modelVersion])).toEqual([
      ['shortcuts', 'live', 'v1'],
      ['podcasts', 'live', 'v1'],
      ['playlists', 'live', 'v1'],
    ]);
    expect(home.shelves[1]?.items.every((i) => i.type === 'show')).toBe(true);
    expect(home.shelves[2]?.items.every((i) => i.type === 'playlist')).toBe(true);
    const ids = home.shelves.flatMap((s) => s.items.map((i) => i.id));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('serves the canary to its share of users and live to the rest', async () => {
    const { ports, state } = fakePorts();
    state.endpoint = (shelf) => endpoint(shelf, { canaryVersion: 'v2', canaryWeight: 0.5 });
    const service = createHomeService(ports, {}, () => NOW);
    const served = new Map<string, string>();
    for (let i = 0; i < 40; i++) {
      const podcasts = (await service.home({ userId: `u-${i}` })).shelves[1];
      served.set(`${podcasts?.variant}`, `${podcasts?.modelVersion}`);
    }
    expect(Object.fromEntries(served)).toEqual({ live: 'v1', canary: 'v2' });
  });

  it('loads an artifact once per version and shares it across requests', async () => {
    const { ports, state } = fakePorts();
    const service = createHomeService(ports, {}, () => NOW);
    for (let i = 0; i < 5; i++) await service.home({ userId: 'u1' });
    expect(state.loads.sort()).toEqual(['s3://artifacts/playlists/v1/', 's3://artifacts/podcasts/v1/', 's3://artifacts/shortcuts/v1/']);
  });

  it('keeps at most maxModels versions loaded, dropping the least recently used', async () => {
    const { ports, state } = fakePorts();
    const service = createHomeService(ports, { maxModels: 3 }, () => NOW);
    await service.home({ userId: 'u1' }); // 3 loads (v1 of each shelf)
    state.endpoint = (shelf) => endpoint(shelf, { liveVersion: shelf === 'podcasts' ? 'v2' : 'v1' });
    await service.home({ userId: 'u1' }); // within TTL: no change
    expect(state.loads).toHaveLength(3);
    const t = { now: NOW };
    const later = createHomeService(ports, { maxModels: 3, endpointTtlMs: 10 }, () => t.now);
    state.loads.length = 0;
    state.endpoint = (shelf) => endpoint(shelf);
    await later.home({ userId: 'u1' });
    state.endpoint = (shelf) => endpoint(shelf, { liveVersion: shelf === 'podcasts' ? 'v2' : 'v1' });
    t.now += 1000;
    await later.home({ userId: 'u1' }); // podcasts v2 in, the least recently used (podcasts v1) out
    state.endpoint = (shelf) => endpoint(shelf);
    t.now += 1000;
    await later.home({ userId: 'u1' }); // podcasts v1 again: loaded again
    expect(state.loads.filter((u) => u.includes('/podcasts/'))).toEqual([
      's3://artifacts/podcasts/v1/',
      's3://artifacts/podcasts/v2/',
      's3://artifacts/podcasts/v1/',
    ]);
    expect(state.loads.filter((u) => u.includes('/shortcuts/'))).toHaveLength(1);
  });

  it('takes a deploy into account within the endpoint TTL, not before', async () => {
    const { ports, state } = fakePorts();
    let t = NOW;
    const service = createHomeService(ports, { endpointTtlMs: 30_000 }, () => t);
    await service.home({ userId: 'u1' });
    state.endpoint = (shelf) => endpoint(shelf, { liveVersion: 'v2', previousVersion: 'v1' });
    t += 29_000;
    expect((await service.home({ userId: 'u1' })).shelves[1]?.modelVersion).toBe('v1');
    t += 2_000;
    expect((await service.home({ userId: 'u1' })).shelves[1]?.modelVersion).toBe('v2');
  });

  it('falls back to the heuristic, and says so, when S3 is unreachable', async () => {
    const { ports, state } = fakePorts();
    state.s3Down.add('*');
    const home = await new HomeService(ports, DEFAULT_SERVING_CONFIG, () => NOW).home({ userId: 'u1' });
    for (const shelf of home.shelves) {
      expect(shelf.variant).toBe('fallback');
      expect(shelf.modelVersion).toMatch(/^heuristic:/);
      expect(shelf.fallbackReason).toMatch(/model v1 could not be loaded: connect ECONNREFUSED/);
    }
    expect(home.shelves[0]?.items.map((i) => i.id)).toEqual(['s2']); // most recent first
  });

  it('serves the last loaded model, and says so, when a newly deployed version cannot be loaded', async () => {
    const { ports, state } = fakePorts();
    let t = NOW;
    const service = createHomeService(ports, { endpointTtlMs: 10 }, () => t);
    await service.home({ userId: 'u1' });
    state.endpoint = (shelf) => endpoint(shelf, { liveVersion: 'v2' });
    state.s3Down.add('v2');
    t += 1000;
    const [shortcuts, podcasts] = (await service.home({ userId: 'u1' })).shelves;
    expect(podcasts).toMatchObject({
      variant: 'fallback',
      modelVersion: 'v1',
      fallbackReason: 'model v2 could not be loaded: connect ECONNREFUSED 127.0.0.1:4568; serving the last loaded model',
    });
    expect(shortcuts?.items.map((i) => i.id).slice(0, 2)).toEqual(['s3', 'p1']); // v1's ranking, not the heuristic's most recent (s2)
  });

  it('retries a failed load on a later request', async () => {
    const { ports, state } = fakePorts();
    const service = createHomeService(ports, {}, () => NOW);
    state.s3Down.add('*');
    expect((await service.home({ userId: 'u1' })).shelves[1]?.variant).toBe('fallback');
    state.s3Down.clear();
    expect((await service.home({ userId: 'u1' })).shelves[1]?.variant).toBe('live');
  });

  it('keeps serving the last endpoint record and loaded model when DynamoDB and S3 become unreachable', async () => {
    const { ports, state } = fakePorts();
    let t = NOW;
    const service = new HomeService(ports, { ...DEFAULT_SERVING_CONFIG, endpointTtlMs: 10 }, () => t);
    await service.home({ userId: 'u1' });
    state.dynamoDown = true;
    state.s3Down.add('*');
    t += 60_000;
    const home = await service.home({ userId: 'u1' });
    expect(home.shelves[1]).toMatchObject({ variant: 'live', modelVersion: 'v1' });
  });

  it('falls back when the endpoint was never readable', async () => {
    const { ports, state } = fakePorts();
    state.dynamoDown = true;
    const home = await new HomeService(ports, DEFAULT_SERVING_CONFIG, () => NOW).home({ userId: 'u1' });
    expect(home.shelves[1]).toMatchObject({ variant: 'fallback', fallbackReason: 'the endpoint record could not be read' });
  });

  it('says so when no model is deployed yet', async () => {
    const { ports, state } = fakePorts();
    state.endpoint = (shelf) => endpoint(shelf, { liveVersion: null });
    const home = await createHomeService(ports, {}, () => NOW).home({ userId: 'u1' });
    expect(home.shelves.map((s) => s.fallbackReason)).toEqual(['no model deployed yet', 'no model deployed yet', 'no model deployed yet']);
  });

  it('makes a new show recommendable after the catalog refresh, without a retrain', async () => {
    const { ports, state } = fakePorts();
    let t = NOW;
    const service = createHomeService(ports, { catalogRefreshMs: 60_000 }, () => t);
    await service.home({ userId: 'u1' });
    state.data = { ...state.data, catalog: [...catalog, item('s-new', 'show', new Date(NOW + 30_000).toISOString())] };
    t += 61_000;
    await service.home({ userId: 'u1' }); // starts the refresh; this request serves the catalog it had
    t += 1_000;
    const podcasts = (await service.home({ userId: 'u1' })).shelves[1];
    expect(podcasts?.items.find((i) => i.id === 's-new')).toMatchObject({
      isNew: true,
      title: 'Title s-new',
      why: expect.stringMatching(/^new/),
    });
  });

  it('keeps serving the last catalog when a refresh fails', async () => {
    const { ports, state } = fakePorts();
    let t = NOW;
    const service = createHomeService(ports, { catalogRefreshMs: 1000 }, () => t);
    await service.home({ userId: 'u1' });
    state.dataDown = true;
    t += 5000;
    await service.home({ userId: 'u1' });
    expect((await service.home({ userId: 'u1' })).shelves[1]?.items.length).toBeGreaterThan(0);
  });

  it('uses the request context of a listener never seen', async () => {
    const { ports } = fakePorts();
    const home = await createHomeService(ports, {}, () => NOW).home({
      context: { country: 'BR', device: 'tv', localHour: 7, weekday: 1, onboardingGenres: ['news'] },
    });
    expect(home.userId).toMatch(/^anonymous-/);
    expect(home.shelves[1]?.items[0]?.why).toBe('popular with listeners who like news');
  });

  it('feature-logs every response in batches, and a failing sink does not fail the request', async () => {
    const { ports, state } = fakePorts();
    const service = createHomeService(ports, { requestLogBatch: 2 }, () => NOW);
    const first = await service.home({ userId: 'u1' });
    expect(state.logged).toHaveLength(0);
    await service.home({ userId: 'u1' });
    expect(state.logged.map((b) => b.length)).toEqual([2]);
    expect(state.logged[0]?.[0]).toMatchObject({
      requestId: first.requestId,
      userId: 'u1',
      transformVersion: first.transformVersion,
      at: new Date(NOW).toISOString(),
    });
    expect(state.logged[0]?.[0]?.features.length).toBeGreaterThan(0);
    expect(state.logged[0]?.[0]?.shelves[1]).toEqual({
      shelf: 'podcasts',
      modelVersion: 'v1',
      variant: 'live',
      items: first.shelves[1]?.items.map((i) => ({ id: i.id, score: i.score })),
    });
    ports.logRequests = async () => {
      throw new Error('firehose down');
    };
    await service.home({ userId: 'u1' });
    await expect(service.home({ userId: 'u1' })).resolves.toBeDefined();
    await service.home({ userId: 'u1' });
    await expect(service.flush()).resolves.toBeUndefined();
  });

  it('writes feedback and counts it per type', async () => {
    const { ports, state } = fakePorts();
    const e = (eventType: FeedbackEvent['eventType']): FeedbackEvent => ({
      userId: 'u1',
      itemId: 's1',
      eventType,
      timestamp: '2026-10-01T00:00:00Z',
      msPlayed: 0,
    });
    expect(await createHomeService(ports).events([e('impression'), e('play'), e('impression')])).toEqual({
      accepted: 3,
      counts: { impression: 2, play: 1 },
    });
    expect(state.feedback).toHaveLength(3);
  });

  it('gives the same shelves for the same request twice (deterministic apart from ids)', async () => {
    const a = await createHomeService(fakePorts().ports, {}, () => NOW).home({ userId: 'u1' });
    const b = await createHomeService(fakePorts().ports, {}, () => NOW).home({ userId: 'u1' });
    expect(b.shelves).toEqual(a.shelves);
  });
});
