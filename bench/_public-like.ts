/**
 * A generated stand-in for a public rating benchmark (MovieLens-100k-like; benches only, nothing is
 * downloaded): 943 users × 1682 items, about 100,000 interactions, 19 genres as item features (1-3 per
 * item), a skewed popularity and tastes that follow genres partly (so genres carry signal, but not all
 * of it). The protocol of issue 15: per-item stratified 75/25 split (each item's users, seeded), binary
 * relevance, items seen in training removed, NDCG@10 over test users.
 *
 * Tastes: 8 latent dimensions; a genre has a vector, an item's vector is the mean of its genres'
 * vectors plus its own noise, a user's is a mix of 2 favourite genres plus noise. A user's items are
 * drawn without replacement by Gumbel-top-n over taste · item + popularity, n heavy-tailed (>= 20).
 * `sparsity` scales interactions per user; `skew` scales the popularity term.
 */
import { ndcgAtK } from '../lib/core/metrics/ndcg.ts';
import type { FeatureRows, Interaction, Recommender, TrainingData } from '../lib/core/models/recommender.ts';
import { Rng } from '../lib/core/rng.ts';

export interface PublicLikeOptions {
  readonly users?: number;
  readonly items?: number;
  /** Mean interactions per user; default 106 (100k / 943). */
  readonly perUser?: number;
  /** Weight of log-popularity in the choice; default 1. */
  readonly skew?: number;
  /** Weight of genre tastes against item-own tastes, 0..1; default 0.6. */
  readonly genreSignal?: number;
  readonly seed?: number;
}

export interface PublicLikeSplit {
  readonly train: TrainingData;
  /** Test items per user (users with at least one). */
  readonly test: Map<string, Set<string>>;
  readonly itemFeatures: FeatureRows;
}

const DIM = 8;
const GENRES = 19;

/** Generates the data set and its per-item stratified 75/25 split. */
export function publicLike(options: PublicLikeOptions = {}): PublicLikeSplit {
  const nUsers = options.users ?? 943;
  const nItems = options.items ?? 1682;
  const perUser = options.perUser ?? 106;
  const skew = options.skew ?? 1;
  const signal = options.genreSignal ?? 0.6;
  const rng = new Rng(options.seed ?? 100);
  const normal = (): number => rng.normal();
  const genreVec = Array.from({ length: GENRES }, () => Float64Array.from({ length: DIM }, normal));
  // Genre frequencies are skewed too (drama and comedy are common, documentaries rare).
  const genrePick = (): number => Math.min(GENRES - 1, Math.floor(GENRES * rng.next() ** 2));
  const itemGenres: number[][] = [];
  const itemVec: Float64Array[] = [];
  const itemPop = new Float64Array(nItems);
  for (let i = 0; i < nItems; i++) {
    const count = 1 + Math.floor(rng.next() ** 2 * 3);
    const gs = [...new Set(Array.from({ length: count }, genrePick))].sort((a, b) => a - b);
    itemGenres.push(gs);
    const v = new Float64Array(DIM);
    for (let k = 0; k < DIM; k++) {
      let g = 0;
      for (const x of gs) g += (genreVec[x] as Float64Array)[k] as number;
      v[k] = signal * (g / gs.length) + (1 - signal) * normal();
    }
    itemVec.push(v);
    itemPop[i] = skew * Math.log(1 / (i + 10) ** 1.2) + 0.3 * normal();
  }
  const interactions: Interaction[] = [];
  const byItem: string[][] = Array.from({ length: nItems }, () => []);
  for (let u = 0; u < nUsers; u++) {
    const fav = [genrePick(), genrePick()];
    const taste = new Float64Array(DIM);
    for (let k = 0; k < DIM; k++)
      taste[k] =
        0.5 * (((genreVec[fav[0] as number] as Float64Array)[k] as number) + ((genreVec[fav[1] as number] as Float64Array)[k] as number)) +
        0.7 * normal();
    const n = Math.min(nItems - 1, Math.max(20, Math.round(20 + (perUser - 20) * -Math.log(1 - rng.next()))));
    const keys = new Float64Array(nItems);
    for (let i = 0; i < nItems; i++) {
      let s = itemPop[i] as number;
      const v = itemVec[i] as Float64Array;
      for (let k = 0; k < DIM; k++) s += 0.8 * (taste[k] as number) * (v[k] as number);
      keys[i] = s - Math.log(-Math.log(rng.next() || 1e-12));
    }
    const chosen = Array.from({ length: nItems }, (_, i) => i)
      .sort((a, b) => (keys[b] as number) - (keys[a] as number))
      .slice(0, n);
    for (const i of chosen) {
      interactions.push({ userId: `u${u}`, itemId: `m${i}`, ts: interactions.length, weight: 1 });
      (byItem[i] as string[]).push(`u${u}`);
    }
  }
  // Per-item stratified split: 25% of each item's users (rounded down) go to test.
  const testPairs = new Set<string>();
  const split = new Rng((options.seed ?? 100) + 1);
  byItem.forEach((users, i) => {
    for (const u of split.shuffle(users.slice()).slice(0, Math.floor(users.length * 0.25))) testPairs.add(`${u} m${i}`);
  });
  const train: Interaction[] = [];
  const test = new Map<string, Set<string>>();
  for (const x of interactions) {
    if (testPairs.has(`${x.userId} ${x.itemId}`)) {
      let s = test.get(x.userId);
      if (s === undefined) test.set(x.userId, (s = new Set()));
      s.add(x.itemId);
    } else train.push(x);
  }
  const itemFeatures = new Map(itemGenres.map((gs, i) => [`m${i}`, gs.map((g) => [`genre:${g}`, 1] as const)]));
  return {
    train: { interactions: train, cutoff: interactions.length, snapshot: 'public-like', transformVersion: 'bench' },
    test,
    itemFeatures,
  };
}

/** Mean NDCG@10 over test users, items seen in training excluded. */
export function publicLikeNdcg(model: Recommender, split: PublicLikeSplit): number {
  const seen = new Map<string, Set<string>>();
  for (const x of split.train.interactions) {
    let s = seen.get(x.userId);
    if (s === undefined) seen.set(x.userId, (s = new Set()));
    s.add(x.itemId);
  }
  let total = 0;
  for (const [user, relevant] of split.test) {
    const ranked = model
      .recommend({ userId: user, now: split.train.cutoff }, 10, { exclude: seen.get(user) ?? new Set() })
      .map((s) => s.itemId);
    total += ndcgAtK(ranked, new Map([...relevant].map((id) => [id, 1])), 10);
  }
  return total / split.test.size;
}

/**
 * The four generated tuning sets every tuning bench chooses defaults on (never the models bench's set):
 * usual, sparse, flat and steep popularity, seeds 200-203.
 */
export const TUNING_KINDS = [
  ['usual', {}],
  ['sparse', { perUser: 40 }],
  ['flat', { skew: 0.5 }],
  ['steep', { skew: 1.5 }],
] as const;

/** The tuning sets themselves, as [kind, split]. */
export function tuningSets(): (readonly [string, PublicLikeSplit])[] {
  return TUNING_KINDS.map(([kind, options], k) => [kind, publicLike({ ...options, seed: 200 + k })] as const);
}

/**
 * The held-out-items protocol of issue 15 on a generated set: a seeded `share` of the items leaves
 * training entirely (every interaction with it, train and test), and is known to the model only by its
 * features (all items' features are given). Each user with a held-out item ranks the held-out items
 * only; relevant = the held-out items the user interacted with (binary), NDCG@10.
 */
export interface HeldOutItemsSplit {
  /** Training data without the held-out items' interactions, with every item's features. */
  readonly train: TrainingData;
  readonly heldOut: readonly string[];
  /** Held-out items per user (users with at least one). */
  readonly relevant: Map<string, Set<string>>;
}

export function heldOutItems(split: PublicLikeSplit, share = 0.2, seed = 7): HeldOutItemsSplit {
  const items = [...split.itemFeatures.keys()];
  const rng = new Rng(seed);
  const held = new Set(rng.shuffle(items.slice()).slice(0, Math.round(items.length * share)));
  const relevant = new Map<string, Set<string>>();
  const add = (user: string, item: string): void => {
    let s = relevant.get(user);
    if (s === undefined) relevant.set(user, (s = new Set()));
    s.add(item);
  };
  const train: Interaction[] = [];
  for (const x of split.train.interactions) {
    if (held.has(x.itemId)) add(x.userId, x.itemId);
    else train.push(x);
  }
  for (const [user, set] of split.test) for (const item of set) if (held.has(item)) add(user, item);
  return {
    train: { ...split.train, interactions: train, itemFeatures: split.itemFeatures },
    heldOut: [...held].sort(),
    relevant,
  };
}

/** Mean NDCG@10 over users with a held-out item, ranking the held-out items only. */
export function heldOutNdcg(model: Recommender, split: HeldOutItemsSplit): number {
  let total = 0;
  for (const [user, relevant] of split.relevant) {
    const ranked = model.recommend({ userId: user, now: split.train.cutoff }, 10, { candidates: split.heldOut }).map((s) => s.itemId);
    total += ndcgAtK(ranked, new Map([...relevant].map((id) => [id, 1])), 10);
  }
  return total / split.relevant.size;
}
