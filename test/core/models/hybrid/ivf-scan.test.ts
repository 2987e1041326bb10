/**
 * The IVF scan on the request path: clusters chosen without sorting them all, lists restricted to a
 * shelf's candidates once, exclusions checked only for items that would enter the top k. Each must
 * give what the plain computation gives.
 */
import { describe, expect, it } from 'vitest';
import { fitHybrid, type HybridRecommender } from '../../../../lib/core/models/hybrid/index.ts';
import { bestLists, buildIvf, probeRows, restrictIvf } from '../../../../lib/core/models/hybrid/ivf.ts';
import type { Feature, Interaction } from '../../../../lib/core/models/recommender.ts';
import { Rng } from '../../../../lib/core/rng.ts';

const D = 8;

/** 600 items in 6 taste groups, 300 users (as the artifact test): large enough for 64 clusters. */
function model(): HybridRecommender {
  const rng = new Rng(4);
  const interactions: Interaction[] = [];
  for (let u = 0; u < 300; u++) {
    for (let n = 0; n < 15; n++)
      interactions.push({ userId: `u${u}`, itemId: `i${(u % 6) * 100 + Math.floor(100 * rng.next() ** 2)}`, ts: n, weight: 1 });
  }
  const itemFeatures = new Map<string, Feature[]>(Array.from({ length: 600 }, (_, i) => [`i${i}`, [[`g${Math.floor(i / 100)}`, 1]]]));
  return fitHybrid({ interactions, itemFeatures, cutoff: 100, snapshot: 's', transformVersion: 't' }, { dim: D, epochs: 3, seed: 2 });
}

describe('the IVF scan', () => {
  const rng = new Rng(7);
  const n = 2000;
  const rep = Float32Array.from({ length: n * D }, () => rng.normal());
  const bias = Float32Array.from({ length: n }, () => 0.1 * rng.normal());
  const index = buildIvf(rep, bias, n, D, { nlist: 40, seed: 3 });

  it('chooses the clusters a full sort of the centroid scores chooses, in the same order', () => {
    for (let u = 0; u < 40; u++) {
      const user = Float32Array.from({ length: D }, () => rng.normal());
      const scores = Array.from({ length: index.nlist }, (_, ci) => {
        let s = index.centroids[ci * (D + 1) + D] as number;
        for (let q = 0; q < D; q++) s += (user[q] as number) * (index.centroids[ci * (D + 1) + q] as number);
        return Math.fround(s);
      });
      const sorted = scores.map((_, ci) => ci).sort((a, b) => (scores[b] as number) - (scores[a] as number) || a - b);
      for (const nprobe of [1, 3, 8, 40, 50]) expect(Array.from(bestLists(index, user, D, nprobe))).toEqual(sorted.slice(0, nprobe));
    }
  });

  it('restricts every list to the allowed rows, so probing it gives probeRows with the mask', () => {
    const allowed = Uint8Array.from({ length: n }, () => (rng.next() < 0.3 ? 1 : 0));
    const restricted = restrictIvf(index, allowed);
    for (let u = 0; u < 20; u++) {
      const user = Float32Array.from({ length: D }, () => rng.normal());
      const rows = Array.from(bestLists(restricted, user, D, 6)).flatMap((ci) => Array.from(restricted.lists[ci] as Int32Array));
      expect(rows).toEqual(Array.from(probeRows(index, user, D, 6, allowed)));
    }
  });

  it('ranks with exclusions as the unexcluded ranking with the excluded items taken out (IVF and exact)', () => {
    const m = model();
    const candidates = Array.from({ length: 400 }, (_, i) => `i${i + 100}`);
    for (const annMinItems of [100, Number.POSITIVE_INFINITY]) {
      m.annMinItems = annMinItems;
      for (let u = 0; u < 30; u++) {
        const context = { userId: `u${u * 7}`, now: 0 };
        const full = m.recommend(context, 40, { candidates });
        // Excluded: three of the user's top items, one item outside the candidates, one unknown id.
        const exclude = new Set([full[0]?.itemId, full[4]?.itemId, full[9]?.itemId, 'i3', 'not-an-item'].filter((id) => id !== undefined));
        const expected = full.filter((s) => !exclude.has(s.itemId)).slice(0, 10);
        expect(m.recommend(context, 10, { candidates, exclude })).toEqual(expected);
      }
    }
  });
});
