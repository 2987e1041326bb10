/** `random`: a uniformly random ranking per user, fixed by the seed (the floor every model must clear). */
import { makeArtifact, type ModelArtifact } from '../artifact.ts';
import { hashString } from '../../rng.ts';
import type { Recommender, RecommendOptions, ScoredItem, TrainingData, UserContext } from '../recommender.ts';
import { topKOfScores } from './rank.ts';

/** Item ids once each (the ranking counts a listed item once) with their hashes. */
interface HashedItems {
  readonly ids: readonly string[];
  readonly hashes: Int32Array;
}

function hashed(ids: readonly string[]): HashedItems {
  const unique = [...new Set(ids)];
  return { ids: unique, hashes: Int32Array.from(unique, (id) => hashString(id)) };
}

class RandomRecommender implements Recommender {
  readonly kind = 'random';
  private readonly own: HashedItems;
  /** Per candidate array (evaluation and serving pass the same one for every user): its hashes once. */
  private readonly byCandidates = new WeakMap<readonly string[], HashedItems>();

  constructor(
    private readonly items: readonly string[],
    private readonly seed: number,
    private readonly manifest: Omit<ModelArtifact['manifest'], 'format' | 'sections' | 'payloadBytes' | 'itemIndex' | 'kind'>,
  ) {
    this.own = hashed(items);
  }

  /** Any listed candidate gets a score, known or not: a random ranking needs no training signal. */
  recommend(context: UserContext, k: number, options: RecommendOptions = {}): ScoredItem[] {
    const salt = hashString(`${this.seed}:${context.userId}`);
    let pool = this.own;
    if (options.candidates !== undefined) {
      const cached = this.byCandidates.get(options.candidates);
      pool = cached ?? hashed(options.candidates);
      if (cached === undefined) this.byCandidates.set(options.candidates, pool);
    }
    const scores = new Float64Array(pool.hashes.length);
    for (let i = 0; i < scores.length; i++) scores[i] = (Math.imul((pool.hashes[i] as number) ^ salt, 0x9e3779b1) >>> 0) / 4294967296;
    return topKOfScores(pool.ids, scores, k, { exclude: options.exclude });
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
