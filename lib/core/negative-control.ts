/**
 * Negative controls: training data with its signal destroyed on purpose. A model trained on it must
 * be rejected by the gate; the pipeline tests and `shelves pipeline --sabotage` use it to prove the
 * gate has teeth. Deterministic given the seed.
 */
import type { TrainingData } from './models/recommender.ts';
import type { RankingExamples } from './models/shortcuts/types.ts';
import { Rng } from './rng.ts';

/**
 * Replaces the item of every interaction by one drawn uniformly from the items that occur: users keep
 * their activity, everything else is noise. (A permutation, which keeps each item's popularity, is
 * too weak a control: a model trained on it is a popularity model, and can beat a segment heuristic.)
 */
export function shuffleInteractions(data: TrainingData, seed: number): TrainingData {
  const rng = new Rng(seed).fork('shuffle-interactions');
  const items = [...new Set(data.interactions.map((i) => i.itemId))].sort();
  return {
    ...data,
    interactions: data.interactions.map((i) => ({ ...i, itemId: items[rng.int(items.length)] as string })),
    snapshot: `${data.snapshot}+shuffled`,
  };
}

/** Moves each group's positive label to a random row of the group. */
export function shuffleLabels(examples: RankingExamples, seed: number): RankingExamples {
  const rng = new Rng(seed).fork('shuffle-labels');
  const labels = new Float32Array(examples.labels.length);
  for (let g = 0; g + 1 < examples.groups.length; g++) {
    const from = examples.groups[g] as number;
    const to = examples.groups[g + 1] as number;
    if (to > from) labels[from + rng.int(to - from)] = 1;
  }
  return { ...examples, labels };
}
