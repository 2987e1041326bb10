/**
 * `newest`: the most recently published items first, the same list for everyone (what a "new
 * releases" row shows): the recency heuristic for shelves of things to start. It knows the items
 * published by the training cut-off; items published later join through indexItems, as they do in
 * serving between retrains. Ties (same publish time) break by item id.
 */
import { makeArtifact, unpackSections, type ModelArtifact } from '../artifact.ts';
import type { FeatureRows, ItemMeta, Recommender, RecommendOptions, ScoredItem, TrainingData, UserContext } from '../recommender.ts';
import { firstK, orderByScore } from './rank.ts';

type ManifestBase = Omit<ModelArtifact['manifest'], 'format' | 'sections' | 'payloadBytes' | 'itemIndex' | 'kind'>;

class NewestRecommender implements Recommender {
  readonly kind = 'newest';
  private order: string[];

  constructor(
    private readonly published: Map<string, number>,
    private readonly manifest: ManifestBase,
  ) {
    this.order = orderByScore(published);
  }

  recommend(_context: UserContext, k: number, options?: RecommendOptions): ScoredItem[] {
    // Scores are publish times in epoch ms; unknown candidates score NaN and are left out.
    return firstK(this.order, this.published, k, options, Number.NaN);
  }

  /** Adds the items of `itemFeatures` whose publish time `items` gives; returns how many it added. */
  indexItems(itemFeatures: FeatureRows, items?: ReadonlyMap<string, ItemMeta>): number {
    let added = 0;
    for (const id of itemFeatures.keys()) {
      const at = items?.get(id)?.publishedAt;
      if (at === undefined || this.published.has(id)) continue;
      this.published.set(id, at);
      added++;
    }
    if (added > 0) this.order = orderByScore(this.published);
    return added;
  }

  knownItems(): readonly string[] {
    return this.order;
  }

  save(): ModelArtifact {
    const itemIndex = [...this.published.keys()].sort();
    return makeArtifact(
      { ...this.manifest, kind: this.kind, itemIndex },
      { publishedAt: Float64Array.from(itemIndex, (id) => this.published.get(id) ?? 0) },
    );
  }
}

/** Items of the training catalog (`data.items`) published by the cut-off, newest first. */
export function fitNewest(data: TrainingData): Recommender {
  const published = new Map<string, number>();
  for (const [id, meta] of data.items ?? []) {
    if (meta.publishedAt !== undefined && meta.publishedAt <= data.cutoff) published.set(id, meta.publishedAt);
  }
  return new NewestRecommender(published, {
    hyperparameters: {},
    transformVersion: data.transformVersion,
    dataSnapshot: data.snapshot,
    trainedAt: data.cutoff,
    seed: 0,
    extra: {},
  });
}

export function loadNewest(artifact: ModelArtifact): Recommender {
  const { publishedAt } = unpackSections(artifact);
  const published = new Map<string, number>();
  artifact.manifest.itemIndex.forEach((id, i) => {
    published.set(id, (publishedAt as Float64Array)[i] as number);
  });
  const { hyperparameters, transformVersion, dataSnapshot, trainedAt, seed, extra } = artifact.manifest;
  return new NewestRecommender(published, { hyperparameters, transformVersion, dataSnapshot, trainedAt, seed, extra });
}
