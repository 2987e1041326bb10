/** The IVF index travels in the artifacts of large models, so loading one runs no k-means. */
import { describe, expect, it } from 'vitest';
import { ArtifactError, makeArtifact, unpackSections, type ModelArtifact } from '../../../../lib/core/models/artifact.ts';
import { fitHybrid, loadHybrid, type HybridRecommender } from '../../../../lib/core/models/hybrid/index.ts';
import type { Feature, Interaction } from '../../../../lib/core/models/recommender.ts';
import { Rng } from '../../../../lib/core/rng.ts';

/** 600 items in 6 taste groups, 300 users: big enough for 64 clusters, small enough to fit in a second. */
function model(): HybridRecommender {
  const rng = new Rng(4);
  const interactions: Interaction[] = [];
  for (let u = 0; u < 300; u++) {
    for (let n = 0; n < 15; n++)
      interactions.push({ userId: `u${u}`, itemId: `i${(u % 6) * 100 + Math.floor(100 * rng.next() ** 2)}`, ts: n, weight: 1 });
  }
  const itemFeatures = new Map<string, Feature[]>(Array.from({ length: 600 }, (_, i) => [`i${i}`, [[`g${Math.floor(i / 100)}`, 1]]]));
  return fitHybrid({ interactions, itemFeatures, cutoff: 100, snapshot: 's', transformVersion: 't' }, { dim: 8, epochs: 3, seed: 2 });
}

const THRESHOLD = 100;
const users = Array.from({ length: 30 }, (_, u) => ({ userId: `u${u * 7}`, now: 0 }));
const sectionNames = (a: ModelArtifact): string[] => a.manifest.sections.map((s) => s.name);

describe('the IVF index in the artifact', () => {
  it('is saved with a model over the threshold and loaded as it was: same top-k, nothing to build', () => {
    const original = model();
    original.annMinItems = THRESHOLD;
    const artifact = original.save();
    expect(sectionNames(artifact)).toEqual(expect.arrayContaining(['ivfCentroids', 'ivfOffsets', 'ivfMembers']));
    const loaded = loadHybrid(artifact);
    loaded.annMinItems = THRESHOLD;
    expect(loaded.indexReady()).toBe(true);
    for (const u of users) expect(loaded.recommend(u, 10)).toEqual(original.recommend(u, 10));
    // Items added after loading join the index (extended, not rebuilt from scratch).
    loaded.indexItems(new Map([['fresh', [['g1', 1]]]]));
    expect(loaded.indexReady()).toBe(false);
    loaded.prepare();
    expect(loaded.indexReady()).toBe(true);
  });

  it('is left out of small models, whose artifacts are as before', () => {
    const small = model();
    const artifact = small.save();
    expect(sectionNames(artifact).some((n) => n.startsWith('ivf'))).toBe(false);
    expect(loadHybrid(artifact).indexReady()).toBe(false);
  });

  it('rejects an index that does not cover the items, naming the problem', () => {
    const original = model();
    original.annMinItems = THRESHOLD;
    const artifact = original.save();
    const sections = unpackSections(artifact);
    const { format: _f, sections: _s, payloadBytes: _p, ...manifest } = artifact.manifest;
    const broken = makeArtifact(manifest, { ...sections, ivfMembers: (sections.ivfMembers as Int32Array).subarray(1) });
    expect(() => loadHybrid(broken)).toThrow(ArtifactError);
    expect(() => loadHybrid(broken)).toThrow(/IVF index is invalid: .*expected all 600 items/);
  });
});
