/**
 * Recall@k = hits in the top k / number of relevant items. Range [0, 1]; 0 for a user without
 * relevant items (averages leave such users out).
 */
import { hitsAtK, relevantCount, type Relevance } from './relevance.ts';

/** Hits in the top k over the number of relevant items. */
export function recallAtK(ranked: readonly string[], relevant: Relevance, k: number): number {
  const n = relevantCount(relevant);
  return n === 0 ? 0 : hitsAtK(ranked, relevant, k) / n;
}
