/**
 * Precision@k = hits in the top k / k. Range [0, 1]. A list shorter than k still divides by k (empty
 * slots are misses); 0 for k ≤ 0 or an empty list.
 */
import { hitsAtK, type Relevance } from './relevance.ts';

/** Hits in the top k over k. */
export function precisionAtK(ranked: readonly string[], relevant: Relevance, k: number): number {
  return k > 0 ? hitsAtK(ranked, relevant, k) / k : 0;
}
