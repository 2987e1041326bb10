/**
 * Average precision at k (its mean over users is MAP@k):
 * AP@k = Σ_{i ≤ k, item i relevant} precision@i / min(k, |relevant|). Range [0, 1]: dividing by
 * min(k, |relevant|) lets a perfect top k score 1 even when the user has more than k relevant items.
 * 0 for an empty list or a user without relevant items. Grades count as binary (> 0).
 */
import { relevantCount, type Relevance } from './relevance.ts';

/** AP@k of one list. */
export function mapAtK(ranked: readonly string[], relevant: Relevance, k: number): number {
  const n = relevantCount(relevant);
  if (n === 0 || k <= 0) return 0;
  let h = 0;
  let sum = 0;
  for (let i = 0; i < Math.min(k, ranked.length); i++) {
    if ((relevant.get(ranked[i] as string) ?? 0) > 0) {
      h++;
      sum += h / (i + 1);
    }
  }
  return sum / Math.min(k, n);
}
