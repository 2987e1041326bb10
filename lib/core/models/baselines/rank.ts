/** Top-k over a score function, shared by the heuristic baselines. Ties break by item id (ascending). */
import type { RecommendOptions, ScoredItem } from '../recommender.ts';

function byScoreThenId(a: ScoredItem, b: ScoredItem): number {
  return b.score - a.score || (a.itemId < b.itemId ? -1 : a.itemId > b.itemId ? 1 : 0);
}

/**
 * Ranks `pool` (or options.candidates when given) by `score`, dropping excluded items and items whose
 * score is NaN (unknown to the model). `k` <= 0 gives an empty list.
 */
export function rankByScore(
  pool: readonly string[],
  score: (itemId: string) => number,
  k: number,
  options: RecommendOptions = {},
): ScoredItem[] {
  if (k <= 0) return [];
  const source = options.candidates ?? pool;
  const scored: ScoredItem[] = [];
  const seen = new Set<string>();
  for (const itemId of source) {
    if (seen.has(itemId) || options.exclude?.has(itemId)) continue;
    seen.add(itemId);
    const s = score(itemId);
    if (!Number.isNaN(s)) scored.push({ itemId, score: s });
  }
  scored.sort(byScoreThenId);
  return scored.slice(0, k);
}

/**
 * Walks a precomputed best-first order and returns the first k allowed items: O(k + excluded) per
 * request, for the global rankings serving falls back to.
 */
export function firstK(
  order: readonly string[],
  scores: ReadonlyMap<string, number>,
  k: number,
  options: RecommendOptions = {},
): ScoredItem[] {
  if (options.candidates !== undefined) return rankByScore(options.candidates, (id) => scores.get(id) ?? 0, k, options);
  const out: ScoredItem[] = [];
  for (const itemId of order) {
    if (out.length >= k) break;
    if (options.exclude?.has(itemId)) continue;
    out.push({ itemId, score: scores.get(itemId) ?? 0 });
  }
  return out;
}

/** Items sorted best first by score, ties by id. */
export function orderByScore(scores: ReadonlyMap<string, number>): string[] {
  return [...scores.entries()]
    .map(([itemId, score]) => ({ itemId, score }))
    .sort(byScoreThenId)
    .map((s) => s.itemId);
}
