/**
 * Beyond-accuracy metrics of a whole run (one top-k list per user). All in [0, 1] except novelty
 * (bits, ≥ 0). Empty input gives 0.
 */
import type { ItemMeta } from '../models/recommender.ts';
import { Rng } from '../rng.ts';

const DAY = 86_400_000;

/** Distinct recommended items over the catalog size. */
export function catalogCoverage(lists: readonly (readonly string[])[], catalogSize: number): number {
  if (catalogSize <= 0) return 0;
  const distinct = new Set<string>();
  for (const l of lists) for (const i of l) distinct.add(i);
  return Math.min(1, distinct.size / catalogSize);
}

/** Mean over lists of the share of item pairs whose primary categories differ (lists of < 2 items are skipped). */
export function categoryDiversity(lists: readonly (readonly string[])[], catalog: ReadonlyMap<string, ItemMeta>): number {
  let sum = 0;
  let n = 0;
  for (const l of lists) {
    if (l.length < 2) continue;
    let differ = 0;
    let pairs = 0;
    for (let a = 0; a < l.length; a++)
      for (let b = a + 1; b < l.length; b++) {
        pairs++;
        if (catalog.get(l[a] as string)?.categories?.[0] !== catalog.get(l[b] as string)?.categories?.[0]) differ++;
      }
    sum += differ / pairs;
    n++;
  }
  return n === 0 ? 0 : sum / n;
}

/** Mean over lists of 1 − mean pairwise cosine similarity of the items' vectors (items without one are skipped). */
export function embeddingDiversity(lists: readonly (readonly string[])[], vectorOf: (itemId: string) => Float32Array | undefined): number {
  let sum = 0;
  let n = 0;
  for (const l of lists) {
    const vs = l.map(vectorOf).filter((v): v is Float32Array => v !== undefined);
    if (vs.length < 2) continue;
    let sim = 0;
    let pairs = 0;
    for (let a = 0; a < vs.length; a++)
      for (let b = a + 1; b < vs.length; b++) {
        sim += cosine(vs[a] as Float32Array, vs[b] as Float32Array);
        pairs++;
      }
    sum += 1 - sim / pairs;
    n++;
  }
  return n === 0 ? 0 : Math.max(0, Math.min(1, sum / n));
}

function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += (a[i] as number) * (b[i] as number);
    na += (a[i] as number) ** 2;
    nb += (b[i] as number) ** 2;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

/**
 * Mean self-information −log2(p(i)) of recommended items, p(i) = (count(i) + 1) / (total + catalog size)
 * (add-one smoothing, so an item unseen in training is maximally novel, not infinitely).
 */
export function novelty(lists: readonly (readonly string[])[], trainCounts: ReadonlyMap<string, number>, catalogSize: number): number {
  let total = 0;
  for (const c of trainCounts.values()) total += c;
  const denominator = total + Math.max(catalogSize, trainCounts.size, 1);
  let sum = 0;
  let n = 0;
  for (const l of lists)
    for (const i of l) {
      sum += -Math.log2(((trainCounts.get(i) ?? 0) + 1) / denominator);
      n++;
    }
  return n === 0 ? 0 : sum / n;
}

/** 1 − mean Jaccard overlap of top-k lists over `pairs` random user pairs (seeded). */
export function personalization(lists: readonly (readonly string[])[], pairs = 2000, seed = 1): number {
  if (lists.length < 2) return 0;
  const rng = new Rng(seed).fork('personalization');
  const sets = lists.map((l) => new Set(l));
  let sum = 0;
  for (let p = 0; p < pairs; p++) {
    const a = rng.int(sets.length);
    let b = rng.int(sets.length - 1);
    if (b >= a) b++;
    const sa = sets[a] as Set<string>;
    const sb = sets[b] as Set<string>;
    let inter = 0;
    for (const i of sa) if (sb.has(i)) inter++;
    const union = sa.size + sb.size - inter;
    sum += union === 0 ? 1 : inter / union;
  }
  return 1 - sum / pairs;
}

/** Share of all recommended slots filled by items published within `days` before `at` (epoch ms). */
export function freshness(lists: readonly (readonly string[])[], catalog: ReadonlyMap<string, ItemMeta>, at: number, days: number): number {
  let fresh = 0;
  let slots = 0;
  for (const l of lists)
    for (const i of l) {
      slots++;
      const published = catalog.get(i)?.publishedAt;
      if (published !== undefined && published <= at + days * DAY && published >= at - days * DAY) fresh++;
    }
  return slots === 0 ? 0 : fresh / slots;
}

/** Recall over relevant items absent from training: hits among them over their number (0 when there are none). */
export function newItemRecall(lists: readonly (readonly string[])[], relevant: readonly ReadonlyMap<string, number>[], trainCounts: ReadonlyMap<string, number>, k: number): { value: number; items: number } {
  let hit = 0;
  let total = 0;
  lists.forEach((l, u) => {
    const top = new Set(l.slice(0, k));
    for (const [item, grade] of relevant[u] ?? new Map<string, number>()) {
      if (grade <= 0 || trainCounts.has(item)) continue;
      total++;
      if (top.has(item)) hit++;
    }
  });
  return { value: total === 0 ? 0 : hit / total, items: total };
}
