/**
 * The one interface every recommender implements, ML model or heuristic ("dummy model"), so that a
 * single evaluation compares them on equal terms, and serving loads any of them the same way.
 */
import type { ModelArtifact } from './artifact.ts';

/** A feature of a user or an item: a name (such as "country:SE" or "genre:rock") and a weight. */
export type Feature = readonly [name: string, value: number];

/** Features per entity id (user id or item id). */
export type FeatureRows = ReadonlyMap<string, readonly Feature[]>;

/** One positive interaction between a user and an item. */
export interface Interaction {
  readonly userId: string;
  readonly itemId: string;
  /** Epoch milliseconds. */
  readonly ts: number;
  /** Strength of the positive; 1 when the source has none. */
  readonly weight: number;
}

/** What heuristics may know about an item beyond its id. */
export interface ItemMeta {
  readonly type?: string;
  readonly categories?: readonly string[];
  /** Epoch milliseconds. */
  readonly publishedAt?: number;
  readonly showId?: string;
}

/** What segment heuristics may know about a user. */
export interface UserMeta {
  readonly country?: string;
  readonly device?: string;
  readonly ageBand?: string;
  readonly onboardingGenres?: readonly string[];
  /** Epoch milliseconds. */
  readonly signupAt?: number;
}

/** Everything a recommender may be fitted on. Models use what they need and ignore the rest. */
export interface TrainingData {
  readonly interactions: readonly Interaction[];
  readonly userFeatures?: FeatureRows;
  readonly itemFeatures?: FeatureRows;
  readonly items?: ReadonlyMap<string, ItemMeta>;
  readonly users?: ReadonlyMap<string, UserMeta>;
  /** The "now" of the training data (epoch ms): the cut-off; nothing after it was seen. */
  readonly cutoff: number;
  /** Identifies the data the model was fitted on (for example a hash or a partition range). */
  readonly snapshot: string;
  /** Version of the feature transforms that produced the data (lib/core/transforms). */
  readonly transformVersion: string;
}

/** One event of a user's own history, as serving and the Shortcuts ranker see it. */
export interface HistoryEvent {
  readonly itemId: string;
  /** Epoch milliseconds. */
  readonly ts: number;
  readonly eventType: string;
  readonly msPlayed: number;
  readonly progress: number;
  readonly localHour: number;
}

/** Who is asking, and when: the per-request input of every recommender. */
export interface UserContext {
  readonly userId: string;
  /** Epoch milliseconds of the request. */
  readonly now: number;
  /** User features from the shared transforms (used for users unseen in training). */
  readonly features?: readonly Feature[];
  readonly meta?: UserMeta;
  /** The user's own recent history, oldest first. */
  readonly history?: readonly HistoryEvent[];
  /** Hour of day in the user's time zone at request time, 0..23. */
  readonly localHour?: number;
  /** Day of week at request time, 0 (Sunday) .. 6. */
  readonly weekday?: number;
}

/** Per-call options of recommend(). */
export interface RecommendOptions {
  /** Item ids never to return (already seen, already on another shelf...). */
  readonly exclude?: ReadonlySet<string>;
  /** When given, rank only these item ids (they may be unseen in training if the model knows their features). */
  readonly candidates?: readonly string[];
}

export interface ScoredItem {
  readonly itemId: string;
  readonly score: number;
}

/** A fitted recommender. recommend() is pure: same model, context and options give the same list. */
export interface Recommender {
  /** The model kind, such as "hybrid-warp" or "popularity"; the key used to load it back. */
  readonly kind: string;
  /** Top-k items for the user, best first, without excluded items, ties broken by item id. */
  recommend(context: UserContext, k: number, options?: RecommendOptions): ScoredItem[];
  /**
   * Adds or refreshes items from their features without retraining (new content between retrains).
   * Returns how many items the model can now score from features. Models that cannot use features
   * do not implement it.
   */
  indexItems?(itemFeatures: FeatureRows, items?: ReadonlyMap<string, ItemMeta>): number;
  /** Builds any search structure now (serving calls it at load), so no request pays for it. */
  prepare?(): void;
  /** Item ids the model can score. */
  knownItems(): readonly string[];
  /** The artifact that load() turns back into an equal recommender. */
  save(): ModelArtifact;
}
