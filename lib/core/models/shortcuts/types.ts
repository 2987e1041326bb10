/**
 * The contract between the Shortcuts feature transforms (lib/core/transforms/shortcuts.ts) and the
 * Shortcuts ranker (lib/core/models/shortcuts/): learning-to-rank examples, and the catalog facts
 * the transforms need at request time.
 */
import type { ItemMeta } from '../recommender.ts';

/** Rows grouped by decision point: group g spans rows groups[g] .. groups[g+1]-1. */
export interface RankingExamples {
  readonly featureNames: readonly string[];
  /** rows × featureNames.length, row-major. */
  readonly features: Float32Array;
  /** Relevance of each row (1 = the item the user resumed next, 0 otherwise). */
  readonly labels: Float32Array;
  /** Group offsets, length = number of groups + 1. */
  readonly groups: Int32Array;
  /** Item id of each row (for inspection and tests). */
  readonly itemIds: readonly string[];
  /** Catalog metadata the features were computed with; the ranker keeps it so serving maps episodes to shows. */
  readonly catalog?: ReadonlyMap<string, ItemMeta>;
}

/** Catalog facts the Shortcuts transforms use: item metadata and episode publish times per show. */
export interface ShortcutCatalog {
  readonly meta: ReadonlyMap<string, ItemMeta>;
  /** Publish times (epoch ms, ascending) of each show's episodes: "new episode since last play". */
  readonly episodesByShow: ReadonlyMap<string, Float64Array>;
}
