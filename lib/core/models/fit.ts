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

export const BASELINES_BY_SHELF: Readonly<Record<Shelf, readonly string[]>> = {
  podcasts: ['popularity', 'popularity-segment', 'recent-popularity', 'newest', 'random'],
  playlists: ['popularity', 'popularity-segment', 'random'],
  shortcuts: ['most-recent', 'most-frequent'],
};

/**
 * Strong simple models the candidate is also compared with when a run asks for them (hyperparameter
 * `strongBaselines` = 'true', the shelf's default in lib/core/shelf-settings.ts): `ease`, the
 * closed-form item-item model (with user-feature columns, so it also ranks Playlists' new listeners).
 * A candidate that does not beat it is not worth its training cost, and the gate says so by name.
 */
export const STRONG_BASELINES_BY_SHELF: Readonly<Record<Shelf, readonly string[]>> = {
  podcasts: ['ease'],
  playlists: ['ease'],
  shortcuts: [],
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
