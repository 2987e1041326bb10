/**
 * Negative controls: training data with its signal destroyed on purpose. A model trained on it must
 * be rejected by the gate; the pipeline tests and `shelves pipeline --sabotage` use it to prove the
 * gate has teeth. Deterministic given the seed.
 */
import type { TrainingData } from './models/recommender.ts';
import type { RankingExamples } from './models/shortcuts/types.ts';
import { Rng } from './rng.ts';

/** Reassigns the items of all interactions by a random permutation: users keep their activity, items their popularity, the pairing is noise. */
export function shuffleInteractions(data: TrainingData, seed: number): TrainingData {
  const rng = new Rng(seed).fork('shuffle-interactions');
  const items = rng.shuffle(data.interactions.map((i) => i.itemId));
  return { ...data, interactions: data.interactions.map((i, n) => ({ ...i, itemId: items[n] as string })), snapshot: `${data.snapshot}+shuffled` };
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
