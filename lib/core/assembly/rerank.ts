/**
 * Diversity-aware re-ranking: maximal marginal relevance (Carbonell & Goldstein 1998) over the items'
 * categories, with an optional cap per category. Serving (shelf assembly) and evaluation use the same
 * function, so the gate judges the lists users see.
 *
 * From the model's best `pool` items, the list is built greedily; each step takes the item with the
 * highest
 *
 *   mmr(i) = (1 − λ) · relevance(i) − λ · max_{s ∈ chosen} similarity(i, s)
 *
 * where relevance(i) = 1 − rank(i) / pool (rank in the model's list, 0 = best: scale-free, so one λ
 * means the same for every model, whatever its score scale) and similarity is 1 for two items of the
 * same primary category (the first; the one the diversity metric and the cap count) and 0 otherwise
 * (also when either has no category). λ = 0 keeps the model's order; λ = 1 takes one item per
 * category while categories last. Ties break by the model's order.
 *
 * The cap: no more than `maxPerCategory` items of one primary category; items over it are passed
 * over, and only when the pool runs out of other items are they used (best first), so the list is
 * never shorter than the model's. Items keep the model's scores. Pure and deterministic.
 */
import type { ScoredItem } from '../models/recommender.ts';

export interface DiversityConfig {
  /** Strength λ of the diversity term, 0..1; 0 keeps the model's order. */
  readonly lambda: number;
  /** At most this many items of one primary category per list; default no cap. */
  readonly maxPerCategory?: number;
  /** The re-ranker chooses among the model's best poolFactor × k items; default 3. */
  readonly poolFactor?: number;
}

/** A diversity setting outside its range. */
export class DiversityConfigError extends Error {
  override readonly name = 'DiversityConfigError';
}

export const DEFAULT_POOL_FACTOR = 3;

/** True when the setting changes lists at all (λ > 0 or a cap). */
export function rerankActive(config: DiversityConfig | undefined): config is DiversityConfig {
  return config !== undefined && (config.lambda > 0 || config.maxPerCategory !== undefined);
}

/** How many items to ask the model for, so the re-ranker has a pool to choose from. */
export function poolSize(k: number, config: DiversityConfig | undefined): number {
  return rerankActive(config) ? Math.max(k, Math.ceil(k * (config.poolFactor ?? DEFAULT_POOL_FACTOR))) : k;
}

function validate(config: DiversityConfig): void {
  if (!(config.lambda >= 0 && config.lambda <= 1))
    throw new DiversityConfigError(`diversity lambda must be in [0, 1], got ${config.lambda}`);
  if (config.maxPerCategory !== undefined && !(Number.isInteger(config.maxPerCategory) && config.maxPerCategory >= 1))
    throw new DiversityConfigError(`maxPerCategory must be an integer >= 1, got ${config.maxPerCategory}`);
  if (config.poolFactor !== undefined && !(config.poolFactor >= 1))
    throw new DiversityConfigError(`poolFactor must be a number >= 1, got ${config.poolFactor}`);
}

/**
 * Re-ranks the model's list (best first) into the top `k` by MMR and the category cap.
 * `categoryOf` gives an item's primary category (undefined: none known).
 */
export function rerankDiverse(
  ranked: readonly ScoredItem[],
  k: number,
  categoryOf: (itemId: string) => string | undefined,
  config: DiversityConfig,
): ScoredItem[] {
  validate(config);
  if (k <= 0) return [];
  if (!rerankActive(config)) return ranked.slice(0, k);
  const pool = ranked.slice(0, poolSize(k, config));
  const n = pool.length;
  const category = pool.map((s) => categoryOf(s.itemId));
  const taken = new Uint8Array(n);
  const perCategory = new Map<string, number>();
  const cap = config.maxPerCategory ?? Number.POSITIVE_INFINITY;
  const { lambda } = config;
  const out: ScoredItem[] = [];
  while (out.length < k && out.length < n) {
    let best = -1;
    let bestValue = Number.NEGATIVE_INFINITY;
    let overCap = -1;
    for (let i = 0; i < n; i++) {
      if (taken[i] === 1) continue;
      const c = category[i];
      const count = c === undefined ? 0 : (perCategory.get(c) ?? 0);
      if (count >= cap) {
        if (overCap < 0) overCap = i;
        continue;
      }
      const value = (1 - lambda) * (1 - i / n) - (count > 0 ? lambda : 0);
      if (value > bestValue) {
        bestValue = value;
        best = i;
      }
    }
    // Only capped items are left: the best of them, so the list is as long as the model's.
    const pick = best >= 0 ? best : overCap;
    taken[pick] = 1;
    const c = category[pick];
    if (c !== undefined) perCategory.set(c, (perCategory.get(c) ?? 0) + 1);
    out.push(pool[pick] as ScoredItem);
  }
  return out;
}
