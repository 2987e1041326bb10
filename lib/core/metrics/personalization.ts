/**
 * Personalization = 1 − mean Jaccard similarity of two users' top-k lists. Range [0, 1]: 1 when no two
 * users share an item, 0 when everyone gets the same list. With n lists there are n(n−1)/2 pairs;
 * when that is at most `pairs`, every pair is used (exact), otherwise `pairs` random pairs of distinct
 * users are drawn from a seeded Rng (same seed, same value). Fewer than 2 lists give 0. Two empty
 * lists count as identical.
 */
import { Rng } from '../rng.ts';
import { jaccard } from './diversity.ts';

/** 1 − mean pairwise Jaccard overlap of the lists (exact, or over `pairs` seeded samples). */
export function personalization(lists: readonly (readonly string[])[], pairs = 2000, seed = 1): number {
  const n = lists.length;
  if (n < 2) return 0;
  const sets = lists.map((l) => new Set(l));
  let sum = 0;
  let count = 0;
  if ((n * (n - 1)) / 2 <= pairs) {
    for (let a = 0; a < n; a++)
      for (let b = a + 1; b < n; b++) {
        sum += jaccard(sets[a] as Set<string>, sets[b] as Set<string>);
        count++;
      }
  } else {
    const rng = new Rng(seed).fork('personalization');
    for (let p = 0; p < pairs; p++) {
      const a = rng.int(n);
      let b = rng.int(n - 1);
      if (b >= a) b++;
      sum += jaccard(sets[a] as Set<string>, sets[b] as Set<string>);
      count++;
    }
  }
  return 1 - sum / count;
}
