import type { Feature, Interaction, TrainingData } from '../../../../lib/core/models/recommender.ts';

/** Training data of (user, item) pairs, one interaction each, with optional user features. */
export const easeData = (pairs: readonly (readonly [string, string])[], userFeatures?: Map<string, Feature[]>): TrainingData => ({
  interactions: pairs.map(([userId, itemId], i): Interaction => ({ userId, itemId, ts: i, weight: 1 })),
  ...(userFeatures ? { userFeatures } : {}),
  cutoff: 1000,
  snapshot: 'ease-test',
  transformVersion: 'test',
});
