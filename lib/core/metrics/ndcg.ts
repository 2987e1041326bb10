/**
 * Normalized discounted cumulative gain.
 *
 * DCG@k = Σ_{i=1..min(k, |list|)} rel_i / log2(i + 1) (linear gain, log2 discount, ranks from 1).
 * NDCG@k = DCG@k / IDCG@k, where IDCG@k is the DCG of the user's relevant grades sorted descending
 * and cut at k. Range [0, 1]; 0 for an empty list or a user without relevant items. Ties in grade do
 * not matter to the ideal (equal grades give equal gains).
 */
import type { Relevance } from './relevance.ts';

/** DCG@k of a ranked list. */
export function dcgAtK(ranked: readonly string[], relevant: Relevance, k: number): number {
  let dcg = 0;
  const n = Math.min(k, ranked.length);
  for (let i = 0; i < n; i++) dcg += (relevant.get(ranked[i] as string) ?? 0) / Math.log2(i + 2);
  return dcg;
}

/** Ideal DCG@k: the relevant grades best first. */
export function idealDcgAtK(relevant: Relevance, k: number): number {
  const grades = [...relevant.values()].filter((g) => g > 0).sort((a, b) => b - a);
  let ideal = 0;
  for (let i = 0; i < Math.min(k, grades.length); i++) ideal += (grades[i] as number) / Math.log2(i + 2);
  return ideal;
}

/** NDCG@k in [0, 1]. */
export function ndcgAtK(ranked: readonly string[], relevant: Relevance, k: number): number {
  const ideal = idealDcgAtK(relevant, k);
  return ideal === 0 ? 0 : dcgAtK(ranked, relevant, k) / ideal;
}
