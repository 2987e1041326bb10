/**
 * Heuristics over the user's own history, the Shortcuts shelf's baselines: `most-recent` (what you
 * played last, first) and `most-frequent` (what you played most in the last 28 days). Both rank the
 * same candidates the Shortcuts ranker sees (lib/core/transforms/shortcuts.ts), so the comparison is fair.
 * A request without usable history falls back to the user's training interactions (their top
 * FALLBACK_ITEMS units by last play, or by weight in the last 28 days before the cut-off), stored in
 * the artifact as typed arrays: users in extra.fallbackUsers, their lists in fallbackOffsets/fallbackUnits
 * (rows of itemIndex).
 */
import { shortcutCandidates, shortcutCatalog, shortcutUnit } from '../../transforms/shortcuts.ts';
import { isListen } from '../../transforms/entities.ts';
import { makeArtifact, unpackSections, type ModelArtifact } from '../artifact.ts';
import type { FeatureRows, ItemMeta, Recommender, RecommendOptions, ScoredItem, TrainingData, UserContext } from '../recommender.ts';
import type { ShortcutCatalog } from '../shortcuts/types.ts';
import { rankByScore } from './rank.ts';

const DAY = 86_400_000;
export type OwnHistoryKind = 'most-recent' | 'most-frequent';
/** Longest fallback list kept per training user. */
export const FALLBACK_ITEMS = 20;

/** Each training user's units, best first, for requests without history. */
type Fallback = ReadonlyMap<string, readonly string[]>;

class OwnHistoryRecommender implements Recommender {
  private catalog: ShortcutCatalog;

  constructor(
    readonly kind: OwnHistoryKind,
    meta: ReadonlyMap<string, ItemMeta>,
    private readonly manifest: Omit<ModelArtifact['manifest'], 'format' | 'sections' | 'payloadBytes' | 'itemIndex' | 'kind' | 'extra'>,
    private readonly fallback: Fallback = new Map(),
  ) {
    this.catalog = shortcutCatalog(meta);
  }

  recommend(context: UserContext, k: number, options?: RecommendOptions): ScoredItem[] {
    const history = context.history ?? [];
    const candidates = shortcutCandidates(history, context.now, this.catalog);
    const pool = options?.candidates ? candidates.filter((c) => options.candidates?.includes(c)) : candidates;
    const rest = { ...(options?.exclude ? { exclude: options.exclude } : {}) };
    if (candidates.length === 0) {
      const list = this.fallback.get(context.userId) ?? [];
      const at = new Map(list.map((id, i) => [id, list.length - i]));
      return rankByScore(list, (id) => at.get(id) ?? Number.NaN, k, options);
    }
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
    const episodes = [...this.catalog.meta]
      .filter(([, m]) => (m.type === 'episode' || m.type === 'track') && m.showId !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : 1));
    const users = [...this.fallback.keys()].sort();
    const units = [...new Set([...this.fallback.values()].flat())].sort();
    const row = new Map(units.map((u, i) => [u, i]));
    const offsets = new Int32Array(users.length + 1);
    const lists = users.map((u) => this.fallback.get(u) ?? []);
    lists.forEach((list, i) => {
      offsets[i + 1] = (offsets[i] as number) + list.length;
    });
    const unitRows = Int32Array.from(lists.flat(), (u) => row.get(u) as number);
    return makeArtifact(
      {
        ...this.manifest,
        kind: this.kind,
        itemIndex: units,
        extra: { episodeShows: Object.fromEntries(episodes.map(([id, m]) => [id, m.showId])), fallbackUsers: users },
      },
      { fallbackOffsets: offsets, fallbackUnits: unitRows },
    );
  }
}

/** Each user's training units, best first by the kind's rule, at most FALLBACK_ITEMS. */
function fallbackLists(kind: OwnHistoryKind, data: TrainingData): Map<string, string[]> {
  const meta = data.items ?? new Map<string, ItemMeta>();
  const stats = new Map<string, Map<string, { last: number; weight: number }>>();
  for (const i of data.interactions) {
    if (i.ts > data.cutoff) continue;
    let units = stats.get(i.userId);
    if (units === undefined) stats.set(i.userId, (units = new Map()));
    const unit = shortcutUnit(i.itemId, meta);
    const s = units.get(unit) ?? { last: -Infinity, weight: 0 };
    units.set(unit, { last: Math.max(s.last, i.ts), weight: s.weight + (i.ts >= data.cutoff - 28 * DAY ? i.weight : 0) });
  }
  const out = new Map<string, string[]>();
  for (const [userId, units] of stats) {
    const entries = [...units].sort(
      ([a, x], [b, y]) => (kind === 'most-frequent' ? y.weight - x.weight : 0) || y.last - x.last || (a < b ? -1 : a > b ? 1 : 0),
    );
    out.set(
      userId,
      entries.slice(0, FALLBACK_ITEMS).map(([unit]) => unit),
    );
  }
  return out;
}

export function fitOwnHistory(kind: OwnHistoryKind, data: TrainingData): Recommender {
  const manifest = {
    hyperparameters: { fallbackItems: FALLBACK_ITEMS },
    transformVersion: data.transformVersion,
    dataSnapshot: data.snapshot,
    trainedAt: data.cutoff,
    seed: 0,
  };
  return new OwnHistoryRecommender(kind, data.items ?? new Map(), manifest, fallbackLists(kind, data));
}

export function loadOwnHistory(artifact: ModelArtifact): Recommender {
  const { hyperparameters, transformVersion, dataSnapshot, trainedAt, seed, extra, kind, itemIndex } = artifact.manifest;
  const arrays = unpackSections(artifact);
  const offsets = (arrays.fallbackOffsets ?? new Int32Array(1)) as Int32Array;
  const unitRows = (arrays.fallbackUnits ?? new Int32Array(0)) as Int32Array;
  const users = (extra.fallbackUsers ?? []) as string[];
  const fallback = new Map(
    users.map((u, i) => [u, Array.from(unitRows.subarray(offsets[i], offsets[i + 1]), (r) => itemIndex[r] as string)]),
  );
  const shows = (extra.episodeShows ?? {}) as Record<string, string>;
  const meta = new Map<string, ItemMeta>(Object.entries(shows).map(([id, showId]) => [id, { type: 'episode', showId }]));
  return new OwnHistoryRecommender(
    kind as OwnHistoryKind,
    meta,
    { hyperparameters, transformVersion, dataSnapshot, trainedAt, seed },
    fallback,
  );
}
