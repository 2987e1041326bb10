import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelRegistry, type ModelVersion } from '../../lib/aws/registry.ts';
import { ConflictError, InputError } from '../../lib/core/errors.ts';
import { startTestEngines } from './local-engines.ts';

const VERSIONS = JSON.parse(await readFile(new URL('./fixtures/versions.json', import.meta.url), 'utf8')) as ModelVersion[];
const [FIRST, SECOND] = VERSIONS as [ModelVersion, ModelVersion];

let engines: Awaited<ReturnType<typeof startTestEngines>>;
let registry: ModelRegistry;

beforeAll(async () => {
  engines = await startTestEngines();
  registry = new ModelRegistry();
});
afterAll(async () => engines.cleanup());

describe('model versions', () => {
  it('stores a version once and returns the stored one on a second put', async () => {
    const first = await registry.putVersion(FIRST);
    const again = await registry.putVersion({ ...FIRST, metrics: { 'ndcg@10': 0.99 }, createdAt: '2025-03-05T00:00:00.000Z' });
    expect(first.created).toBe(true);
    expect(again).toEqual({ version: FIRST, created: false });
    expect(await registry.listVersions('podcasts')).toEqual([FIRST]);
  });

  it('stores concurrent puts of the same version exactly once', async () => {
    const results = await Promise.all([registry.putVersion(SECOND), registry.putVersion(SECOND), registry.putVersion(SECOND)]);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect((await registry.listVersions('podcasts')).map((v) => v.versionId)).toEqual([FIRST.versionId, SECOND.versionId]);
  });

  it('lists only the versions of the shelf asked for', async () => {
    await registry.putVersion({ ...FIRST, shelf: 'playlists' });
    expect((await registry.listVersions('playlists')).map((v) => v.shelf)).toEqual(['playlists']);
    expect(await registry.listVersions('shortcuts')).toEqual([]);
  });

  it('returns null for a version that was never put', async () => {
    expect(await registry.getVersion('podcasts', 'nope')).toBeNull();
  });

  it('updates a status with its reason', async () => {
    const updated = await registry.updateVersionStatus('podcasts', FIRST.versionId, 'live', 'first deploy', '2025-03-03T00:00:00.000Z');
    expect(updated).toMatchObject({
      status: 'live',
      statusReason: 'first deploy',
      updatedAt: '2025-03-03T00:00:00.000Z',
      metrics: FIRST.metrics,
    });
    expect((await registry.getVersion('podcasts', FIRST.versionId))?.status).toBe('live');
  });

  it('refuses a status update of an unknown version with InputError', async () => {
    await expect(registry.updateVersionStatus('podcasts', 'ghost', 'retired', 'x')).rejects.toThrow(InputError);
  });
});

describe('runs', () => {
  it('begins a run once; a second begin returns the stored run', async () => {
    const first = await registry.beginRun('shortcuts', 'run-a', { startedAt: '2025-03-01T00:00:00.000Z', versionId: 'v-a' });
    const again = await registry.beginRun('shortcuts', 'run-a', { startedAt: '2025-03-01T01:00:00.000Z' });
    expect(first).toMatchObject({ created: true, run: { status: 'running', attempt: 1, versionId: 'v-a' } });
    expect(again).toEqual({ run: first.run, created: false });
  });

  it.each([
    ['deployed', 'canary at 10%'],
    ['rejected', 'ndcg below floor'],
  ] as const)('completes a run as %s with its reason, and repeating it is a no-op', async (outcome, reason) => {
    const runId = `run-${outcome}`;
    await registry.beginRun('shortcuts', runId, { startedAt: '2025-03-01T00:00:00.000Z' });
    const done = await registry.completeRun('shortcuts', runId, outcome, reason, '2025-03-01T00:10:00.000Z');
    expect(done).toMatchObject({ status: outcome, reason, finishedAt: '2025-03-01T00:10:00.000Z' });
    expect(await registry.completeRun('shortcuts', runId, outcome, reason, '2025-03-01T00:10:00.000Z')).toEqual(done);
  });

  it('refuses to fail a run that already deployed', async () => {
    await expect(registry.failRun('shortcuts', 'run-deployed', 'late failure')).rejects.toThrow(ConflictError);
  });

  it('records a failure of a run that never began', async () => {
    const failed = await registry.failRun('shortcuts', 'run-early', 'States.TaskFailed: bad input', '2025-03-01T00:00:00.000Z');
    expect(failed).toMatchObject({ runId: 'run-early', status: 'failed', attempt: 1, reason: 'States.TaskFailed: bad input' });
  });

  it('begins a failed run again as its next attempt', async () => {
    await registry.beginRun('shortcuts', 'run-retry', { startedAt: '2025-03-01T00:00:00.000Z' });
    await registry.failRun('shortcuts', 'run-retry', 'boom', '2025-03-01T00:01:00.000Z');
    const again = await registry.beginRun('shortcuts', 'run-retry', { startedAt: '2025-03-01T00:02:00.000Z' });
    expect(again).toMatchObject({ created: true, run: { status: 'running', attempt: 2, startedAt: '2025-03-01T00:02:00.000Z' } });
    expect(again.run.reason).toBeUndefined();
  });

  it('lists runs of a shelf by id', async () => {
    expect((await registry.listRuns('shortcuts')).map((r) => r.runId)).toEqual([
      'run-a',
      'run-deployed',
      'run-early',
      'run-rejected',
      'run-retry',
    ]);
  });
});

describe('endpoint events', () => {
  it('lists events oldest first, keeping the order of events at the same instant', async () => {
    await registry.appendEvent('playlists', {
      action: 'deploy',
      version: 'v1',
      reason: 'no live model yet',
      at: '2025-03-01T00:00:00.000Z',
      revision: 1,
    });
    await registry.appendEvent('playlists', { action: 'canary', version: 'v2', reason: 'passed gate', at: '2025-03-02T00:00:00.000Z' });
    await registry.appendEvent('playlists', {
      action: 'rollback-canary',
      version: 'v2',
      reason: 'guardrail: skip rate +4%',
      at: '2025-03-02T00:00:00.000Z',
    });
    const events = await registry.listEvents('playlists');
    expect(events.map((e) => e.action)).toEqual(['deploy', 'canary', 'rollback-canary']);
    expect(events[0]).toEqual({
      shelf: 'playlists',
      action: 'deploy',
      version: 'v1',
      reason: 'no live model yet',
      at: '2025-03-01T00:00:00.000Z',
      revision: 1,
    });
  });

  it('lists events since a time', async () => {
    expect((await registry.listEvents('playlists', { since: '2025-03-02T00:00:00.000Z' })).map((e) => e.action)).toEqual([
      'canary',
      'rollback-canary',
    ]);
  });
});
