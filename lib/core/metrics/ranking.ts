/**
 * The accuracy metrics of one ranked list against one user's relevant items, by name. Each metric
 * lives in its own file (ndcg.ts, precision.ts, ...); this module lists them so that the evaluator,
 * the CLI and the reports share one set of names (`ndcg@10`...).
 */
import { hitRateAtK } from './hit-rate.ts';
import { mapAtK } from './map.ts';
import { mrrAtK } from './mrr.ts';
import { ndcgAtK } from './ndcg.ts';
import { precisionAtK } from './precision.ts';
import { recallAtK } from './recall.ts';
import type { Relevance } from './relevance.ts';

export { assertNoDuplicates, hitsAtK, relevantCount, type Relevance } from './relevance.ts';
export { dcgAtK, idealDcgAtK, ndcgAtK } from './ndcg.ts';
export { precisionAtK } from './precision.ts';
export { recallAtK } from './recall.ts';
export { mapAtK } from './map.ts';
export { mrrAtK } from './mrr.ts';
export { hitRateAtK } from './hit-rate.ts';

export const ACCURACY_METRICS = ['ndcg', 'precision', 'recall', 'map', 'mrr', 'hitrate'] as const;
export type AccuracyMetric = (typeof ACCURACY_METRICS)[number];

/** A per-list accuracy metric: value in [0, 1]. */
export type ListMetric = (ranked: readonly string[], relevant: Relevance, k: number) => number;

export const ACCURACY_FUNCTIONS: Readonly<Record<AccuracyMetric, ListMetric>> = {
  ndcg: ndcgAtK,
  precision: precisionAtK,
  recall: recallAtK,
  map: mapAtK,
  mrr: mrrAtK,
  hitrate: hitRateAtK,
};

/** The report keys of every accuracy metric at k, in ACCURACY_METRICS order: `ndcg@10`, `precision@10`... */
export function accuracyMetricNames(k: number): string[] {
  return ACCURACY_METRICS.map((m) => `${m}@${k}`);
}

/** Every accuracy metric of one list, keyed `name@k`. */
export function accuracyAtK(ranked: readonly string[], relevant: Relevance, k: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of ACCURACY_METRICS) out[`${m}@${k}`] = ACCURACY_FUNCTIONS[m](ranked, relevant, k);
  return out;
}
