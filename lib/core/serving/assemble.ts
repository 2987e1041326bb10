/**
 * Shelf assembly: Shortcuts, then Podcasts, then Playlists; an item appears on at most one shelf per
 * response (later shelves exclude what earlier ones show); each item says why it is there; a
 * configurable share of slots goes to fresh items (published after the model was trained or within a
 * few days), weighted by an exploration weight that decays with age and stops at a cut-off, until a
 * retrain learns them.
 */
import type { ItemMeta, Recommender, ScoredItem, UserContext } from '../models/recommender.ts';

const DAY = 86_400_000;

export interface FreshOverlayConfig {
  /** Largest number of slots per shelf given to fresh items; default 2. */
  readonly maxSlots: number;
  /** Items older than this are not fresh; default 14 days. */
  readonly maxAgeDays: number;
  /** The exploration weight halves every this many days; default 3. */
  readonly halfLifeDays: number;
}

export const DEFAULT_OVERLAY: FreshOverlayConfig = { maxSlots: 2, maxAgeDays: 14, halfLifeDays: 3 };

export interface ShelfPlan {
  readonly shelf: string;
  readonly title: string;
  readonly recommender: Recommender;
  readonly modelVersion: string;
  readonly variant: 'live' | 'canary' | 'fallback';
  readonly fallbackReason?: string;
  /** Items this shelf may show (its content types), or undefined for the model's own candidates. */
  readonly candidates?: readonly string[];
  /** Fresh items of the shelf's type, for the overlay. */
  readonly freshItems?: readonly string[];
  readonly k: number;
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
  readonly variant: 'live' | 'canary' | 'fallback';
  readonly fallbackReason?: string;
  readonly items: ShelfItem[];
}

export interface CatalogView {
  meta(itemId: string): ItemMeta | undefined;
  title(itemId: string): string;
}

/** The exploration weight of an item `ageDays` old: 2^(−age / halfLife), 0 past the cut-off. */
export function freshWeight(ageDays: number, config: FreshOverlayConfig): number {
  return ageDays < 0 || ageDays > config.maxAgeDays ? 0 : Math.pow(0.5, ageDays / config.halfLifeDays);
}

function whyFor(shelf: string, meta: ItemMeta | undefined, fresh: boolean, context: UserContext): string {
  if (fresh) return `new${meta?.categories?.[0] ? ` in ${meta.categories[0]}` : ''}, published in the last days`;
  if (shelf === 'shortcuts') return context.localHour !== undefined ? `you listen to this often around ${String(context.localHour).padStart(2, '0')}:00` : 'you were listening to this recently';
  if (context.history === undefined || context.history.length === 0) {
    const genres = context.meta?.onboardingGenres ?? [];
    return genres.length > 0 ? `popular with listeners who like ${genres.slice(0, 2).join(' and ')}` : 'popular with new listeners';
  }
  return meta?.categories?.[0] ? `because you like ${meta.categories[0]}` : 'picked for you';
}

/** Fills one shelf: model ranking with up to maxSlots fresh items interleaved (positions 3, 6, ...). */
export function fillShelf(plan: ShelfPlan, context: UserContext, exclude: ReadonlySet<string>, catalog: CatalogView, overlay: FreshOverlayConfig): AssembledShelf {
  const base = plan.recommender.recommend(context, plan.k, { exclude, ...(plan.candidates ? { candidates: plan.candidates } : {}) });
  let fresh: ScoredItem[] = [];
  if (plan.freshItems !== undefined && plan.freshItems.length > 0 && overlay.maxSlots > 0) {
    const ranked = plan.recommender.recommend(context, plan.freshItems.length, { exclude, candidates: plan.freshItems });
    const scored = (ranked.length > 0 ? ranked : plan.freshItems.map((itemId) => ({ itemId, score: 0 })))
      .map((s) => {
        const published = catalog.meta(s.itemId)?.publishedAt ?? 0;
        return { itemId: s.itemId, score: freshWeight((context.now - published) / DAY, overlay) * (1 + Math.max(0, s.score)) };
      })
      .filter((s) => s.score > 0)
      .sort((a, b) => b.score - a.score || (a.itemId < b.itemId ? -1 : 1));
    fresh = scored.slice(0, overlay.maxSlots);
  }
  const freshIds = new Set(fresh.map((f) => f.itemId));
  const merged: { item: ScoredItem; fresh: boolean }[] = base.filter((b) => !freshIds.has(b.itemId)).map((item) => ({ item, fresh: false }));
  fresh.forEach((f, i) => merged.splice(Math.min(merged.length, 2 + i * 3), 0, { item: f, fresh: true }));
  const items = merged.slice(0, plan.k).map(({ item, fresh: isFresh }) => {
    const meta = catalog.meta(item.itemId);
    const isNew = meta?.publishedAt !== undefined && context.now - meta.publishedAt <= overlay.maxAgeDays * DAY;
    return { id: item.itemId, type: meta?.type ?? 'unknown', title: catalog.title(item.itemId), score: Number(item.score.toFixed(6)), why: whyFor(plan.shelf, meta, isFresh, context), isNew };
  });
  return { shelf: plan.shelf, title: plan.title, modelVersion: plan.modelVersion, variant: plan.variant, ...(plan.fallbackReason ? { fallbackReason: plan.fallbackReason } : {}), items };
}

/** Fills the shelves in order; each excludes what the shelves before it show. */
export function assembleHome(plans: readonly ShelfPlan[], context: UserContext, catalog: CatalogView, overlay: FreshOverlayConfig = DEFAULT_OVERLAY): AssembledShelf[] {
  const shown = new Set<string>();
  return plans.map((plan) => {
    const shelf = fillShelf(plan, context, shown, catalog, overlay);
    for (const item of shelf.items) shown.add(item.id);
    return shelf;
  });
}
