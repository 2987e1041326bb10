/**
 * The SageMaker training entrypoint (lib/train/sagemaker-entrypoint.ts) run as the container runs it,
 * through the local SageMaker runner: a training channel in the local S3 (s3rver), hyperparameters as
 * strings, the artifact in model/ and the reason of a failure in output/failure. The channel is laid
 * out as ValidateData writes it (meta.json, catalog and users as JSON Lines, events as Parquet by day).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { putObjectBytes } from '../../lib/aws/s3-uri.ts';
import type { CatalogItem, ListeningEvent, User } from '../../lib/core/contract.ts';
import { toEpochMs } from '../../lib/core/contract.ts';
import { fitEase } from '../../lib/core/models/ease/index.ts';
import { loadRecommender } from '../../lib/core/models/load.ts';
import { buildShelfData } from '../../lib/core/transforms/protocol.ts';
import { TRANSFORM_VERSION } from '../../lib/core/transforms/version.ts';
import { SHELF_CONFIG, shelfHybridSettings } from '../../lib/core/shelf-settings.ts';
import { TrainingHyperparametersSchema } from '../../lib/train/sagemaker-entrypoint.ts';
import { readArtifactDir } from '../../lib/io/artifact-files.ts';
import { EventColumnsBuilder } from '../../lib/io/event-columns.ts';
import { encodeEventsParquet } from '../../lib/io/parquet-events.ts';
import { startLocalEngines, type LocalEngines } from '../../lib/local/engines.ts';
import { TrainingJobFailedError, runTrainingJob } from '../../lib/local/sagemaker-runner.ts';
import { CHANNEL_EVENTS_DIR, CHANNEL_FILES, shardFileName, toJsonLines, type ChannelMeta } from '../../lib/pipeline/channel.ts';
import { generateWorld } from '../../lib/sim/world.ts';

const DAY = 86_400_000;
const CHANNEL = 's3://home-shelves-features/entrypoint/train/';
const TEST_DAYS = 7;

const lines = async <T>(file: string): Promise<T[]> =>
  (await readFile(file, 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as T);

function request(name: string, hyperParameters: Record<string, string>) {
  return {
    TrainingJobName: name,
    AlgorithmSpecification: { TrainingImage: 'local', TrainingInputMode: 'File' },
    RoleArn: 'arn:aws:iam::000000000000:role/local',
    HyperParameters: hyperParameters,
    InputDataConfig: [{ ChannelName: 'train', DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: CHANNEL } } }],
    OutputDataConfig: { S3OutputPath: 's3://home-shelves-artifacts/models/' },
    StoppingCondition: { MaxRuntimeInSeconds: 300 },
  };
}

let home: string;
let engines: LocalEngines;
let channel: { events: ListeningEvent[]; catalog: CatalogItem[]; users: User[]; meta: ChannelMeta };

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'shelves-entrypoint-'));
  engines = await startLocalEngines({ home });
  const world = join(home, 'world');
  const manifest = await generateWorld(world, { users: 300, days: 21, seed: 11, start: '2026-09-01' });
  const cutoff = Date.parse(manifest.end) - TEST_DAYS * DAY;
  const events: ListeningEvent[] = [];
  for (const p of manifest.partitions) for (const f of p.files) events.push(...(await lines<ListeningEvent>(join(world, f))));
  // The channel holds what ValidateData hands training: the window before the cut-off.
  channel = {
    events: events.filter((e) => toEpochMs(e.timestamp) < cutoff),
    catalog: (await lines<CatalogItem>(join(world, 'catalog', 'catalog.jsonl'))).filter((c) => toEpochMs(c.publishedAt) < cutoff),
    users: (await lines<User>(join(world, 'users', 'users.jsonl'))).filter((u) => toEpochMs(u.signupAt) < cutoff),
    meta: {
      shelf: 'podcasts',
      cutoff,
      testDays: TEST_DAYS,
      dataSnapshot: 'entrypoint-test',
      transformVersion: TRANSFORM_VERSION,
      window: 'train',
    },
  };
  // Events as ValidateData writes them: events/dt=YYYY-MM-DD/<shard>.parquet with each event's row in its day.
  const days = new Map<string, ListeningEvent[]>();
  for (const e of channel.events) {
    const dt = e.timestamp.slice(0, 10);
    days.set(dt, [...(days.get(dt) ?? []), e]);
  }
  for (const [dt, day] of days) {
    const builder = new EventColumnsBuilder();
    for (const e of day) builder.add(e, toEpochMs(e.timestamp));
    const bytes = encodeEventsParquet({ events: builder.finish(), row: Int32Array.from(day.keys()) });
    await putObjectBytes(`${CHANNEL}${CHANNEL_EVENTS_DIR}/dt=${dt}/${shardFileName(0, 1)}`, bytes);
  }
  await putObjectBytes(`${CHANNEL}${CHANNEL_FILES.catalog}`, toJsonLines(channel.catalog));
  await putObjectBytes(`${CHANNEL}${CHANNEL_FILES.users}`, toJsonLines(channel.users));
  await putObjectBytes(`${CHANNEL}${CHANNEL_FILES.meta}`, JSON.stringify(channel.meta));
}, 120_000);

afterAll(async () => {
  await engines.stop();
  await rm(home, { recursive: true, force: true });
});

describe('the training entrypoint with algo ease', () => {
  it('trains EASE from the channel: the artifact is the one fitEase gives on the shelf data', async () => {
    const lambda = '50';
    const logged: string[] = [];
    const done = await runTrainingJob(request('ease-ok', { shelf: 'podcasts', algo: 'ease', lambda, seed: '7' }), {
      home,
      log: (l) => logged.push(l),
    });
    expect(done.TrainingJobStatus).toBe('Completed');
    const artifact = await readArtifactDir(join(home, 'sagemaker', 'ease-ok', 'model'));
    expect(artifact.manifest.kind).toBe('ease');
    const shelfData = buildShelfData('podcasts', {
      events: channel.events,
      catalog: channel.catalog,
      users: channel.users,
      cutoff: channel.meta.cutoff,
      testDays: channel.meta.testDays,
      snapshot: channel.meta.dataSnapshot,
    });
    const expected = fitEase(shelfData.train, { lambda: 50 }).save();
    expect(Buffer.from(artifact.payload).equals(Buffer.from(expected.payload))).toBe(true);
    expect(artifact.manifest).toEqual(expected.manifest);
    // The shelf's user features are EASE columns: a listener absent from training is ranked by them.
    const model = loadRecommender(artifact);
    const features = shelfData.train.userFeatures?.values().next().value ?? [];
    expect(features.length).toBeGreaterThan(0);
    expect(model.recommend({ userId: 'someone-new', now: channel.meta.cutoff, features }, 10)).toHaveLength(10);
    expect(logged.some((l) => l.includes('ease:') && l.includes('lambda 50'))).toBe(true);
  }, 180_000);

  it.each([
    ['-1', 'OptionError: ease option lambda is -1, expected a number > 0'],
    ['abc', 'invalid hyperparameters'],
  ])(
    'fails with the reason in output/failure when lambda is %s',
    async (lambda, reason) => {
      const failure = await runTrainingJob(
        request(`ease-bad-${lambda === '-1' ? 'neg' : 'nan'}`, { shelf: 'podcasts', algo: 'ease', lambda }),
        {
          home,
          log: () => undefined,
        },
      ).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(TrainingJobFailedError);
      expect((failure as TrainingJobFailedError).description.FailureReason).toContain(reason);
    },
    180_000,
  );
});

describe('the training entrypoint with a hybrid', () => {
  it("passes the shelf's identity share to the fit: 0.5 recorded in the artifact, 'lightfm' recorded as LightFM's weights", async () => {
    const hp = { shelf: 'podcasts', algo: 'hybrid-warp', epochs: '1', dim: '8', seed: '7' };
    const shared = await runTrainingJob(request('share-half', { ...hp, identityShare: '0.5' }), { home, log: () => undefined });
    const lightfm = await runTrainingJob(request('share-lightfm', { ...hp, identityShare: 'lightfm' }), { home, log: () => undefined });
    expect([shared.TrainingJobStatus, lightfm.TrainingJobStatus]).toEqual(['Completed', 'Completed']);
    const hyperparameters = async (job: string) =>
      (await readArtifactDir(join(home, 'sagemaker', job, 'model'))).manifest.hyperparameters as Record<string, unknown>;
    expect((await hyperparameters('share-half')).identityShare).toBe(0.5);
    expect((await hyperparameters('share-lightfm')).identityShare).toBeUndefined();
    const failure = await runTrainingJob(request('share-zero', { ...hp, identityShare: '0' }), { home, log: () => undefined }).catch(
      (e: unknown) => e,
    );
    expect((failure as TrainingJobFailedError).description.FailureReason).toContain('invalid hyperparameters');
  }, 180_000);

  it("passes the shelf's validation holdout and cold-item scoring to the fit (recorded in the artifact; absent = random) and refuses an unknown one", async () => {
    const hp = { shelf: 'podcasts', algo: 'hybrid-warp', epochs: '2', dim: '8', seed: '7' };
    const recent = await runTrainingJob(request('holdout-recent', { ...hp, validationHoldout: 'recent', coldItems: 'embeddings' }), {
      home,
      log: () => undefined,
    });
    const plain = await runTrainingJob(request('holdout-default', hp), { home, log: () => undefined });
    expect([recent.TrainingJobStatus, plain.TrainingJobStatus]).toEqual(['Completed', 'Completed']);
    const hyperparameters = async (job: string) =>
      (await readArtifactDir(join(home, 'sagemaker', job, 'model'))).manifest.hyperparameters as Record<string, unknown>;
    expect((await hyperparameters('holdout-recent')).validationHoldout).toBe('recent');
    expect((await hyperparameters('holdout-recent')).coldItems).toBe('embeddings');
    expect((await hyperparameters('holdout-default')).coldItems).toBeUndefined();
    expect(shelfHybridSettings('podcasts').coldItems).toBe('embeddings');
    expect((await hyperparameters('holdout-default')).validationHoldout).toBe('random');
    const failure = await runTrainingJob(request('holdout-bad', { ...hp, validationHoldout: 'oldest' }), {
      home,
      log: () => undefined,
    }).catch((e: unknown) => e);
    expect((failure as TrainingJobFailedError).description.FailureReason).toContain('invalid hyperparameters');
  }, 180_000);

  it('passes the optimizer to the fit (row-wise Adagrad recorded in the artifact) and refuses an unknown one', async () => {
    const hp = { shelf: 'podcasts', algo: 'hybrid-bpr', epochs: '1', dim: '8', seed: '7' };
    const rowwise = await runTrainingJob(request('rowwise', { ...hp, optimizer: 'adagrad-rowwise' }), { home, log: () => undefined });
    expect(rowwise.TrainingJobStatus).toBe('Completed');
    const manifest = (await readArtifactDir(join(home, 'sagemaker', 'rowwise', 'model'))).manifest;
    expect((manifest.hyperparameters as Record<string, unknown>).optimizer).toBe('adagrad-rowwise');
    const failure = await runTrainingJob(request('optimizer-bad', { ...hp, optimizer: 'sgd' }), { home, log: () => undefined }).catch(
      (e: unknown) => e,
    );
    expect((failure as TrainingJobFailedError).description.FailureReason).toContain('invalid hyperparameters');
  }, 180_000);

  it("reads every shelf's hybrid settings as the benches do (shelfHybridSettings)", () => {
    for (const shelf of ['podcasts', 'playlists'] as const) {
      const { algo, hyperparameters } = SHELF_CONFIG[shelf];
      const parsed = TrainingHyperparametersSchema.parse({ shelf, algo, ...hyperparameters });
      const settings = shelfHybridSettings(shelf);
      expect({
        identityDropout: parsed.identityDropout,
        identityShare: parsed.identityShare,
        validationHoldout: parsed.validationHoldout,
        coldItems: parsed.coldItems,
        patience: parsed.patience,
        validationTolerance: parsed.validationTolerance,
        validationCutoff: parsed.validationCutoff,
        maxSampled: parsed.maxSampled,
      }).toEqual({
        identityShare: undefined,
        validationHoldout: undefined,
        coldItems: undefined,
        patience: undefined,
        validationTolerance: undefined,
        validationCutoff: undefined,
        maxSampled: undefined,
        ...settings,
      });
      expect(settings.validationHoldout).toBe('recent');
      expect([settings.patience, settings.validationTolerance, settings.validationCutoff, settings.maxSampled]).toEqual([3, 0, 10, 10]);
    }
  });
});
