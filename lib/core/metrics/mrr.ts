/**
 * Reciprocal rank at k (its mean over users is MRR@k): 1 / rank of the first relevant item within
 * the top k, ranks from 1. Range [0, 1]; 0 without a hit in the top k or for an empty list.
 */
import type { Relevance } from './relevance.ts';

/** 1 / rank of the first hit within k; 0 without one. */
export function mrrAtK(ranked: readonly string[], relevant: Relevance, k: number): number {
  for (let i = 0; i < Math.min(k, ranked.length); i++) if ((relevant.get(ranked[i] as string) ?? 0) > 0) return 1 / (i + 1);
  return 0;
}
