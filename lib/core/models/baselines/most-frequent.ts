/** `most-frequent`: the user's own Shortcuts candidates, most played in the last 28 days first (see own-history.ts). */
import type { Recommender, TrainingData } from '../recommender.ts';
import { fitOwnHistory } from './own-history.ts';

export function fitMostFrequent(data: TrainingData): Recommender {
  return fitOwnHistory('most-frequent', data);
}
