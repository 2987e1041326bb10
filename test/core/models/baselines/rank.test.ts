import { describe, expect, it } from 'vitest';
import { rankByScore } from '../../../../lib/core/models/baselines/rank.ts';
import type { ScoredItem } from '../../../../lib/core/models/recommender.ts';
import { Rng } from '../../../../lib/core/rng.ts';

/** The definition: every allowed item once, sorted by score descending then id ascending, first k. */
function bySorting(pool: readonly string[], score: (id: string) => number, k: number, exclude: ReadonlySet<string>): ScoredItem[] {
  const items = [...new Set(pool)].filter((id) => !exclude.has(id) && !Number.isNaN(score(id)));
  return items
    .map((itemId) => ({ itemId, score: score(itemId) }))
    .sort((a, b) => b.score - a.score || (a.itemId < b.itemId ? -1 : a.itemId > b.itemId ? 1 : 0))
    .slice(0, Math.max(0, k));
}

describe('rankByScore', () => {
  it.each([1, 2, 3, 4, 5, 6, 7, 8])(
    'gives the sorted top k of long lists with ties, duplicates, exclusions and unknown items (seed %i)',
    (seed) => {
      const rng = new Rng(seed);
      const pool = Array.from({ length: 400 + rng.int(400) }, () => `item-${rng.int(300)}`);
      // Few distinct scores, so many ties; some items unknown (NaN).
      const scores = new Map(pool.map((id) => [id, rng.next() < 0.05 ? Number.NaN : rng.int(20) / 4]));
      const score = (id: string) => scores.get(id) as number;
      const exclude = new Set(pool.filter(() => rng.next() < 0.1));
      for (const k of [1, 5, 10, 30, 99, 1000])
        expect(rankByScore(pool, score, k, { exclude })).toEqual(bySorting(pool, score, k, exclude));
    },
  );

  it('ranks options.candidates instead of the pool when given', () => {
    const pool = Array.from({ length: 200 }, (_, i) => `p${i}`);
    const candidates = ['c1', 'c2', 'c3'];
    expect(rankByScore(pool, (id) => Number(id.slice(1)), 2, { candidates }).map((s) => s.itemId)).toEqual(['c3', 'c2']);
  });

  it('gives nothing for k <= 0', () => {
    expect(rankByScore(['a', 'b'], () => 1, 0)).toEqual([]);
  });
});
