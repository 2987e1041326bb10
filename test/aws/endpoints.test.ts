import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EndpointStore, applyDeploy, applyPromote, applyRollbackLive, emptyEndpoint } from '../../lib/aws/endpoints.ts';
import { ConflictError } from '../../lib/core/errors.ts';
import { startTestEngines } from './local-engines.ts';

const AT = '2025-03-01T00:00:00.000Z';

describe('endpoint transitions', () => {
  it.each([
    ['goes live when nothing is live', emptyEndpoint('podcasts'), { liveVersion: 'v1', canaryVersion: null, canaryWeight: 0 }],
    [
      'becomes the canary when a version is live',
      { ...emptyEndpoint('podcasts'), liveVersion: 'v1', revision: 1 },
      { liveVersion: 'v1', canaryVersion: 'v2', canaryWeight: 0.1 },
    ],
  ])('a deployed candidate %s', (_title, current, expected) => {
    const version = current.liveVersion === null ? 'v1' : 'v2';
    expect(applyDeploy(current, version, 0.1)).toMatchObject(expected);
  });

  it('promotes the canary and keeps the old live as previous', () => {
    const current = { ...emptyEndpoint('podcasts'), liveVersion: 'v1', canaryVersion: 'v2', canaryWeight: 0.1, revision: 2 };
    expect(applyPromote(current)).toMatchObject({ liveVersion: 'v2', previousVersion: 'v1', canaryVersion: null, canaryWeight: 0 });
  });

  it.each([
    ['promote without a canary', () => applyPromote(emptyEndpoint('podcasts'))],
    ['roll back live without a previous version', () => applyRollbackLive(emptyEndpoint('podcasts'))],
    ['deploy a canary at weight 1', () => applyDeploy({ ...emptyEndpoint('podcasts'), liveVersion: 'v1' }, 'v2', 1)],
  ])('refuses to %s with ConflictError', (_title, change) => {
    expect(change).toThrow(ConflictError);
  });
});

describe('EndpointStore on dynalite', () => {
  let engines: Awaited<ReturnType<typeof startTestEngines>>;
  let store: EndpointStore;
  beforeAll(async () => {
    engines = await startTestEngines();
    store = new EndpointStore();
  });
  afterAll(async () => engines.cleanup());

  it('reads an undeployed shelf as revision 0 with nothing live', async () => {
    expect(await store.getEndpoint('shortcuts')).toEqual(emptyEndpoint('shortcuts'));
  });

  it('walks deploy, canary, promote, rollback live with one revision per change', async () => {
    const live = await store.deployCandidate('podcasts', 'v1', { canaryWeight: 0.1, at: AT });
    expect(live).toMatchObject({ liveVersion: 'v1', canaryVersion: null, revision: 1, updatedAt: AT });
    const canary = await store.deployCandidate('podcasts', 'v2', { canaryWeight: 0.1, expectedRevision: 1 });
    expect(canary).toMatchObject({ liveVersion: 'v1', canaryVersion: 'v2', canaryWeight: 0.1, revision: 2 });
    const promoted = await store.promoteCanary('podcasts', { expectedRevision: 2 });
    expect(promoted).toMatchObject({ liveVersion: 'v2', previousVersion: 'v1', canaryVersion: null, revision: 3 });
    const rolledBack = await store.rollbackLive('podcasts');
    expect(rolledBack).toMatchObject({ liveVersion: 'v1', previousVersion: null, revision: 4 });
    expect(await store.getEndpoint('podcasts')).toEqual(rolledBack);
  });

  it('rolls back a canary', async () => {
    await store.deployCandidate('podcasts', 'v3', { canaryWeight: 0.2 });
    expect(await store.rollbackCanary('podcasts')).toMatchObject({ liveVersion: 'v1', canaryVersion: null, canaryWeight: 0, revision: 6 });
  });

  it('treats a repeated deploy of the current canary as done, without a new revision', async () => {
    const canary = await store.deployCandidate('podcasts', 'v4', { canaryWeight: 0.1 });
    expect(await store.deployCandidate('podcasts', 'v4', { canaryWeight: 0.1, expectedRevision: 0 })).toEqual(canary);
  });

  it('raises ConflictError when the expected revision is stale', async () => {
    await expect(store.promoteCanary('podcasts', { expectedRevision: 1 })).rejects.toThrow(ConflictError);
  });

  it('lets exactly one of two racing first deploys win', async () => {
    // Both expect revision 0, so the loser is refused whether its read came before the winner's
    // write (the conditional put fails) or after it (a loaded machine can serialise the two).
    const results = await Promise.allSettled([
      store.deployCandidate('playlists', 'a', { canaryWeight: 0.1, expectedRevision: 0 }),
      store.deployCandidate('playlists', 'b', { canaryWeight: 0.1, expectedRevision: 0 }),
    ]);
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(lost[0]?.reason).toBeInstanceOf(ConflictError);
    const stored = await store.getEndpoint('playlists');
    expect(stored.revision).toBe(1);
    expect([(won[0] as PromiseFulfilledResult<unknown>).value]).toEqual([stored]);
  });

  it('lets exactly one of two racing canary deploys at the same revision win', async () => {
    const before = await store.getEndpoint('playlists');
    const results = await Promise.allSettled(
      ['c1', 'c2'].map((version) => store.deployCandidate('playlists', version, { canaryWeight: 0.1, expectedRevision: before.revision })),
    );
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect((await store.getEndpoint('playlists')).revision).toBe(before.revision + 1);
  });

  it('lists the stored endpoints by shelf', async () => {
    expect((await store.listEndpoints()).map((e) => e.shelf)).toEqual(['playlists', 'podcasts']);
  });
});
