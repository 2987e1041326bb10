/**
 * Heuristics over the user's own history, the Shortcuts shelf's baselines: `most-recent` (what you
 * played last, first) and `most-frequent` (what you played most in the last 28 days). Both rank the
 * same candidates the Shortcuts ranker sees (lib/core/features/shortcuts.ts), so the comparison is fair.
 */
import { shortcutCandidates, shortcutCatalog, shortcutUnit } from '../../features/shortcuts.ts';
import { isListen } from '../../features/entities.ts';
import { makeArtifact, type ModelArtifact } from '../artifact.ts';
import type { FeatureRows, ItemMeta, Recommender, RecommendOptions, ScoredItem, TrainingData, UserContext } from '../recommender.ts';
import type { ShortcutCatalog } from '../shortcuts/types.ts';
import { rankByScore } from './rank.ts';

const DAY = 86_400_000;
export type OwnHistoryKind = 'most-recent' | 'most-frequent';

class OwnHistoryRecommender implements Recommender {
  private catalog: ShortcutCatalog;

  constructor(
    readonly kind: OwnHistoryKind,
    meta: ReadonlyMap<string, ItemMeta>,
    private readonly manifest: Omit<ModelArtifact['manifest'], 'format' | 'sections' | 'payloadBytes' | 'itemIndex' | 'kind' | 'extra'>,
  ) {
    this.catalog = shortcutCatalog(meta);
  }

  recommend(context: UserContext, k: number, options?: RecommendOptions): ScoredItem[] {
    const history = context.history ?? [];
    const candidates = shortcutCandidates(history, context.now, this.catalog);
    const pool = options?.candidates ? candidates.filter((c) => options.candidates?.includes(c)) : candidates;
    const rest = { ...(options?.exclude ? { exclude: options.exclude } : {}) };
    if (this.kind === 'most-recent') return rankByScore(pool, (id) => pool.length - pool.indexOf(id), k, rest);
    const counts = new Map<string, number>();
    for (const e of history) {
      if (e.ts >= context.now || e.ts < context.now - 28 * DAY || !isListen(e.eventType)) continue;
      const unit = shortcutUnit(e.itemId, this.catalog.meta);
      counts.set(unit, (counts.get(unit) ?? 0) + 1);
    }
    // Frequency first; recency (candidate order) breaks ties.
    return rankByScore(pool, (id) => (counts.get(id) ?? 0) + (pool.length - pool.indexOf(id)) / (pool.length + 1), k, rest);
  }

  indexItems(_features: FeatureRows, items?: ReadonlyMap<string, ItemMeta>): number {
    if (items !== undefined) this.catalog = shortcutCatalog(new Map([...this.catalog.meta, ...items]));
    return 0;
  }

  knownItems(): readonly string[] {
    return [];
  }

  save(): ModelArtifact {
    // Only what unit mapping needs: each episode's show.
    const episodes = [...this.catalog.meta].filter(([, m]) => m.type === 'episode' && m.showId !== undefined).sort(([a], [b]) => (a < b ? -1 : 1));
    return makeArtifact({ ...this.manifest, kind: this.kind, itemIndex: [], extra: { episodeShows: Object.fromEntries(episodes.map(([id, m]) => [id, m.showId])) } }, {});
  }
}

export function fitOwnHistory(kind: OwnHistoryKind, data: TrainingData): Recommender {
  return new OwnHistoryRecommender(kind, data.items ?? new Map(), { hyperparameters: {}, transformVersion: data.transformVersion, dataSnapshot: data.snapshot, trainedAt: data.cutoff, seed: 0 });
}

export function loadOwnHistory(artifact: ModelArtifact): Recommender {
  const { hyperparameters, transformVersion, dataSnapshot, trainedAt, seed, extra, kind } = artifact.manifest;
  const shows = (extra.episodeShows ?? {}) as Record<string, string>;
  const meta = new Map<string, ItemMeta>(Object.entries(shows).map(([id, showId]) => [id, { type: 'episode', showId }]));
  return new OwnHistoryRecommender(kind as OwnHistoryKind, meta, { hyperparameters, transformVersion, dataSnapshot, trainedAt, seed });
}
