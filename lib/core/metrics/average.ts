/**
 * Mean accuracy over users. Only users with at least one relevant item are averaged (a metric is
 * undefined without relevant items); a user with relevant items but no prediction counts 0, so a
 * model cannot raise its score by staying silent. The counts say how many users were in each group.
 */
import { accuracyAtK, accuracyMetricNames, assertNoDuplicates, relevantCount, type Relevance } from './ranking.ts';

export interface MeanAccuracy {
  /** `ndcg@k`... → mean over the scored users (0 when there are none). */
  readonly metrics: Readonly<Record<string, number>>;
  /** Users with at least one relevant item: the denominator. */
  readonly users: number;
  /** Scored users the predictions did not mention (each counted 0). */
  readonly usersWithoutPrediction: number;
  /** Users of the truth left out because they have no relevant item. */
  readonly usersWithoutRelevant: number;
}

/** Mean of every accuracy metric at k over the users of `truth`; duplicated items throw InputError naming the user. */
export function meanAccuracyAtK(
  predictions: ReadonlyMap<string, readonly string[]>,
  truth: ReadonlyMap<string, Relevance>,
  k: number,
): MeanAccuracy {
  const names = accuracyMetricNames(k);
  const sums: Record<string, number> = Object.fromEntries(names.map((m) => [m, 0]));
  let users = 0;
  let withoutPrediction = 0;
  let withoutRelevant = 0;
  for (const [userId, relevant] of truth) {
    if (relevantCount(relevant) === 0) {
      withoutRelevant++;
      continue;
    }
    users++;
    const ranked = predictions.get(userId);
    if (ranked === undefined) {
      withoutPrediction++;
      continue;
    }
    assertNoDuplicates(ranked, `the list of user ${userId}`);
    const values = accuracyAtK(ranked, relevant, k);
    for (const m of names) sums[m] = (sums[m] as number) + (values[m] as number);
  }
  const metrics = Object.fromEntries(names.map((m) => [m, users === 0 ? 0 : (sums[m] as number) / users]));
  return { metrics, users, usersWithoutPrediction: withoutPrediction, usersWithoutRelevant: withoutRelevant };
}
