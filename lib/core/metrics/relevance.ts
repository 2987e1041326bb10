/**
 * Relevance of one user's items and the helpers every accuracy metric shares. A grade is a number:
 * 1 for binary relevance, any positive number for graded relevance; 0 or an absent item is not relevant.
 */
import { InputError } from '../errors.ts';

/** itemId → grade (> 0 is relevant). */
export type Relevance = ReadonlyMap<string, number>;

/** Throws InputError when `ranked` holds an item twice: metrics would count it twice. `who` names the list. */
export function assertNoDuplicates(ranked: readonly string[], who = 'a list'): void {
  const seen = new Set<string>();
  for (const item of ranked) {
    if (seen.has(item)) throw new InputError(`${who} names item "${item}" twice; a ranking must list each item once`);
    seen.add(item);
  }
}

/** Number of items with a positive grade. */
export function relevantCount(relevant: Relevance): number {
  let n = 0;
  for (const g of relevant.values()) if (g > 0) n++;
  return n;
}

/** Number of relevant items among the first k of `ranked` (a shorter list contributes what it has). */
export function hitsAtK(ranked: readonly string[], relevant: Relevance, k: number): number {
  let h = 0;
  const n = Math.min(k, ranked.length);
  for (let i = 0; i < n; i++) if ((relevant.get(ranked[i] as string) ?? 0) > 0) h++;
  return h;
}
