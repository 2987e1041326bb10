/** `random`: a uniformly random ranking per user, fixed by the seed (the floor every model must clear). */
import { makeArtifact, type ModelArtifact } from '../artifact.ts';
import { hashString } from '../../rng.ts';
import type { Recommender, RecommendOptions, ScoredItem, TrainingData, UserContext } from '../recommender.ts';
import { rankByScore } from './rank.ts';

class RandomRecommender implements Recommender {
  readonly kind = 'random';
  constructor(
    private readonly items: readonly string[],
    private readonly seed: number,
    private readonly manifest: Omit<ModelArtifact['manifest'], 'format' | 'sections' | 'payloadBytes' | 'itemIndex' | 'kind'>,
  ) {}

  recommend(context: UserContext, k: number, options?: RecommendOptions): ScoredItem[] {
    const salt = hashString(`${this.seed}:${context.userId}`);
    return rankByScore(this.items, (id) => (Math.imul(hashString(id) ^ salt, 0x9e3779b1) >>> 0) / 4294967296, k, options);
  }

  knownItems(): readonly string[] {
    return this.items;
  }

  save(): ModelArtifact {
    return makeArtifact({ ...this.manifest, kind: this.kind, itemIndex: [...this.items] }, {});
  }
}

export function fitRandom(data: TrainingData, options: { seed: number }): Recommender {
  const items = [...new Set(data.interactions.map((i) => i.itemId))].sort();
  return new RandomRecommender(items, options.seed, {
    hyperparameters: {},
    transformVersion: data.transformVersion,
    dataSnapshot: data.snapshot,
    trainedAt: data.cutoff,
    seed: options.seed,
    extra: {},
  });
}

export function loadRandom(artifact: ModelArtifact): Recommender {
  const { hyperparameters, transformVersion, dataSnapshot, trainedAt, seed, extra, itemIndex } = artifact.manifest;
  return new RandomRecommender(itemIndex, seed, { hyperparameters, transformVersion, dataSnapshot, trainedAt, seed, extra });
}
