/**
 * Accuracy metrics of one ranked list against one user's relevant items (binary: grade 1; graded:
 * any positive number). Every function returns a value in [0, 1]; for a user with no relevant items
 * they return 0 (callers leave such users out of averages); an empty list scores 0. A list that names
 * an item twice is an error: metrics would count it twice.
 */
import { InputError } from '../errors.ts';

export type Relevance = ReadonlyMap<string, number>;

/** Throws InputError when `ranked` holds an item twice. */
export function assertNoDuplicates(ranked: readonly string[], who = 'a list'): void {
  const seen = new Set<string>();
  for (const item of ranked) {
    if (seen.has(item)) throw new InputError(`${who} names item "${item}" twice; a ranking must list each item once`);
    seen.add(item);
  }
}

/** DCG@k = Σ_{i≤k} rel_i / log2(i + 1), ranks from 1. */
export function dcgAtK(ranked: readonly string[], relevant: Relevance, k: number): number {
  let dcg = 0;
  const n = Math.min(k, ranked.length);
  for (let i = 0; i < n; i++) dcg += (relevant.get(ranked[i] as string) ?? 0) / Math.log2(i + 2);
  return dcg;
}

/** NDCG@k: DCG@k over the ideal DCG@k of the relevant items sorted by grade. */
export function ndcgAtK(ranked: readonly string[], relevant: Relevance, k: number): number {
  const grades = [...relevant.values()].filter((g) => g > 0).sort((a, b) => b - a);
  let ideal = 0;
  for (let i = 0; i < Math.min(k, grades.length); i++) ideal += (grades[i] as number) / Math.log2(i + 2);
  return ideal === 0 ? 0 : dcgAtK(ranked, relevant, k) / ideal;
}

function hits(ranked: readonly string[], relevant: Relevance, k: number): number {
  let h = 0;
  for (let i = 0; i < Math.min(k, ranked.length); i++) if ((relevant.get(ranked[i] as string) ?? 0) > 0) h++;
  return h;
}

function relevantCount(relevant: Relevance): number {
  let n = 0;
  for (const g of relevant.values()) if (g > 0) n++;
  return n;
}

/** Hits in the top k over k (a list shorter than k still divides by k). */
export function precisionAtK(ranked: readonly string[], relevant: Relevance, k: number): number {
  return k > 0 ? hits(ranked, relevant, k) / k : 0;
}

/** Hits in the top k over the number of relevant items. */
export function recallAtK(ranked: readonly string[], relevant: Relevance, k: number): number {
  const n = relevantCount(relevant);
  return n === 0 ? 0 : hits(ranked, relevant, k) / n;
}

/** Average precision at k: Σ precision@i at each hit i ≤ k, over min(k, number of relevant). */
export function mapAtK(ranked: readonly string[], relevant: Relevance, k: number): number {
  const n = relevantCount(relevant);
  if (n === 0) return 0;
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

/** 1 / rank of the first hit within k; 0 without a hit. */
export function mrrAtK(ranked: readonly string[], relevant: Relevance, k: number): number {
  for (let i = 0; i < Math.min(k, ranked.length); i++) if ((relevant.get(ranked[i] as string) ?? 0) > 0) return 1 / (i + 1);
  return 0;
}

/** 1 when any of the top k is relevant. */
export function hitRateAtK(ranked: readonly string[], relevant: Relevance, k: number): number {
  return hits(ranked, relevant, k) > 0 ? 1 : 0;
}

export const ACCURACY_METRICS = ['ndcg', 'precision', 'recall', 'map', 'mrr', 'hitrate'] as const;
export type AccuracyMetric = (typeof ACCURACY_METRICS)[number];

const FUNCTIONS: Readonly<Record<AccuracyMetric, (r: readonly string[], rel: Relevance, k: number) => number>> = {
  ndcg: ndcgAtK,
  precision: precisionAtK,
  recall: recallAtK,
  map: mapAtK,
  mrr: mrrAtK,
  hitrate: hitRateAtK,
};

/** Every accuracy metric of one list, keyed `name@k`. */
export function accuracyAtK(ranked: readonly string[], relevant: Relevance, k: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of ACCURACY_METRICS) out[`${m}@${k}`] = FUNCTIONS[m](ranked, relevant, k);
  return out;
}
