/** Turns any artifact back into its recommender, by the manifest's kind. */
import { ArtifactError, type ModelArtifact } from './artifact.ts';
import { loadExternal } from './baselines/external.ts';
import { loadNewest } from './baselines/newest.ts';
import { loadOwnHistory } from './baselines/own-history.ts';
import { loadScoreTable } from './baselines/popularity.ts';
import { loadSegmentPopularity } from './baselines/popularity-segment.ts';
import { loadRandom } from './baselines/random.ts';
import { loadEase } from './ease/index.ts';
import { loadHybrid } from './hybrid/index.ts';
import type { Recommender } from './recommender.ts';
import { loadShortcutsRanker } from './shortcuts/model.ts';

const LOADERS: Readonly<Record<string, (artifact: ModelArtifact) => Recommender>> = {
  'hybrid-warp': loadHybrid,
  'hybrid-bpr': loadHybrid,
  'shortcuts-ranker': loadShortcutsRanker,
  popularity: loadScoreTable,
  'recent-popularity': loadScoreTable,
  'popularity-segment': loadSegmentPopularity,
  newest: loadNewest,
  random: loadRandom,
  'most-recent': loadOwnHistory,
  'most-frequent': loadOwnHistory,
  external: loadExternal,
  ease: loadEase,
};

export const MODEL_KINDS: readonly string[] = Object.keys(LOADERS).sort();

export function loadRecommender(artifact: ModelArtifact): Recommender {
  const loader = LOADERS[artifact.manifest.kind];
  if (loader === undefined)
    throw new ArtifactError(`unknown model kind "${artifact.manifest.kind}"; known kinds: ${MODEL_KINDS.join(', ')}`);
  return loader(artifact);
}
