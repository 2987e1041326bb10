/**
 * Synthetic RankingExamples, independent of the feature transforms: each group is one decision with
 * six candidates; the chosen item (label 1) maximizes 3·hourAffinity + 0.15·frequency (+ a little noise),
 * while recency is drawn independently, so "most recent first" is right about one time in six.
 */
import { Rng } from '../../../../lib/core/rng.ts';
import type { RankingExamples } from '../../../../lib/core/models/shortcuts/types.ts';

export const SYNTHETIC_FEATURES = ['recencyRank', 'hourAffinity', 'frequency', 'noise'] as const;
export const RECENCY = 0;

export function syntheticExamples(groups: number, seed: number, perGroup = 6): RankingExamples {
  const rng = new Rng(seed);
  const f = SYNTHETIC_FEATURES.length;
  const rows = groups * perGroup;
  const features = new Float32Array(rows * f);
  const labels = new Float32Array(rows);
  const offsets = new Int32Array(groups + 1);
  const itemIds: string[] = [];
  for (let g = 0; g < groups; g++) {
    offsets[g] = g * perGroup;
    const recency = Array.from({ length: perGroup }, (_, i) => i);
    rng.shuffle(recency);
    let best = -1;
    let bestUtility = -Infinity;
    for (let i = 0; i < perGroup; i++) {
      const r = g * perGroup + i;
      const hour = rng.next();
      const frequency = rng.int(11);
      features.set([recency[i] as number, hour, frequency, rng.next()], r * f);
      const utility = 3 * hour + 0.15 * frequency + 0.1 * rng.next();
      if (utility > bestUtility) [best, bestUtility] = [r, utility];
      itemIds.push(`g${g}i${i}`);
    }
    labels[best] = 1;
  }
  offsets[groups] = rows;
  return { featureNames: [...SYNTHETIC_FEATURES], features, labels, groups: offsets, itemIds };
}

/** Share of groups whose top-scored row has label 1 (ties go to the earlier row). */
export function top1Accuracy(examples: RankingExamples, scores: ArrayLike<number>): number {
  let hits = 0;
  const n = examples.groups.length - 1;
  for (let g = 0; g < n; g++) {
    let best = examples.groups[g] as number;
    for (let r = best + 1; r < (examples.groups[g + 1] as number); r++) if ((scores[r] as number) > (scores[best] as number)) best = r;
    if ((examples.labels[best] as number) > 0) hits++;
  }
  return hits / n;
}
