/**
 * Train/serve skew end to end on the local engines: serving logs the features of every response; the
 * next pipeline run recomputes the logged users' features with its own transforms and measures the
 * mismatch per feature. Real serving logs match the pipeline exactly; after one transform changes on
 * the serving side only, the run reports the skew on that feature and the gate refuses the run.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatS3Uri, getObjectBytes, putObjectBytes } from '../../lib/aws/s3-uri.ts';
import { requestUserFeatures } from '../../lib/core/transforms/entities.ts';
import { buildShelfData } from '../../lib/core/transforms/protocol.ts';
import type { Feature } from '../../lib/core/models/recommender.ts';
import { startLocalEngines, type LocalEngines } from '../../lib/local/engines.ts';
import { startLocalApi } from '../../lib/local/local-api.ts';
import { runShelfPipeline } from '../../lib/local/pipeline.ts';
import { uploadDataset } from '../../lib/local/seed-data.ts';
import { fetchChannel } from '../../lib/pipeline/data-steps.ts';
import { measureServingSkew, readRequestLog } from '../../lib/pipeline/skew-step.ts';
import type { RequestLogRecord } from '../../lib/serving/ports.ts';
import { loadTruth } from '../../lib/sim/respond.ts';
import { runTraffic } from '../../lib/sim/traffic.ts';
import { generateWorld } from '../../lib/sim/world.ts';
import { PREFIXES, RAW_BUCKET } from '../../lib/wiring/resources.ts';

let home: string;
let engines: LocalEngines;
let api: { url: string; close(): Promise<void> };
const RAW = formatS3Uri(RAW_BUCKET.localName, '');
const pipeline = (runId: string) =>
  runShelfPipeline({ shelf: 'podcasts', runId, hyperparameters: { epochs: '12' } }, { home, trainingLog: () => undefined });

beforeAll(async () => {
  process.env.LOG_LEVEL = 'ERROR';
  process.env.ENDPOINT_CACHE_SECONDS = '0';
  home = await mkdtemp(join(tmpdir(), 'shelves-skew-'));
  engines = await startLocalEngines({ home });
  const world = join(home, 'world');
  await generateWorld(world, { users: 2000, days: 35, seed: 9, start: '2026-09-01' });
  await uploadDataset(world, RAW_BUCKET.localName);
  const first = await pipeline('skew1');
  expect(first.outcome, JSON.stringify(first.evaluation?.decision ?? first.error)).toBe('deployed');
  expect(first.evaluation?.decision.reasons.join('\n')).toMatch(/train\/serve skew not judged: 0 logged requests could be compared/);
  api = await startLocalApi();
  await runTraffic({ url: api.url, truth: await loadTruth(world), users: 300, requests: 200, seed: 5 });
}, 300_000);

afterAll(async () => {
  await api?.close();
  await engines?.stop();
  if (home) await rm(home, { recursive: true, force: true });
});

describe('train/serve skew', () => {
  it("finds no skew between serving's logged features and the pipeline's transforms", async () => {
    const channel = await fetchChannel('s3://home-shelves-features/runs/podcasts/skew1/train/');
    const data = buildShelfData('podcasts', {
      events: channel.events,
      catalog: channel.catalog,
      users: channel.users,
      cutoff: channel.meta.cutoff,
      testDays: channel.meta.testDays,
      snapshot: 'skew-test',
    });
    const skew = await measureServingSkew(RAW, {
      userFeatures: data.userFeatures,
      users: data.train.users ?? new Map(),
      transformVersion: channel.meta.transformVersion,
    });
    expect(skew.requests).toBeGreaterThanOrEqual(190);
    expect(skew.compared).toBeGreaterThan(150);
    expect(Object.keys(skew.features)).toEqual(expect.arrayContaining(['country', 'device', 'genre']));
    for (const [feature, s] of Object.entries(skew.features)) expect([feature, s.mismatches]).toEqual([feature, 0]);
  }, 120_000);

  it('reports the skew of a transform changed on the serving side only, and the gate refuses the run', async () => {
    // A serving fleet whose country transform lower-cases the code (training still upper-cases): the
    // same users' requests, logged by the changed transform in the request log's own layout.
    const served = (await readRequestLog(RAW)).requests;
    const changedCountry = (features: readonly Feature[]): Feature[] =>
      features.map(([name, value]) => (name.startsWith('country:') ? [`country:${name.slice(8).toLowerCase()}`, value] : [name, value]));
    expect(changedCountry(requestUserFeatures({ country: 'SE', device: 'mobile' }))[0]).toEqual(['country:se', 1]);
    const injected: RequestLogRecord[] = served.slice(0, 100).map((r) => ({
      requestId: `${r.requestId}-changed`,
      userId: r.userId,
      at: new Date(r.at).toISOString(),
      transformVersion: 'serving-country-lowercase',
      features: changedCountry(r.features),
      shelves: [],
    }));
    await putObjectBytes(
      formatS3Uri(RAW_BUCKET.localName, `${PREFIXES.requestLogs}dt=${injected[0]?.at.slice(0, 10)}/changed-transform.jsonl`),
      `${injected.map((r) => JSON.stringify(r)).join('\n')}\n`,
    );
    const second = await pipeline('skew2');
    expect(second.outcome).toBe('rejected');
    const reasons = second.evaluation?.decision.reasons ?? [];
    expect(reasons).toContainEqual(
      expect.stringMatching(
        /^train\/serve skew: feature "country" differs in \d+\.\d% of \d+ logged requests \(served country:[a-z]{2}=1, this run computes country:[A-Z]{2}=1\); at most 1\.0% is allowed$/,
      ),
    );
    // Only the changed feature is blamed.
    expect(reasons.filter((r) => r.startsWith('train/serve skew: feature'))).toHaveLength(1);
    const report = Buffer.from(await getObjectBytes(second.evaluation?.reportUri ?? '')).toString('utf8');
    expect(report).toContain('<h2>Train/serve skew</h2>');
    expect(report).toMatch(/serving-country-lowercase \(100\)/);
  }, 300_000);
});
