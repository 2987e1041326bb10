/** `most-recent`: the user's own Shortcuts candidates, most recently played first (see own-history.ts). */
import type { Recommender, TrainingData } from '../recommender.ts';
import { fitOwnHistory } from './own-history.ts';

export function fitMostRecent(data: TrainingData): Recommender {
  return fitOwnHistory('most-recent', data);
}
