/**
 * Hit rate at k: 1 when any of the top k is relevant, else 0 (its mean over users is the share of
 * users with at least one hit). 0 for an empty list.
 */
import { hitsAtK, type Relevance } from './relevance.ts';

/** 1 when the top k holds a relevant item. */
export function hitRateAtK(ranked: readonly string[], relevant: Relevance, k: number): number {
  return hitsAtK(ranked, relevant, k) > 0 ? 1 : 0;
}
