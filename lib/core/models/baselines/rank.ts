/** Top-k over a score function, shared by the heuristic baselines. Ties break by item id (ascending). */
import type { RecommendOptions, ScoredItem } from '../recommender.ts';

/** Lists this many times longer than k are ranked by selection rather than by sorting every item. */
const SELECT_BELOW = 8;

function byScoreThenId(a: ScoredItem, b: ScoredItem): number {
  return b.score - a.score || (a.itemId < b.itemId ? -1 : a.itemId > b.itemId ? 1 : 0);
}

/**
 * Ranks `pool` (or options.candidates when given) by `score`, dropping excluded items and items whose
 * score is NaN (unknown to the model). `k` <= 0 gives an empty list. An item listed twice counts once.
 *
 * Cost: one score per item and, for a short list out of many items, a bounded selection (each item
 * compared with the k-th best so far; only the few that beat it are inserted) instead of sorting every
 * item: evaluation asks each model for 10 of thousands of shows for each of 100,000 users. Same
 * result as sorting all: the order (score descending, id ascending) is total.
 */
export function rankByScore(
  pool: readonly string[],
  score: (itemId: string) => number,
  k: number,
  options: RecommendOptions = {},
): ScoredItem[] {
  if (k <= 0) return [];
  const source = options.candidates ?? pool;
  const exclude = options.exclude;
  if (k * SELECT_BELOW >= source.length) {
    const scored: ScoredItem[] = [];
    const seen = new Set<string>();
    for (const itemId of source) {
      if (seen.has(itemId) || exclude?.has(itemId)) continue;
      seen.add(itemId);
      const s = score(itemId);
      if (!Number.isNaN(s)) scored.push({ itemId, score: s });
    }
    scored.sort(byScoreThenId);
    return scored.slice(0, k);
  }
  // The best k so far, best first. An item listed again scores the same: it is either in `top`
  // already (skipped) or was beaten by all of `top` (beaten again).
  const top: ScoredItem[] = [];
  for (const itemId of source) {
    const s = score(itemId);
    if (Number.isNaN(s)) continue;
    if (top.length === k) {
      const last = top[k - 1] as ScoredItem;
      if (s < last.score || (s === last.score && itemId >= last.itemId)) continue;
    }
    if (exclude?.has(itemId) || top.some((t) => t.itemId === itemId)) continue;
    let at = top.length;
    while (at > 0 && byScoreThenId(top[at - 1] as ScoredItem, { itemId, score: s }) > 0) at--;
    top.splice(at, 0, { itemId, score: s });
    if (top.length > k) top.pop();
  }
  return top;
}

/** Full rankings of candidate lists by a fixed score table, per (order, candidates) array pair. */
const rankedCandidates = new WeakMap<readonly string[], WeakMap<readonly string[], readonly ScoredItem[]>>();

/**
 * Walks a precomputed best-first order and returns the first k allowed items: O(k + excluded) per
 * request, for the global rankings serving falls back to.
 *
 * With options.candidates, candidates absent from `scores` score `unknownScore` (NaN leaves them
 * out). The candidates' full ranking is computed once per (order, candidates) pair and walked the same
 * way: evaluation passes one candidate array for 100,000 users and serving one per catalog snapshot,
 * and a score lookup per candidate per user was most of an evaluation at a million listeners. `order`
 * must be a new array whenever `scores` changes (the recommenders re-sort into a new one).
 */
export function firstK(
  order: readonly string[],
  scores: ReadonlyMap<string, number>,
  k: number,
  options: RecommendOptions = {},
  unknownScore = 0,
): ScoredItem[] {
  const { candidates } = options;
  if (candidates !== undefined) {
    let byCandidates = rankedCandidates.get(order);
    if (byCandidates === undefined) rankedCandidates.set(order, (byCandidates = new WeakMap()));
    let ranked = byCandidates.get(candidates);
    if (ranked === undefined) {
      ranked = rankByScore(candidates, (id) => scores.get(id) ?? unknownScore, candidates.length);
      byCandidates.set(candidates, ranked);
    }
    return walk(ranked, k, options.exclude);
  }
  const out: ScoredItem[] = [];
  for (const itemId of order) {
    if (out.length >= k) break;
    if (options.exclude?.has(itemId)) continue;
    out.push({ itemId, score: scores.get(itemId) ?? 0 });
  }
  return out;
}

function walk(ranked: readonly ScoredItem[], k: number, exclude: ReadonlySet<string> | undefined): ScoredItem[] {
  const out: ScoredItem[] = [];
  for (const item of ranked) {
    if (out.length >= k) break;
    if (exclude?.has(item.itemId)) continue;
    out.push(item);
  }
  return out;
}

/** A candidate list seen from a model's own item table: which of its items are candidates, and the candidates it does not know. */
export interface CandidateView {
  /** 1 at each index of the model's items that the list names. */
  readonly mask: Uint8Array;
  /** Candidates absent from the model's items, once each, in ascending id order. */
  readonly unknown: readonly string[];
}

const candidateViews = new WeakMap<readonly string[], WeakMap<readonly string[], CandidateView>>();

/** The view of `candidates` over `items` (whose positions `index` gives), computed once per array pair. */
export function candidateView(items: readonly string[], index: ReadonlyMap<string, number>, candidates: readonly string[]): CandidateView {
  let byCandidates = candidateViews.get(items);
  if (byCandidates === undefined) candidateViews.set(items, (byCandidates = new WeakMap()));
  let view = byCandidates.get(candidates);
  if (view === undefined) {
    const mask = new Uint8Array(items.length);
    const unknown = new Set<string>();
    for (const id of candidates) {
      const i = index.get(id);
      if (i === undefined) unknown.add(id);
      else mask[i] = 1;
    }
    view = { mask, unknown: [...unknown].sort(byId) };
    byCandidates.set(candidates, view);
  }
  return view;
}

function byId(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Top k of a model's own items by `scores` (scores[i] is items[i]'s; NaN leaves an item out), ties by
 * id, the same list rankByScore gives over `items`. `allowed` (a CandidateView's mask) restricts the
 * items; excluded ids are skipped; `unknown` items (a CandidateView's) join at `unknownScore` unless
 * it is NaN. Typed arrays and no call per item: the scoring loop of a model with thousands of items.
 */
export function topKOfScores(
  items: readonly string[],
  scores: ArrayLike<number>,
  k: number,
  options: {
    readonly exclude?: ReadonlySet<string> | undefined;
    readonly allowed?: Uint8Array | undefined;
    readonly unknown?: readonly string[] | undefined;
    readonly unknownScore?: number | undefined;
  } = {},
): ScoredItem[] {
  if (k <= 0) return [];
  const { exclude, allowed } = options;
  // The selection never holds more than every item.
  const size = Math.min(k, scores.length);
  const topIndex = new Int32Array(size);
  const topScore = new Float64Array(size);
  let count = 0;
  for (let i = 0, n = scores.length; i < n; i++) {
    if (allowed !== undefined && allowed[i] === 0) continue;
    const s = scores[i] as number;
    if (Number.isNaN(s)) continue;
    if (count === size) {
      const last = topScore[size - 1] as number;
      if (s < last || (s === last && (items[i] as string) >= (items[topIndex[size - 1] as number] as string))) continue;
    }
    if (exclude?.has(items[i] as string)) continue;
    let at = count < size ? count++ : size - 1;
    while (at > 0) {
      const prev = topScore[at - 1] as number;
      if (prev > s || (prev === s && (items[topIndex[at - 1] as number] as string) < (items[i] as string))) break;
      topScore[at] = prev;
      topIndex[at] = topIndex[at - 1] as number;
      at--;
    }
    topScore[at] = s;
    topIndex[at] = i;
  }
  const out: ScoredItem[] = [];
  for (let t = 0; t < count; t++) out.push({ itemId: items[topIndex[t] as number] as string, score: topScore[t] as number });
  const unknownScore = options.unknownScore ?? Number.NaN;
  if (options.unknown === undefined || options.unknown.length === 0 || Number.isNaN(unknownScore)) return out;
  // Unknown candidates all score the same, so their best are the first ids not excluded: merge those.
  const extra: ScoredItem[] = [];
  for (const itemId of options.unknown) {
    if (extra.length >= k) break;
    if (!exclude?.has(itemId)) extra.push({ itemId, score: unknownScore });
  }
  return [...out, ...extra].sort(byScoreThenId).slice(0, k);
}

/** Items sorted best first by score, ties by id. */
export function orderByScore(scores: ReadonlyMap<string, number>): string[] {
  return [...scores.entries()]
    .map(([itemId, score]) => ({ itemId, score }))
    .sort(byScoreThenId)
    .map((s) => s.itemId);
}
