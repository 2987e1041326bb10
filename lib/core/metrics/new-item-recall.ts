/**
 * New-item recall: over all users, relevant items that never occur in training (cold items) found in
 * the user's top k / number of such relevant items. Range [0, 1]; 0 when no relevant item is new
 * (`items` says how many there were, so a 0 can be told apart from "nothing to find").
 */
import type { Relevance } from './relevance.ts';

/** Hits among relevant items absent from training over their number; `lists[u]` goes with `relevant[u]`. */
export function newItemRecall(
  lists: readonly (readonly string[])[],
  relevant: readonly Relevance[],
  trainCounts: ReadonlyMap<string, number>,
  k: number,
): { value: number; items: number } {
  let hit = 0;
  let total = 0;
  lists.forEach((l, u) => {
    const top = new Set(l.slice(0, k));
    for (const [item, grade] of relevant[u] ?? new Map<string, number>()) {
      if (grade <= 0 || (trainCounts.get(item) ?? 0) > 0) continue;
      total++;
      if (top.has(item)) hit++;
    }
  });
  return { value: total === 0 ? 0 : hit / total, items: total };
}
