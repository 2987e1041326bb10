/**
 * Staged rollout end to end on the local engines (dynalite, s3rver, the home API's own handlers):
 * a canary climbs 5% -> 25% -> 50% -> 100% with a powered check at each step, driven by simulated
 * listeners from the world's ground truth. A good model reaches 100%; a bad one is rolled back at the
 * first step; a model no better than live stops at a step and says why. Every step's online outcome
 * lands in the registry beside the version's offline metrics (versionHistory).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EndpointStore } from '../../lib/aws/endpoints.ts';
import { ModelRegistry } from '../../lib/aws/registry.ts';
import { formatS3Uri } from '../../lib/aws/s3-uri.ts';
import type { CatalogItem, DatasetManifest, ListeningEvent, User } from '../../lib/core/contract.ts';
import { requiredImpressions, type RolloutPolicy } from '../../lib/core/gate/rollout.ts';
import { fitBaseline } from '../../lib/core/models/fit.ts';
import { fitHybrid } from '../../lib/core/models/hybrid/index.ts';
import type { Recommender } from '../../lib/core/models/recommender.ts';
import { buildShelfData } from '../../lib/core/transforms/protocol.ts';
import { startLocalEngines, type LocalEngines } from '../../lib/local/engines.ts';
import { startLocalApi } from '../../lib/local/local-api.ts';
import { uploadDataset } from '../../lib/local/seed-data.ts';
import { writeArtifactUri } from '../../lib/pipeline/artifact-store.ts';
import { monitorCanaries, type MonitorOutcome } from '../../lib/serving/canary-monitor.ts';
import { loadTruth, type Truth } from '../../lib/sim/respond.ts';
import { runTraffic } from '../../lib/sim/traffic.ts';
import { generateWorld } from '../../lib/sim/world.ts';
import { ARTIFACTS_BUCKET, RAW_BUCKET } from '../../lib/wiring/resources.ts';

// A large minimum detectable effect keeps the test's traffic small: 60% relative of live's play rate.
const POLICY: RolloutPolicy = { steps: [0.05, 0.25, 0.5, 1], minDetectableEffect: 0.6, alpha: 0.05, power: 0.8, minImpressions: 100 };
const SHELF = 'podcasts';

let home: string;
let engines: LocalEngines;
let api: { url: string; close(): Promise<void> };
let truth: Truth;
let trafficSeed = 100;
const registry = () => new ModelRegistry();
const endpoints = () => new EndpointStore();
const monitor = async (): Promise<MonitorOutcome> =>
  (
    await monitorCanaries({
      registry: registry(),
      endpoints: endpoints(),
      rawBucket: RAW_BUCKET.localName,
      now: () => new Date(),
      rollout: POLICY,
    })
  ).find((o) => o.shelf === SHELF) as MonitorOutcome;

async function register(versionId: string, model: Recommender): Promise<void> {
  const uri = formatS3Uri(ARTIFACTS_BUCKET.localName, `manual/${versionId}/`);
  await writeArtifactUri(uri, model.save());
  await registry().putVersion({
    shelf: SHELF,
    versionId,
    runId: versionId,
    kind: model.kind,
    status: 'evaluated',
    artifactUri: uri,
    reportUri: formatS3Uri(ARTIFACTS_BUCKET.localName, `manual/${versionId}/report.html`),
    metrics: { 'ndcg@10': 0 },
    decision: { pass: true, reasons: ['registered by the rollout test'] },
    dataSnapshot: 'rollout-test',
    transformVersion: 'test',
    createdAt: new Date().toISOString(),
  });
}

/** Deploys `versionId` as a canary at the first step, then alternates traffic and monitor passes until a verdict. */
async function rollOut(versionId: string, rounds: number, stopOnHoldAt = 0.5): Promise<MonitorOutcome[]> {
  await endpoints().deployCandidate(SHELF, versionId, { canaryWeight: POLICY.steps[0] as number });
  const seen: MonitorOutcome[] = [];
  for (let round = 0; round < rounds; round++) {
    const { canaryWeight } = await endpoints().getEndpoint(SHELF);
    // About 200 canary impressions a round (ten items a shelf): a step's sample size in a round or two.
    await runTraffic({ url: api.url, truth, users: 1000, requests: Math.ceil(20 / canaryWeight), seed: trafficSeed++ });
    const outcome = await monitor();
    seen.push(outcome);
    if (outcome.action === 'promote' || outcome.action === 'rollback') break;
    if (outcome.action === 'hold' && canaryWeight >= stopOnHoldAt) break;
  }
  return seen;
}

const lines = async <T>(f: string): Promise<T[]> =>
  (await readFile(f, 'utf8'))
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as T);

beforeAll(async () => {
  process.env.LOG_LEVEL = 'ERROR';
  process.env.ENDPOINT_CACHE_SECONDS = '0';
  home = await mkdtemp(join(tmpdir(), 'shelves-rollout-'));
  engines = await startLocalEngines({ home });
  const world = join(home, 'world');
  const manifest: DatasetManifest = await generateWorld(world, { users: 1000, days: 28, seed: 21, start: '2026-09-01' });
  await uploadDataset(world, RAW_BUCKET.localName);
  truth = await loadTruth(world);
  const events: ListeningEvent[] = [];
  for (const p of manifest.partitions) for (const f of p.files) events.push(...(await lines<ListeningEvent>(join(world, f))));
  const data = buildShelfData(SHELF, {
    events,
    catalog: await lines<CatalogItem>(join(world, 'catalog', 'catalog.jsonl')),
    users: await lines<User>(join(world, 'users', 'users.jsonl')),
    cutoff: Date.parse(manifest.end),
    testDays: 7,
    snapshot: 'rollout-test',
  });
  // Live: recent popularity. Good: the hybrid model. Bad: a random ranking. Same: live's model again.
  await register('podcasts-live', fitBaseline('recent-popularity', data.train, 7));
  await register('podcasts-good', fitHybrid(data.train, { epochs: 15, seed: 7, identityDropout: 0.2 }));
  await register('podcasts-bad', fitBaseline('random', data.train, 7));
  await register('podcasts-same', fitBaseline('recent-popularity', data.train, 7));
  await endpoints().deployCandidate(SHELF, 'podcasts-live', { canaryWeight: 0.05 });
  api = await startLocalApi();
}, 240_000);

afterAll(async () => {
  await api?.close();
  await engines?.stop();
  if (home) await rm(home, { recursive: true, force: true });
});

describe('staged rollout with simulated listeners', () => {
  it('sizes each check from the minimum detectable effect (two-proportion power calculation)', () => {
    // At a 25% play rate, detecting a 60% relative change (25% -> 40%) at alpha 0.05, power 0.8.
    expect(requiredImpressions(0.25, POLICY)).toBe(152);
  });

  it('rolls a bad model back at the first step, recording why', async () => {
    const seen = await rollOut('podcasts-bad', 4);
    expect(seen.at(-1)?.action).toBe('rollback');
    expect(seen.every((o) => o.action === 'wait' || o.action === 'rollback')).toBe(true);
    expect(seen.at(-1)?.reason).toMatch(/rollout step 0: at 5\.00% of traffic: canary is significantly worse than live/);
    const endpoint = await endpoints().getEndpoint(SHELF);
    expect(endpoint).toMatchObject({ liveVersion: 'podcasts-live', canaryVersion: null, canaryWeight: 0 });
    expect(endpoint.rolloutStep).toBeUndefined();
    expect((await registry().getVersion(SHELF, 'podcasts-bad'))?.status).toBe('rolled-back');
  }, 600_000);

  it('stops a model no better than live at a step and says why', async () => {
    const seen = await rollOut('podcasts-same', 8);
    const last = seen.at(-1);
    expect(last?.action).toBe('hold');
    expect(seen.some((o) => o.action === 'advance')).toBe(true);
    expect(last?.reason).toMatch(/at 50\.00% of traffic: holding, canary is no better than live/);
    const endpoint = await endpoints().getEndpoint(SHELF);
    expect(endpoint).toMatchObject({ liveVersion: 'podcasts-live', canaryVersion: 'podcasts-same', canaryWeight: 0.5, rolloutStep: 2 });
    const events = await registry().listEvents(SHELF);
    expect(events.filter((e) => e.action === 'rollout-advance').map((e) => e.version)).toEqual(['podcasts-same', 'podcasts-same']);
    expect(events.at(-1)).toMatchObject({ action: 'rollout-hold', version: 'podcasts-same' });
    // Clear the stage for the next model, as an operator would.
    await endpoints().rollbackCanary(SHELF);
  }, 600_000);

  it('takes a good model through every step to 100%', async () => {
    // A hold at 50% is not the end for a good model: more data at that step may still show the gain.
    const seen = await rollOut('podcasts-good', 10, Number.POSITIVE_INFINITY);
    expect(seen.at(-1)?.action).toBe('promote');
    expect(seen.filter((o) => o.action === 'advance')).toHaveLength(2);
    expect(seen.at(-1)?.reason).toMatch(/at 50\.00% of traffic: canary is significantly better than live/);
    const endpoint = await endpoints().getEndpoint(SHELF);
    expect(endpoint).toMatchObject({ liveVersion: 'podcasts-good', canaryVersion: null, previousVersion: 'podcasts-live' });
  }, 600_000);

  it('answers offline and online per version from one registry query', async () => {
    const history = await registry().versionHistory(SHELF);
    const good = history.find((h) => h.version.versionId === 'podcasts-good');
    expect(good?.version.metrics['ndcg@10']).toBe(0);
    // One period per step the canary went through, each with its Wilson interval around the rate.
    expect(good?.online.filter((o) => o.variant === 'canary').map((o) => o.canaryWeight)).toEqual([0.05, 0.25, 0.5]);
    for (const o of good?.online ?? []) {
      expect(o.playRate).toBeCloseTo(o.plays / o.impressions, 12);
      expect(o.lo).toBeLessThanOrEqual(o.playRate);
      expect(o.hi).toBeGreaterThanOrEqual(o.playRate);
    }
    const live = history.find((h) => h.version.versionId === 'podcasts-live');
    expect(live?.online.every((o) => o.variant === 'live')).toBe(true);
    expect(good?.onlineTotal.playRate).toBeGreaterThan(live?.onlineTotal.playRate ?? 1);
    expect((await registry().listVersions(SHELF)).map((v) => v.versionId)).toEqual([
      'podcasts-bad',
      'podcasts-good',
      'podcasts-live',
      'podcasts-same',
    ]);
  });
});
