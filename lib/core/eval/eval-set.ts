/**
 * The evaluation set of one shelf: the same users, candidates and exclusions for every model and
 * baseline. Built by the per-shelf protocol (lib/core/transforms), consumed by the evaluator
 * (lib/core/metrics, lib/core/gate).
 */
import type { ItemMeta, UserContext } from '../models/recommender.ts';

export interface EvalCase {
  /** What every recommender is asked with. */
  readonly context: UserContext;
  /** Relevant items with their grade (1 for binary relevance). */
  readonly relevant: ReadonlyMap<string, number>;
  /** Items no model may return for this user (for example shows already played). */
  readonly exclude: ReadonlySet<string>;
  /** Slice labels such as { userType: 'new', country: 'SE', device: 'mobile', activity: 'high' }. */
  readonly slices: Readonly<Record<string, string>>;
}

export interface EvalSet {
  readonly shelf: string;
  readonly cases: readonly EvalCase[];
  /** When set, every model ranks only these items (per shelf: shows, playlists...). */
  readonly candidates?: readonly string[];
  /** Interactions per item in the training data (novelty; an item absent here is new). */
  readonly trainItemCounts: ReadonlyMap<string, number>;
  /** Catalog metadata of every rankable item (categories for diversity, publishedAt for freshness). */
  readonly catalog: ReadonlyMap<string, ItemMeta>;
  /** Epoch ms: the start of the test window. */
  readonly evaluatedAt: number;
  /**
   * When the cases are a sample (built for the users an evaluation scores): how many users had a
   * relevant item before sampling. Absent: the cases are every such user.
   */
  readonly population?: number;
}
