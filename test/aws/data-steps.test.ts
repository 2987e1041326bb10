/** The pipeline's BuildFeatures step on a real s3rver: events are checked against the current catalog. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { joinS3Uri, putObjectBytes } from '../../lib/aws/s3-uri.ts';
import { shardFileName } from '../../lib/pipeline/channel.ts';
import { buildPartitionFeatures, readEventsObject } from '../../lib/pipeline/data-steps.ts';
import type { RunContext } from '../../lib/wiring/pipeline.ts';
import { startTestEngines } from './local-engines.ts';

const RAW = 's3://home-shelves-raw/data';
const run: RunContext = {
  shelf: 'podcasts',
  runId: 'run-1',
  versionId: 'v1',
  trainingJobName: 'job-1',
  rawPrefix: RAW,
  featuresPrefix: 's3://home-shelves-features/run-1',
  artifactsPrefix: 's3://home-shelves-artifacts/run-1',
  hyperparameters: {},
  alreadyDone: false,
};
const plan = { catalogUri: `${RAW}/catalog/`, usersUri: `${RAW}/users/`, cutoff: Date.parse('2026-10-10T00:00:00Z') };
const partition = { dt: '2026-10-01', uri: `${RAW}/events/dt=2026-10-01/` };
const config = { rejectLimit: 0.9, now: () => Date.parse('2026-11-01T00:00:00Z') };

const item = (itemId: string) => ({
  itemId,
  type: 'show',
  title: itemId,
  categories: ['news'],
  publisher: 'p',
  language: 'en',
  publishedAt: '2026-09-01T00:00:00Z',
});
const event = (itemId: string) => ({
  userId: 'u1',
  itemId,
  eventType: 'play',
  msPlayed: 60_000,
  progress: 0.5,
  timestamp: '2026-10-01T08:00:00Z',
  device: 'mobile',
  country: 'SE',
  localHour: 8,
});
const lines = (rows: object[]) => `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`;

describe('buildPartitionFeatures', () => {
  let engines: Awaited<ReturnType<typeof startTestEngines>>;
  beforeAll(async () => {
    engines = await startTestEngines();
    await putObjectBytes(`${RAW}/catalog/catalog.jsonl`, lines([item('a'), item('b')]));
    await putObjectBytes(`${partition.uri}events.jsonl`, lines([event('a'), event('c')]));
  });
  afterAll(async () => engines.cleanup());

  it('rejects events of items the catalog lacks, and accepts them once the catalog lists them', async () => {
    const before = await buildPartitionFeatures(run, plan, partition, config);
    expect(before.report).toMatchObject({ read: 2, accepted: 1, rejected: 1, rejectedByReason: { 'unknown-item': 1 } });
    // The same catalog again (read once per catalog content), then a changed catalog: never a stale one.
    expect((await buildPartitionFeatures(run, plan, partition, config)).report.rejected).toBe(1);
    await putObjectBytes(`${RAW}/catalog/catalog.jsonl`, lines([item('a'), item('b'), item('c')]));
    const after = await buildPartitionFeatures(run, plan, partition, config);
    expect(after.report).toMatchObject({ read: 2, accepted: 2, rejected: 0 });
    let clean = 0;
    for (let k = 0; k < after.shards; k++)
      clean += (await readEventsObject(joinS3Uri(after.cleanUri, shardFileName(k, after.shards)))).events.length;
    expect(clean).toBe(2);
  });
});
