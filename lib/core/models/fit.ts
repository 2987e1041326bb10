/** Which dummy models each shelf is compared with, and how to fit one by name. */
import type { Shelf } from '../contract.ts';
import { ConfigError } from '../errors.ts';
import { fitNewest } from './baselines/newest.ts';
import { fitOwnHistory } from './baselines/own-history.ts';
import { fitPopularity, fitRecentPopularity } from './baselines/popularity.ts';
import { fitSegmentPopularity } from './baselines/popularity-segment.ts';
import { fitRandom } from './baselines/random.ts';
import { fitEase } from './ease/index.ts';
import type { Recommender, TrainingData } from './recommender.ts';

// `ease` is the strong simple baseline (closed-form item-item; with user features on Playlists, where
// every evaluated listener is new): a hybrid that does not beat it is not worth its training cost.
export const BASELINES_BY_SHELF: Readonly<Record<Shelf, readonly string[]>> = {
  podcasts: ['ease', 'popularity', 'popularity-segment', 'recent-popularity', 'newest', 'random'],
  playlists: ['ease', 'popularity', 'popularity-segment', 'random'],
  shortcuts: ['most-recent', 'most-frequent'],
};

/** Every baseline fitBaseline knows, sorted. */
export const BASELINE_NAMES: readonly string[] = [
  'ease',
  'most-frequent',
  'most-recent',
  'newest',
  'popularity',
  'popularity-segment',
  'random',
  'recent-popularity',
];

/** Fits the named baseline with its default options; an unknown name is a ConfigError listing the known ones. */
export function fitBaseline(name: string, data: TrainingData, seed: number): Recommender {
  switch (name) {
    case 'popularity':
      return fitPopularity(data);
    case 'recent-popularity':
      return fitRecentPopularity(data);
    case 'popularity-segment':
      return fitSegmentPopularity(data);
    case 'newest':
      return fitNewest(data);
    case 'random':
      return fitRandom(data, { seed });
    case 'ease':
      return fitEase(data);
    case 'most-recent':
    case 'most-frequent':
      return fitOwnHistory(name, data);
    default:
      throw new ConfigError(`unknown baseline "${name}"; known baselines: ${BASELINE_NAMES.join(', ')}`);
  }
}
