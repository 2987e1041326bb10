/**
 * Intra-list diversity, averaged over lists with at least 2 items (shorter lists have no pairs and
 * are skipped; no such list gives 0). Range [0, 1].
 *
 * - by category, mode 'primary' (default): share of item pairs whose primary categories (the first
 *   one) differ; an item without metadata has no category, and two such items count as the same.
 * - by category, mode 'jaccard': 1 − mean pairwise Jaccard similarity of the items' category sets
 *   (two empty sets are identical: similarity 1).
 * - by embedding: 1 − mean pairwise cosine similarity of the items' vectors, clamped to [0, 1]
 *   (items without a vector are skipped; a zero vector has similarity 0 to anything).
 */
import type { ItemMeta } from '../models/recommender.ts';

export interface CategoryDiversityOptions {
  /** 'primary' (default) or 'jaccard'. */
  readonly mode?: 'primary' | 'jaccard';
}

function meanOverLists(lists: readonly (readonly string[])[], pairScore: (a: string, b: string) => number): number {
  let sum = 0;
  let n = 0;
  for (const l of lists) {
    if (l.length < 2) continue;
    let s = 0;
    let pairs = 0;
    for (let a = 0; a < l.length; a++)
      for (let b = a + 1; b < l.length; b++) {
        s += pairScore(l[a] as string, l[b] as string);
        pairs++;
      }
    sum += s / pairs;
    n++;
  }
  return n === 0 ? 0 : sum / n;
}

/** Mean intra-list category diversity of the lists. */
export function categoryDiversity(
  lists: readonly (readonly string[])[],
  catalog: ReadonlyMap<string, ItemMeta>,
  options: CategoryDiversityOptions = {},
): number {
  if (options.mode === 'jaccard') {
    const sets = new Map<string, ReadonlySet<string>>();
    const setOf = (id: string): ReadonlySet<string> => {
      let s = sets.get(id);
      if (s === undefined) sets.set(id, (s = new Set(catalog.get(id)?.categories ?? [])));
      return s;
    };
    return meanOverLists(lists, (a, b) => 1 - jaccard(setOf(a), setOf(b)));
  }
  return meanOverLists(lists, (a, b) => (catalog.get(a)?.categories?.[0] !== catalog.get(b)?.categories?.[0] ? 1 : 0));
}

/** Jaccard similarity |A ∩ B| / |A ∪ B|; 1 for two empty sets. */
export function jaccard(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  let inter = 0;
  for (const x of a) if (b.has(x)) inter++;
  const union = a.size + b.size - inter;
  return union === 0 ? 1 : inter / union;
}

/** Mean over lists of 1 − mean pairwise cosine similarity of the items' vectors. */
export function embeddingDiversity(lists: readonly (readonly string[])[], vectorOf: (itemId: string) => Float32Array | undefined): number {
  const vectorLists = lists.map((l) => l.filter((i) => vectorOf(i) !== undefined));
  const value = meanOverLists(vectorLists, (a, b) => 1 - cosine(vectorOf(a) as Float32Array, vectorOf(b) as Float32Array));
  return Math.max(0, Math.min(1, value));
}

function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = (b[i] ?? 0) as number;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}
