import { describe, expect, it } from 'vitest';
import type { EndpointRecord } from '../../lib/aws/endpoints.ts';
import type { CatalogItem, Shelf, User } from '../../lib/core/contract.ts';
import { fitPopularity } from '../../lib/core/models/baselines/popularity.ts';
import { HomeService, DEFAULT_SERVING_CONFIG } from '../../lib/serving/home-service.ts';
import type { ServingPorts } from '../../lib/serving/ports.ts';

const NOW = Date.parse('2026-10-01T00:00:00Z');
const show = (id: string): CatalogItem => ({ itemId: id, type: 'show', title: id, categories: ['news'], publisher: 'p', language: 'en', publishedAt: '2026-01-01T00:00:00Z' });
const catalog = ['s1', 's2', 's3'].map(show);
const user: User = { userId: 'u1', country: 'SE', signupAt: '2026-01-01T00:00:00Z', onboardingGenres: ['news'], device: 'mobile', ageBand: '25-34' };
const history = new Map([['u1', [{ itemId: 's2', ts: NOW - 3600_000, eventType: 'play', msPlayed: 1000, progress: 0.5, localHour: 8 }]]]);
const model = fitPopularity({ interactions: [{ userId: 'u1', itemId: 's3', ts: NOW - 1000, weight: 1 }], cutoff: NOW, snapshot: 's', transformVersion: 't' });
const endpoint = (shelf: Shelf): EndpointRecord => ({ shelf, liveVersion: 'v1', canaryVersion: null, canaryWeight: 0, previousVersion: null, revision: 1, updatedAt: '' });

/** In-memory ports (test doubles of serving's own port interface), with switches to make them fail. */
function ports(fail: { dynamo?: boolean; s3?: boolean } = {}): ServingPorts {
  return {
    endpoint: async (shelf) => {
      if (fail.dynamo) throw new Error('connect ECONNREFUSED 127.0.0.1:4567');
      return endpoint(shelf);
    },
    artifactUri: async () => 's3://artifacts/v1/',
    loadArtifact: async () => {
      if (fail.s3) throw new Error('connect ECONNREFUSED 127.0.0.1:4568');
      return model.save();
    },
    loadData: async () => ({ catalog, users: new Map([['u1', user]]), history }),
    logRequests: async () => undefined,
    writeFeedback: async () => undefined,
  };
}

describe('HomeService', () => {
  it('serves the live model of each shelf', async () => {
    const home = await new HomeService(ports(), DEFAULT_SERVING_CONFIG, () => NOW).home({ userId: 'u1' });
    expect(home.shelves.map((s) => [s.shelf, s.variant, s.modelVersion])).toEqual([['shortcuts', 'live', 'v1'], ['podcasts', 'live', 'v1'], ['playlists', 'live', 'v1']]);
  });

  it('falls back to the heuristic, and says so, when S3 is unreachable', async () => {
    const home = await new HomeService(ports({ s3: true }), DEFAULT_SERVING_CONFIG, () => NOW).home({ userId: 'u1' });
    for (const shelf of home.shelves) {
      expect(shelf.variant).toBe('fallback');
      expect(shelf.fallbackReason).toMatch(/could not be loaded: connect ECONNREFUSED/);
    }
    expect(home.shelves[0]?.items.map((i) => i.id)).toEqual(['s2']); // most recent first
  });

  it('keeps serving the last endpoint record and loaded model when DynamoDB and S3 become unreachable', async () => {
    let t = NOW;
    const p = ports();
    const service = new HomeService(p, { ...DEFAULT_SERVING_CONFIG, endpointTtlMs: 10 }, () => t);
    await service.home({ userId: 'u1' });
    const broken = { ...p, endpoint: ports({ dynamo: true }).endpoint, loadArtifact: ports({ s3: true }).loadArtifact };
    Object.assign(p, broken);
    t += 60_000;
    const home = await service.home({ userId: 'u1' });
    expect(home.shelves[1]).toMatchObject({ variant: 'live', modelVersion: 'v1' });
  });

  it('falls back when the endpoint was never readable', async () => {
    const home = await new HomeService(ports({ dynamo: true }), DEFAULT_SERVING_CONFIG, () => NOW).home({ userId: 'u1' });
    expect(home.shelves[1]).toMatchObject({ variant: 'fallback', fallbackReason: 'the endpoint record could not be read' });
  });
});
