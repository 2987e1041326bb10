/**
 * Shelf assembly: Shortcuts, then Podcasts, then Playlists; an item appears on at most one shelf per
 * response (later shelves exclude what earlier ones show); each item says why it is there, in plain
 * words; a configurable number of slots goes to fresh items (published within `maxAgeDays`, so also
 * everything published after the model was trained, until a retrain learns it), ranked by the
 * model's feature-based scores where it has them plus a seeded exploration term, both weighted by a
 * weight that halves every `halfLifeDays` and is 0 past the cut-off. Same plans, context and seed give
 * the same shelves.
 */
import type { ItemMeta, Recommender, RecommendOptions, ScoredItem, UserContext } from '../models/recommender.ts';
import { SHELF_CONFIG, type ShelfConfig } from '../shelf-settings.ts';
import { poolSize, rerankActive, rerankDiverse, type DiversityConfig } from './rerank.ts';
import { hashString } from '../rng.ts';

const DAY = 86_400_000;

export interface FreshOverlayConfig {
  /** Largest number of slots per shelf given to fresh items; default 2 (of 10). 0 turns the overlay off. */
  readonly maxSlots: number;
  /** Items older than this many days are not fresh (weight 0); default 14. Also the `isNew` window. */
  readonly maxAgeDays: number;
  /** The fresh weight halves every this many days; default 3. */
  readonly halfLifeDays: number;
  /** Weight of the seeded exploration term against the model's relevance (0..1 each); default 0.5. */
  readonly exploration: number;
}

export const DEFAULT_OVERLAY: FreshOverlayConfig = { maxSlots: 2, maxAgeDays: 14, halfLifeDays: 3, exploration: 0.5 };

export type ServedVariant = 'live' | 'canary' | 'fallback';

/** What a shelf serves when its model throws while ranking. */
export interface ShelfFallback {
  readonly recommender: Recommender;
  readonly modelVersion: string;
}

export interface ShelfPlan {
  readonly shelf: string;
  readonly title: string;
  readonly recommender: Recommender;
  readonly modelVersion: string;
  readonly variant: ServedVariant;
  readonly fallbackReason?: string;
  /** Items this shelf may show (its content types), or undefined for the model's own candidates. */
  readonly candidates?: readonly string[];
  /** Fresh items of the shelf's types, for the overlay. */
  readonly freshItems?: readonly string[];
  /** Used instead of `recommender` if it throws; without it such a shelf is served empty. */
  readonly fallback?: ShelfFallback;
  readonly k: number;
  /** Diversity re-ranking of the model's list (before the fresh overlay); default the shelf's SHELF_CONFIG setting. */
  readonly diversity?: DiversityConfig;
}

export interface ShelfItem {
  readonly id: string;
  readonly type: string;
  readonly title: string;
  readonly score: number;
  readonly why: string;
  readonly isNew: boolean;
}

export interface AssembledShelf {
  readonly shelf: string;
  readonly title: string;
  readonly modelVersion: string;
  readonly variant: ServedVariant;
  readonly fallbackReason?: string;
  readonly items: ShelfItem[];
}

export interface CatalogView {
  meta(itemId: string): ItemMeta | undefined;
  title(itemId: string): string;
}

/** The fresh weight of an item `ageDays` old: 2^(−age / halfLife) in (0, 1], 0 when negative or past the cut-off. */
export function freshWeight(ageDays: number, config: FreshOverlayConfig): number {
  return ageDays < 0 || ageDays > config.maxAgeDays ? 0 : 0.5 ** (ageDays / config.halfLifeDays);
}

/** A uniform draw in [0, 1) for (seed, item): Murmur3's finalizer over the seed and the item's FNV hash. */
function unitHash(seed: number, itemId: string): number {
  let h = (seed ^ hashString(itemId)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
}

/**
 * Fresh items ranked for the overlay: score = weight(age) × (relevance + exploration × u), where
 * relevance = 1 − rank/n among the fresh items the model can score (0 for those it cannot) and
 * u ∈ [0, 1) is drawn per (seed, item). Items with weight 0 are dropped. Ties by item id.
 */
export function rankFresh(
  freshItems: readonly string[],
  modelRanking: readonly ScoredItem[],
  now: number,
  catalog: CatalogView,
  config: FreshOverlayConfig,
  seed: number,
): ScoredItem[] {
  const relevance = new Map(modelRanking.map((s, r) => [s.itemId, 1 - r / modelRanking.length]));
  const out: ScoredItem[] = [];
  for (const itemId of freshItems) {
    const publishedAt = catalog.meta(itemId)?.publishedAt;
    const weight = publishedAt === undefined ? 0 : freshWeight((now - publishedAt) / DAY, config);
    if (weight === 0) continue;
    const u = unitHash(seed, itemId);
    out.push({ itemId, score: weight * ((relevance.get(itemId) ?? 0) + config.exploration * u) });
  }
  return out.sort((a, b) => b.score - a.score || (a.itemId < b.itemId ? -1 : a.itemId > b.itemId ? 1 : 0));
}

function mostCommon(values: readonly number[]): number | undefined {
  const counts = new Map<number, number>();
  let best: number | undefined;
  for (const v of values) {
    const c = (counts.get(v) ?? 0) + 1;
    counts.set(v, c);
    if (best === undefined || c > (counts.get(best) ?? 0) || (c === counts.get(best) && v < best)) best = v;
  }
  return best;
}

/** The reason shown under an item, in plain words. */
export function whyFor(
  shelf: string,
  variant: ServedVariant,
  itemId: string,
  fresh: boolean,
  context: UserContext,
  catalog: CatalogView,
): string {
  const meta = catalog.meta(itemId);
  const category = meta?.categories?.[0];
  const history = context.history ?? [];
  if (fresh) {
    // A show the listener played that shares the new item's category makes the best reason.
    const like =
      category === undefined
        ? undefined
        : [...history]
            .reverse()
            .map((e) => catalog.meta(e.itemId)?.showId ?? e.itemId)
            .find((id) => id !== itemId && catalog.meta(id)?.categories?.includes(category));
    if (like !== undefined) return `new, from a show like ${catalog.title(like)}`;
    const days = meta?.publishedAt === undefined ? undefined : Math.floor((context.now - meta.publishedAt) / DAY);
    return `new${category ? ` in ${category}` : ''}${days === undefined ? '' : days <= 0 ? ', out today' : `, out ${days} day${days === 1 ? '' : 's'} ago`}`;
  }
  if (shelf === 'shortcuts') {
    const hours = history.filter((e) => e.itemId === itemId || catalog.meta(e.itemId)?.showId === itemId).map((e) => e.localHour);
    const hour = mostCommon(hours);
    if (hour !== undefined && hours.length >= 2) return `you usually listen around ${hour}:00`;
    return 'you were listening to this recently';
  }
  if (variant === 'fallback' || history.length === 0) {
    const genres = context.meta?.onboardingGenres ?? [];
    if (history.length === 0 && genres.length > 0) return `popular with listeners who like ${genres.slice(0, 2).join(' and ')}`;
    return context.meta?.country ? `popular in ${context.meta.country}` : 'popular right now';
  }
  return category ? `because you listen to ${category}` : 'picked for you';
}

function rankSafely(recommender: Recommender, context: UserContext, k: number, options: RecommendOptions): ScoredItem[] | Error {
  try {
    return recommender.recommend(context, k, options);
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

/**
 * Fills one shelf: the model's ranking with up to `maxSlots` fresh items at positions 3, 6, ...
 * A model that throws is replaced by the plan's fallback (variant 'fallback', with the reason).
 */
export function fillShelf(
  plan: ShelfPlan,
  context: UserContext,
  exclude: ReadonlySet<string>,
  catalog: CatalogView,
  overlay: FreshOverlayConfig = DEFAULT_OVERLAY,
  seed = 0,
): AssembledShelf {
  const options: RecommendOptions = { exclude, ...(plan.candidates ? { candidates: plan.candidates } : {}) };
  let served: { recommender: Recommender; modelVersion: string; variant: ServedVariant; fallbackReason?: string } = plan;
  const diversity = plan.diversity ?? (SHELF_CONFIG as Readonly<Record<string, ShelfConfig | undefined>>)[plan.shelf]?.diversity;
  const asked = poolSize(plan.k, diversity);
  let base = rankSafely(plan.recommender, context, asked, options);
  if (base instanceof Error) {
    const reason = `model ${plan.modelVersion} failed while ranking: ${base.message}`;
    served = plan.fallback
      ? { ...plan.fallback, variant: 'fallback', fallbackReason: reason }
      : { recommender: plan.recommender, modelVersion: plan.modelVersion, variant: 'fallback', fallbackReason: reason };
    const again = plan.fallback ? rankSafely(plan.fallback.recommender, context, asked, options) : [];
    base = again instanceof Error ? [] : again;
  }
  if (rerankActive(diversity)) base = rerankDiverse(base, plan.k, (id) => catalog.meta(id)?.categories?.[0], diversity);
  let fresh: ScoredItem[] = [];
  if (plan.freshItems !== undefined && plan.freshItems.length > 0 && overlay.maxSlots > 0) {
    // The same candidates array on every request: models may cache their index of a list they have seen.
    const ranked = rankSafely(served.recommender, context, plan.freshItems.length, { exclude, candidates: plan.freshItems });
    const open = plan.freshItems.filter((id) => !exclude.has(id));
    fresh = rankFresh(open, ranked instanceof Error ? [] : ranked, context.now, catalog, overlay, seed).slice(
      0,
      Math.min(overlay.maxSlots, plan.k),
    );
  }
  const freshIds = new Set(fresh.map((f) => f.itemId));
  const merged: { item: ScoredItem; fresh: boolean }[] = base
    .filter((b) => !freshIds.has(b.itemId))
    .map((item) => ({ item, fresh: false }));
  fresh.forEach((f, i) => {
    merged.splice(Math.min(merged.length, 2 + i * 3), 0, { item: f, fresh: true });
  });
  const items = merged.slice(0, plan.k).map(({ item, fresh: isFresh }) => {
    const meta = catalog.meta(item.itemId);
    const isNew =
      meta?.publishedAt !== undefined && context.now - meta.publishedAt <= overlay.maxAgeDays * DAY && context.now >= meta.publishedAt;
    return {
      id: item.itemId,
      type: meta?.type ?? 'unknown',
      title: catalog.title(item.itemId),
      score: Number(item.score.toFixed(6)),
      why: whyFor(plan.shelf, served.variant, item.itemId, isFresh, context, catalog),
      isNew,
    };
  });
  return {
    shelf: plan.shelf,
    title: plan.title,
    modelVersion: served.modelVersion,
    variant: served.variant,
    ...(served.fallbackReason ? { fallbackReason: served.fallbackReason } : {}),
    items,
  };
}

/**
 * Fills the shelves in the order given (Shortcuts, Podcasts, Playlists); each excludes what the
 * shelves before it show. `seed` (per request) drives the overlay's exploration.
 */
export function assembleHome(
  plans: readonly ShelfPlan[],
  context: UserContext,
  catalog: CatalogView,
  overlay: FreshOverlayConfig = DEFAULT_OVERLAY,
  seed = 0,
): AssembledShelf[] {
  const shown = new Set<string>();
  return plans.map((plan) => {
    const shelf = fillShelf(plan, context, shown, catalog, overlay, seed);
    for (const item of shelf.items) shown.add(item.id);
    return shelf;
  });
}
