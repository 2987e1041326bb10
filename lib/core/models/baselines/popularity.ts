/**
 * Popularity baselines: global time-decayed popularity (`popularity`) and popularity of recently
 * published items first (`recent-popularity`, a freshness heuristic). Scores are the sum of
 * interaction weights decayed by 0.5^(age / half-life), age measured from the training cut-off.
 */
import { makeArtifact, unpackSections, type ModelArtifact } from '../artifact.ts';
import type { Recommender, RecommendOptions, ScoredItem, TrainingData, UserContext } from '../recommender.ts';
import { firstK, orderByScore } from './rank.ts';

const DAY = 86_400_000;

export interface PopularityOptions {
  /** Half-life of an interaction's weight, in days; default 14. */
  readonly halfLifeDays?: number;
}

/** Decayed popularity of each item in the training data. */
export function decayedPopularity(data: TrainingData, halfLifeDays: number): Map<string, number> {
  const scores = new Map<string, number>();
  const halfLife = halfLifeDays * DAY;
  for (const i of data.interactions) {
    const w = i.weight * 0.5 ** (Math.max(0, data.cutoff - i.ts) / halfLife);
    scores.set(i.itemId, (scores.get(i.itemId) ?? 0) + w);
  }
  return scores;
}

class ScoreTableRecommender implements Recommender {
  private readonly order: string[];

  constructor(
    readonly kind: string,
    private readonly scores: Map<string, number>,
    private readonly manifestBase: Omit<ModelArtifact['manifest'], 'format' | 'sections' | 'payloadBytes' | 'itemIndex' | 'kind'>,
  ) {
    this.order = orderByScore(scores);
  }

  recommend(_context: UserContext, k: number, options?: RecommendOptions): ScoredItem[] {
    return firstK(this.order, this.scores, k, options);
  }

  knownItems(): readonly string[] {
    return this.order;
  }

  save(): ModelArtifact {
    const itemIndex = [...this.scores.keys()].sort();
    return makeArtifact(
      { ...this.manifestBase, kind: this.kind, itemIndex },
      { scores: Float64Array.from(itemIndex, (id) => this.scores.get(id) ?? 0) },
    );
  }
}

function baseManifest(data: TrainingData, hyperparameters: Record<string, unknown>, seed = 0) {
  return { hyperparameters, transformVersion: data.transformVersion, dataSnapshot: data.snapshot, trainedAt: data.cutoff, seed, extra: {} };
}

export function fitPopularity(data: TrainingData, options: PopularityOptions = {}): Recommender {
  const halfLifeDays = options.halfLifeDays ?? 14;
  return new ScoreTableRecommender('popularity', decayedPopularity(data, halfLifeDays), baseManifest(data, { halfLifeDays }));
}

/**
 * Items published within `windowDays` before the cut-off rank first (by popularity), then every other
 * item by popularity: what an editor's "new and popular" row does.
 */
export function fitRecentPopularity(data: TrainingData, options: PopularityOptions & { windowDays?: number } = {}): Recommender {
  const halfLifeDays = options.halfLifeDays ?? 7;
  const windowDays = options.windowDays ?? 14;
  const pop = decayedPopularity(data, halfLifeDays);
  const max = Math.max(1, ...pop.values());
  const scores = new Map<string, number>();
  for (const [itemId, s] of pop) {
    const published = data.items?.get(itemId)?.publishedAt;
    scores.set(itemId, s / max + (published !== undefined && published >= data.cutoff - windowDays * DAY ? 1 : 0));
  }
  return new ScoreTableRecommender('recent-popularity', scores, baseManifest(data, { halfLifeDays, windowDays }));
}

/** Loads `popularity` and `recent-popularity` artifacts. */
export function loadScoreTable(artifact: ModelArtifact): Recommender {
  const { scores } = unpackSections(artifact);
  const table = new Map<string, number>();
  artifact.manifest.itemIndex.forEach((id, i) => {
    table.set(id, (scores as Float64Array)[i] as number);
  });
  const { kind, hyperparameters, transformVersion, dataSnapshot, trainedAt, seed, extra } = artifact.manifest;
  return new ScoreTableRecommender(kind, table, { hyperparameters, transformVersion, dataSnapshot, trainedAt, seed, extra });
}
