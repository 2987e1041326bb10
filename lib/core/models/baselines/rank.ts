/** Top-k over a score function, shared by the heuristic baselines. Ties break by item id (ascending). */
import type { RecommendOptions, ScoredItem } from '../recommender.ts';

/** Lists this many times longer than k are ranked by selection rather than by sorting every item. */
const SELECT_BELOW = 8;

function byScoreThenId(a: ScoredItem, b: ScoredItem): number {
  return b.score - a.score || (a.itemId < b.itemId ? -1 : a.itemId > b.itemId ? 1 : 0);
}

/**
 * Ranks `pool` (or options.candidates when given) by `score`, dropping excluded items and items whose
 * score is NaN (unknown to the model). `k` <= 0 gives an empty list. An item listed twice counts once.
 *
 * Cost: one score per item and, for a short list out of many items, a bounded selection (each item
 * compared with the k-th best so far; only the few that beat it are inserted) instead of sorting every
 * item: evaluation asks each model for 10 of thousands of shows for each of 100,000 users. Same
 * result as sorting all: the order (score descending, id ascending) is total.
 */
export function rankByScore(
  pool: readonly string[],
  score: (itemId: string) => number,
  k: number,
  options: RecommendOptions = {},
): ScoredItem[] {
  if (k <= 0) return [];
  const source = options.candidates ?? pool;
  const exclude = options.exclude;
  if (k * SELECT_BELOW >= source.length) {
    const scored: ScoredItem[] = [];
    const seen = new Set<string>();
    for (const itemId of source) {
      if (seen.has(itemId) || exclude?.has(itemId)) continue;
      seen.add(itemId);
      const s = score(itemId);
      if (!Number.isNaN(s)) scored.push({ itemId, score: s });
    }
    scored.sort(byScoreThenId);
    return scored.slice(0, k);
  }
  // The best k so far, best first. An item listed again scores the same: it is either in `top`
  // already (skipped) or was beaten by all of `top` (beaten again).
  const top: ScoredItem[] = [];
  for (const itemId of source) {
    const s = score(itemId);
    if (Number.isNaN(s)) continue;
    if (top.length === k) {
      const last = top[k - 1] as ScoredItem;
      if (s < last.score || (s === last.score && itemId >= last.itemId)) continue;
    }
    if (exclude?.has(itemId) || top.some((t) => t.itemId === itemId)) continue;
    let at = top.length;
    while (at > 0 && byScoreThenId(top[at - 1] as ScoredItem, { itemId, score: s }) > 0) at--;
    top.splice(at, 0, { itemId, score: s });
    if (top.length > k) top.pop();
  }
  return top;
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
