/**
 * The synthesized state machine, run end to end on the real local engines: the definition `cdk
 * deploy` ships, the real handlers, the real training entrypoint under the container contract.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EndpointStore } from '../../lib/aws/endpoints.ts';
import { ModelRegistry } from '../../lib/aws/registry.ts';
import { formatS3Uri, putObjectBytes } from '../../lib/aws/s3-uri.ts';
import { startLocalEngines, type LocalEngines } from '../../lib/local/engines.ts';
import { runShelfPipeline } from '../../lib/local/pipeline.ts';
import { uploadDataset } from '../../lib/local/seed-data.ts';
import { RAW_BUCKET } from '../../lib/wiring/resources.ts';
import { generateWorld } from '../../lib/sim/world.ts';

let home: string;
let engines: LocalEngines;
const run = (runId: string, hyperparameters: Record<string, string> = {}) =>
  runShelfPipeline(
    { shelf: 'podcasts', runId, hyperparameters: { epochs: '12', ...hyperparameters } },
    { home, trainingLog: () => undefined },
  );

beforeAll(async () => {
  process.env.LOG_LEVEL = 'ERROR';
  home = await mkdtemp(join(tmpdir(), 'shelves-pipeline-'));
  engines = await startLocalEngines({ home });
  const world = join(home, 'world');
  await generateWorld(world, { users: 2000, days: 35, seed: 5, start: '2026-09-01' });
  await uploadDataset(world, RAW_BUCKET.localName);
}, 120_000);

afterAll(async () => {
  await engines?.stop();
  await rm(home, { recursive: true, force: true });
});

describe('the retraining pipeline, run locally from the synthesized template', () => {
  const registry = () => new ModelRegistry();
  const endpoints = () => new EndpointStore();

  it('trains, evaluates, passes the gate and deploys a new version that the endpoint points to', async () => {
    const result = await run('r1');
    expect(result.error).toBeUndefined();
    expect(result.outcome).toBe('deployed');
    const version = await registry().getVersion('podcasts', 'podcasts-r1');
    expect(version?.status).toBe('live');
    expect(version?.kind).toBe('hybrid-warp');
    expect(version?.decision.pass).toBe(true);
    expect(version?.metrics['ndcg@10']).toBeGreaterThan(0);
    expect(version?.artifactUri).toMatch(/^s3:\/\/.*\/model\.tar\.gz$/);
    expect((await endpoints().getEndpoint('podcasts')).liveVersion).toBe('podcasts-r1');
    expect(Object.keys(result.stepMs)).toEqual(
      expect.arrayContaining([
        'BeginRun',
        'PlanFeatures',
        'BuildFeatures',
        'ValidateData',
        'Train',
        'TrainBaselines',
        'Evaluate',
        'Deploy',
      ]),
    );
  }, 180_000);

  it('ends a sabotaged candidate in RecordRejection and leaves the live pointer as it was', async () => {
    const result = await run('r2', { shuffle: 'true' });
    expect(result.outcome).toBe('rejected');
    expect(result.evaluation?.decision.pass).toBe(false);
    expect(result.evaluation?.decision.reasons.join(' ')).toMatch(/ndcg@10/);
    expect((await registry().getVersion('podcasts', 'podcasts-r2'))?.status).toBe('rejected');
    const endpoint = await endpoints().getEndpoint('podcasts');
    expect(endpoint.liveVersion).toBe('podcasts-r1');
    expect(endpoint.canaryVersion).toBeNull();
  }, 180_000);

  it('does not create a duplicate version when a finished run id runs again', async () => {
    const before = await registry().listVersions('podcasts');
    const result = await run('r1');
    expect(result.outcome).toBe('already-done');
    expect(await registry().listVersions('podcasts')).toHaveLength(before.length);
  }, 60_000);

  it('records a corrupt partition as a failed run with a clear reason, keeping versions and the live pointer', async () => {
    const corrupt = formatS3Uri(RAW_BUCKET.localName, 'events/dt=2026-09-10/part-99999.jsonl');
    await putObjectBytes(corrupt, Array.from({ length: 50 }, (_, i) => `{"userId": "u${i}", "itemId": 42,`).join('\n'));
    const before = await registry().listVersions('podcasts');
    const result = await run('r3');
    expect(result.status).toBe('FAILED');
    expect(result.error?.Error).toBe('DataQualityError');
    expect(result.error?.message).toMatch(/events\/dt=2026-09-10\/.*rows rejected, limit 1\.0%: bad-json/);
    const failed = await registry().getRun('podcasts', 'r3');
    expect(failed?.status).toBe('failed');
    expect(failed?.reason).toMatch(/DataQualityError: .*dt=2026-09-10/);
    expect(await registry().listVersions('podcasts')).toEqual(before);
    expect((await endpoints().getEndpoint('podcasts')).liveVersion).toBe('podcasts-r1');
  }, 120_000);
});
