/**
 * The data steps on a real s3rver: clean partitions as Parquet listener shards keyed by content,
 * channels built by server-side copies with only straddling partitions read, and PublishServingState
 * reading its own shard's files.
 */
import { DeleteObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3Client } from '../../lib/aws/clients.ts';
import { copyObject, getObjectBytes, joinS3Uri, listKeys, parseS3Uri, putObjectBytes } from '../../lib/aws/s3-uri.ts';
import { UserStateStore, type BatchUserState } from '../../lib/aws/user-state.ts';
import type { ListeningEvent } from '../../lib/core/contract.ts';
import { eventAt, type EventColumns } from '../../lib/io/event-columns.ts';
import { shardFileName } from '../../lib/pipeline/channel.ts';
import {
  buildPartitionFeatures,
  listenerShards,
  openChannel,
  planFeatures,
  planLocations,
  readEventsObject,
  validateData,
} from '../../lib/pipeline/data-steps.ts';
import { publishServingState, shardFilesOf, shardOf } from '../../lib/pipeline/serving-state.ts';
import {
  PartitionRefSchema,
  type FeaturePlan,
  type MapRunResults,
  type PartitionResult,
  type RunContext,
} from '../../lib/wiring/pipeline.ts';
import { startTestEngines } from '../aws/local-engines.ts';

const RAW = 's3://home-shelves-raw/data';
const ARTIFACTS = 'home-shelves-artifacts';
const DAY = 86_400_000;
const runOf = (shelf: 'podcasts' | 'playlists', runId: string): RunContext => ({
  shelf,
  runId,
  versionId: 'v1',
  trainingJobName: `job-${runId}`,
  rawPrefix: RAW,
  featuresPrefix: `s3://home-shelves-features/runs/${shelf}/${runId}/`,
  artifactsPrefix: `s3://${ARTIFACTS}/runs/${shelf}/${runId}/`,
  hyperparameters: {},
  alreadyDone: false,
});
// Podcasts test 7 days: the cut-off is 2026-10-02T12:00Z, so 10-01 trains, 10-02 straddles, 10-05 evaluates.
const CUTOFF = Date.parse('2026-10-02T12:00:00Z');
const DTS = ['2026-10-01', '2026-10-02', '2026-10-05'];
const plan: FeaturePlan = {
  manifestKey: 'runs/podcasts/r1/plan/partitions.json',
  resultsPrefix: 'runs/podcasts/r1/build-features',
  partitionCount: DTS.length,
  window: { from: DTS[0] as string, to: DTS[2] as string, days: 30 },
  catalogUri: `${RAW}/catalog/`,
  usersUri: `${RAW}/users/`,
  cutoff: CUTOFF,
  servingShards: 8,
};
const config = { rejectLimit: 0.5, now: () => Date.parse('2026-11-01T00:00:00Z') };
const USERS = Array.from({ length: 40 }, (_, i) => `u${i}`);

const item = (itemId: string) => ({
  itemId,
  type: 'show',
  title: itemId,
  categories: ['news'],
  publisher: 'p',
  language: 'en',
  publishedAt: '2026-09-01T00:00:00Z',
});
/** 120 events of a day, two per hour-and-user pattern, a few invalid rows among them. */
function dayEvents(dt: string): object[] {
  const rows: object[] = [];
  for (let i = 0; i < 120; i++)
    rows.push({
      userId: USERS[(i * 7) % USERS.length],
      itemId: `i${i % 5}`,
      eventType: i % 3 === 0 ? 'skip' : 'play',
      msPlayed: 1000 * i,
      progress: (i % 10) / 10,
      timestamp: new Date(Date.parse(`${dt}T00:00:00Z`) + i * 12 * 60_000).toISOString(),
      device: 'mobile',
      country: 'SE',
      localHour: Math.floor((i * 12) / 60) % 24,
    });
  rows.splice(10, 0, { userId: 'u1', itemId: 'i1' });
  rows.splice(50, 0, { ...(rows[3] as object), itemId: 'not-in-catalog' });
  return rows;
}
const lines = (rows: object[]) => `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`;
const validOf = (dt: string) =>
  (dayEvents(dt) as Partial<ListeningEvent>[]).filter((r) => r.device !== undefined && r.itemId !== 'not-in-catalog') as ListeningEvent[];
const asEvents = (c: EventColumns) => Array.from({ length: c.length }, (_, i) => eventAt(c, i));

/** Writes a Distributed Map's ResultWriter output (manifest + SUCCEEDED file) for these partition results. */
async function writeMapRun(results: PartitionResult[], prefix: string): Promise<MapRunResults> {
  const entries = results.map((r) => ({
    ExecutionArn: `arn:${r.dt}`,
    Name: r.dt,
    Status: 'SUCCEEDED',
    Input: JSON.stringify({ partition: { dt: r.dt } }),
    Output: JSON.stringify(r),
    StartDate: '2026-11-01T00:00:00Z',
    StopDate: '2026-11-01T00:00:01Z',
  }));
  await putObjectBytes(`s3://${ARTIFACTS}/${prefix}/SUCCEEDED_0.json`, JSON.stringify(entries));
  const manifest = {
    DestinationBucket: ARTIFACTS,
    MapRunArn: 'arn:map',
    ResultFiles: { SUCCEEDED: [{ Key: `${prefix}/SUCCEEDED_0.json`, Size: 1 }], FAILED: [], PENDING: [] },
  };
  await putObjectBytes(`s3://${ARTIFACTS}/${prefix}/manifest.json`, JSON.stringify(manifest));
  return { Bucket: ARTIFACTS, Key: `${prefix}/manifest.json` };
}

const etagOf = async (uri: string) => {
  const { bucket, key } = parseS3Uri(uri);
  return (await s3Client().send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).ETag;
};

describe('listener shard counts', () => {
  it('are powers of two, one per 8 MB of raw events, at most 8 (a million listeners keep 8)', () => {
    expect([0, 60_000, 8 * 2 ** 20, 8 * 2 ** 20 + 1, 20e6, 40e6, 64 * 2 ** 20, 180e6].map((b) => listenerShards(b))).toEqual([
      1, 1, 1, 2, 4, 8, 8, 8,
    ]);
  });

  it("name the files that hold a task's listeners, and whether to filter them", () => {
    expect(shardFilesOf(3, 8, 8)).toEqual({ files: [3], filter: false });
    expect(shardFilesOf(1, 2, 8)).toEqual({ files: [1, 3, 5, 7], filter: false });
    expect(shardFilesOf(5, 8, 2)).toEqual({ files: [1], filter: true });
    expect(shardFilesOf(0, 1, 4)).toEqual({ files: [0, 1, 2, 3], filter: false });
    expect(shardFilesOf(2, 3, 2)).toEqual({ files: [0, 1], filter: true });
    // The nesting those rely on: a listener of shard s among 8 is in file s mod 2 of a 2-way split.
    for (let u = 0; u < 200; u++) expect(shardOf(`u${u}`, 8) % 2).toBe(shardOf(`u${u}`, 2));
  });
});

describe('clean partitions, channels and serving state from Parquet listener shards', () => {
  let engines: Awaited<ReturnType<typeof startTestEngines>>;
  const results: PartitionResult[] = [];
  beforeAll(async () => {
    engines = await startTestEngines();
    await putObjectBytes(`${RAW}/catalog/catalog.jsonl`, lines(['i0', 'i1', 'i2', 'i3', 'i4'].map(item)));
    await putObjectBytes(
      `${RAW}/users/users.jsonl`,
      lines(
        USERS.map((userId) => ({
          userId,
          country: 'SE',
          signupAt: '2026-01-01T00:00:00Z',
          onboardingGenres: [],
          device: 'tv',
          ageBand: 'unknown',
        })),
      ),
    );
    for (const dt of DTS) await putObjectBytes(`${RAW}/events/dt=${dt}/part-0.jsonl`, lines(dayEvents(dt)));
  });
  afterAll(async () => engines.cleanup());

  it('copies an object server-side on s3rver (CopyObject), keys with "=" included', async () => {
    const from = 's3://home-shelves-features/copy/dt=2026-10-01/a.bin';
    const to = 's3://home-shelves-features/copy2/dt=2026-10-01/b.bin';
    const bytes = Uint8Array.from({ length: 5000 }, (_, i) => i % 251);
    await putObjectBytes(from, bytes);
    await copyObject(from, to);
    expect(Buffer.from(await getObjectBytes(to)).equals(Buffer.from(bytes))).toBe(true);
    expect(await etagOf(to)).toBe(await etagOf(from));
  });

  it('writes each partition as listener shards whose events, merged by row, are the valid rows in their order', async () => {
    for (const dt of DTS)
      results.push(await buildPartitionFeatures(runOf('podcasts', 'r1'), plan, { dt, uri: `${RAW}/events/dt=${dt}/` }, config));
    const first = results[0] as PartitionResult;
    expect(first.report).toMatchObject({
      read: 122,
      accepted: 120,
      rejected: 2,
      rejectedByReason: { 'invalid-value': 1, 'unknown-item': 1 },
    });
    expect(first.report.rejectsUri).toMatch(/^s3:\/\/home-shelves-features\/runs\/_clean\/[0-9a-f]{24}\/dt=2026-10-01\/rejects\.jsonl$/);
    const merged: { row: number; event: ListeningEvent }[] = [];
    for (let k = 0; k < first.shards; k++) {
      const { events, row } = await readEventsObject(joinS3Uri(first.cleanUri, shardFileName(k, first.shards)));
      for (let i = 0; i < events.length; i++) {
        expect(shardOf(events.userId[i] as string, first.shards)).toBe(k);
        merged.push({ row: row[i] as number, event: eventAt(events, i) });
      }
    }
    merged.sort((a, b) => a.row - b.row);
    expect(merged.map((m) => m.event)).toEqual(validOf(DTS[0] as string));
    expect(first.from).toBe(Date.parse('2026-10-01T00:00:00Z'));
    expect(first.to).toBe(Date.parse('2026-10-01T00:00:00Z') + 119 * 12 * 60_000);
  });

  it("lets another shelf's run reuse a clean partition, and builds a changed raw file or catalog afresh", async () => {
    const partition = { dt: DTS[0] as string, uri: `${RAW}/events/dt=${DTS[0]}/` };
    const again = await buildPartitionFeatures(runOf('playlists', 'r9'), plan, partition, config);
    expect(again).toEqual({ ...results[0], reused: true });
    await putObjectBytes(`${RAW}/events/dt=${DTS[0]}/part-1.jsonl`, lines(validOf(DTS[0] as string).slice(0, 3)));
    const changed = await buildPartitionFeatures(runOf('playlists', 'r9'), plan, partition, config);
    expect(changed.reused).toBeUndefined();
    expect(changed.cleanUri).not.toBe(results[0]?.cleanUri);
    expect(changed.report.accepted).toBe(123);
    await s3Client().send(new DeleteObjectCommand({ Bucket: 'home-shelves-raw', Key: `data/events/dt=${DTS[0]}/part-1.jsonl` }));
    expect((await buildPartitionFeatures(runOf('playlists', 'r9'), plan, partition, config)).reused).toBe(true);
    const otherLimit = await buildPartitionFeatures(runOf('playlists', 'r9'), plan, partition, { ...config, rejectLimit: 0.4 });
    expect(otherLimit.cleanUri).not.toBe(results[0]?.cleanUri);
  });

  it('builds the channels by copying whole partitions and splitting only the one that straddles the cut-off', async () => {
    const run = runOf('podcasts', 'r1');
    const mapRun = await writeMapRun(results, 'runs/podcasts/r1/build-features/map1');
    const data = await validateData(run, plan, mapRun, config);
    const all = DTS.flatMap((dt) => validOf(dt));
    const expectedTrain = all.filter((e) => Date.parse(e.timestamp) < CUTOFF);
    const expectedEval = all.filter((e) => Date.parse(e.timestamp) >= CUTOFF && Date.parse(e.timestamp) < CUTOFF + 7 * DAY);
    expect(expectedTrain.length).toBeGreaterThan(120);
    expect(expectedEval.length).toBeGreaterThan(120);
    expect(data.counts).toMatchObject({
      trainEvents: expectedTrain.length,
      evalEvents: expectedEval.length,
      events: 366,
      rejectedEvents: 6,
    });
    for (const [uri, expected] of [
      [data.trainUri, expectedTrain],
      [data.evalUri, expectedEval],
    ] as const) {
      const channel = await openChannel(uri);
      try {
        expect(channel.eventCount).toBe(expected.length);
        const got: ListeningEvent[] = [];
        const dts: string[] = [];
        await channel.forEachBatch((batch, dt) => {
          dts.push(dt);
          got.push(...asEvents(batch));
        });
        expect(got).toEqual(expected);
        expect(dts).toEqual(uri === data.trainUri ? DTS.slice(0, 2) : DTS.slice(1));
        expect(channel.users).toHaveLength(USERS.length);
      } finally {
        await channel.close();
      }
    }
    // Whole partitions are server-side copies of the clean shard files (same bytes, same ETag).
    const name = shardFileName(0, results[0]?.shards ?? 0);
    expect(await etagOf(joinS3Uri(data.trainUri, 'events', `dt=${DTS[0]}`, name))).toBe(
      await etagOf(joinS3Uri(results[0]?.cleanUri ?? '', name)),
    );
    expect(await etagOf(joinS3Uri(data.evalUri, 'events', `dt=${DTS[2]}`, name))).toBe(
      await etagOf(joinS3Uri(results[2]?.cleanUri ?? '', name)),
    );
  });

  it("publishes a shard's listeners from that shard's files alone", async () => {
    const shards = (results[0] as PartitionResult).shards;
    const shard = 3;
    // Remove every other shard's files: the task must not need them.
    for (const r of results) {
      const { bucket } = parseS3Uri(r.cleanUri);
      for (const key of await listKeys(r.cleanUri))
        if (key.endsWith('.parquet') && !key.endsWith(shardFileName(shard, shards)))
          await s3Client().send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    }
    const mapRun = await writeMapRun(results, 'runs/podcasts/r1/build-features/map2');
    const store = new UserStateStore();
    const out = await publishServingState(
      { run: runOf('podcasts', 'r1'), plan, partitions: mapRun, baselines: { baselines: [] }, shard, shards },
      store,
    );
    const mine = USERS.filter((u) => shardOf(u, shards) === shard);
    expect(mine.length).toBeGreaterThan(0);
    expect(out.users).toBe(mine.length);
    const user = mine[0] as string;
    const state = await store.get(user);
    const expected = DTS.flatMap((dt) => validOf(dt)).filter((e) => e.userId === user);
    expect(expected).toHaveLength(9);
    expect(state?.history.map((h) => [h.itemId, h.ts, h.msPlayed])).toEqual(
      expected.map((e) => [e.itemId, Date.parse(e.timestamp), e.msPlayed]),
    );
    expect(state?.user?.userId).toBe(user);
  });

  it('does not overwrite newer listener state with a run whose data ends earlier (a backtest)', async () => {
    const shards = (results[0] as PartitionResult).shards;
    const shard = 2;
    const marker = `s3://${ARTIFACTS}/serving/user-state/2026-12-31-0f/shard-${shard}-of-${shards}.done`;
    await putObjectBytes(marker, '{}', 'application/json');
    try {
      const store = new UserStateStore();
      const out = await publishServingState(
        {
          run: runOf('podcasts', 'r2'),
          plan,
          partitions: await writeMapRun(results, 'runs/podcasts/r2/build-features/map3'),
          baselines: { baselines: [] },
          shard,
          shards,
        },
        store,
      );
      expect(out.users).toBe(0);
      const user = USERS.find((u) => shardOf(u, shards) === shard) as string;
      expect(await store.get(user)).toBeUndefined();
    } finally {
      const { bucket, key } = parseS3Uri(marker);
      await s3Client().send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    }
  });

  it('sizes listener shards from raw bytes, and publishes the same listener state whatever count the partitions were split into', async () => {
    const run = runOf('podcasts', 'r5');
    const readPlan = async () =>
      PartitionRefSchema.array().parse(JSON.parse(Buffer.from(await getObjectBytes(planLocations(run).manifestUri)).toString('utf8')));
    // Each raw day is ~27 kB: one shard by default, four at 10 kB a shard, the cap (8) at 1 kB.
    const small = await planFeatures(run);
    expect(small.servingShards).toBe(1);
    expect((await readPlan()).map((p) => [p.dt, p.shards])).toEqual(DTS.map((dt) => [dt, 1]));
    expect((await planFeatures(run, { bytesPerShard: 10_000 })).servingShards).toBe(4);
    expect((await readPlan()).map((p) => p.shards)).toEqual([4, 4, 4]);
    expect((await planFeatures(run, { bytesPerShard: 1000 })).servingShards).toBe(8);

    const single: PartitionResult[] = [];
    const four: PartitionResult[] = [];
    for (const dt of DTS) {
      single.push(await buildPartitionFeatures(run, plan, { dt, uri: `${RAW}/events/dt=${dt}/`, shards: 1 }, config));
      four.push(await buildPartitionFeatures(run, plan, { dt, uri: `${RAW}/events/dt=${dt}/`, shards: 4 }, config));
    }
    expect(single.map((r) => r.shards)).toEqual([1, 1, 1]);
    expect((await listKeys(single[0]?.cleanUri ?? '')).filter((k) => k.endsWith('.parquet'))).toEqual([
      expect.stringMatching(/shard-0-of-1\.parquet$/),
    ]);
    expect(four.map((r) => r.shards)).toEqual([4, 4, 4]);
    // One-file partitions read by 4 tasks (each filters its listeners), four-file partitions by 2 tasks
    // (each reads the 2 files of its listeners, unfiltered). The store records what each case writes.
    class RecordingStore extends UserStateStore {
      readonly written = new Map<string, BatchUserState>();
      override async putBatch(states: Iterable<BatchUserState>, batchEnd: number, runId: string): Promise<number> {
        const all = [...states];
        for (const state of all) this.written.set(state.userId, state);
        return super.putBatch(all, batchEnd, runId);
      }
    }
    const cases = [
      { parts: single, shards: 4, prefix: 'runs/podcasts/r5/build-features/single' },
      { parts: four, shards: 2, prefix: 'runs/podcasts/r5/build-features/four' },
    ];
    for (const { parts, shards, prefix } of cases) {
      const store = new RecordingStore();
      const partitions = await writeMapRun(parts, prefix);
      let users = 0;
      for (let shard = 0; shard < shards; shard++)
        users += (await publishServingState({ run, plan, partitions, baselines: { baselines: [] }, shard, shards }, store)).users;
      expect(users).toBe(USERS.length);
      expect(store.written.size).toBe(USERS.length);
      for (const user of USERS) {
        const expected = DTS.flatMap((dt) => validOf(dt)).filter((e) => e.userId === user);
        expect(store.written.get(user)?.history.map((h) => [h.itemId, h.ts])).toEqual(
          expected.map((e) => [e.itemId, Date.parse(e.timestamp)]),
        );
      }
    }
  });
});
