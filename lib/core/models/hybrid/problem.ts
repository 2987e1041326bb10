/**
 * The training problem of the hybrid model, built from interactions in typed arrays (no object per
 * interaction or per pair, so a million rows cost tens of megabytes, not a gigabyte of garbage):
 *
 * 1. interactionColumns: interactions as columns over id vocabularies (a parser can produce them
 *    directly; object interactions are converted once).
 * 2. distinctPairs: one positive per distinct (user row, item row) pair, in (user, item) order (a
 *    counting sort by user, then each user's rows by item); weight = the pair's summed interaction
 *    weight, time = its latest; pairs whose summed weight is not positive are dropped.
 * 3. splitValidation: a seeded sample of users with >= 2 pairs gives up its most recent items.
 * 4. trainingArrays: the remaining positives (weight / mean weight, clipped) and each user's sorted
 *    positives (the same array: positives are in (user, item) order already).
 */
import { InputError } from '../../errors.ts';
import type { Rng } from '../../rng.ts';
import type { Interaction, TrainingData } from '../recommender.ts';
import type { Alloc } from './features.ts';

/** Interactions as columns: row n is (userIds[user[n]], itemIds[item[n]], ts[n], weight[n]). */
export interface InteractionColumns {
  readonly userIds: readonly string[];
  readonly itemIds: readonly string[];
  readonly user: Int32Array;
  readonly item: Int32Array;
  /** Epoch milliseconds. */
  readonly ts: Float64Array;
  readonly weight: Float64Array;
}

/** TrainingData whose interactions may also come as columns (what the CSV reader of `shelves train` produces). */
export interface HybridTrainingData extends Omit<TrainingData, 'interactions'> {
  readonly interactions: readonly Interaction[] | InteractionColumns;
}

/** True when the interactions are already columns. */
export function isColumns(x: readonly Interaction[] | InteractionColumns): x is InteractionColumns {
  return !Array.isArray(x);
}

/** Number of interaction rows. */
export function interactionCount(x: readonly Interaction[] | InteractionColumns): number {
  return isColumns(x) ? x.user.length : x.length;
}

/** Interactions as columns (ids numbered in order of first appearance). */
export function interactionColumns(x: readonly Interaction[] | InteractionColumns): InteractionColumns {
  if (isColumns(x)) return x;
  const userIndex = new Map<string, number>();
  const itemIndex = new Map<string, number>();
  const n = x.length;
  const user = new Int32Array(n);
  const item = new Int32Array(n);
  const ts = new Float64Array(n);
  const weight = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    const row = x[r] as Interaction;
    let u = userIndex.get(row.userId);
    if (u === undefined) userIndex.set(row.userId, (u = userIndex.size));
    let i = itemIndex.get(row.itemId);
    if (i === undefined) itemIndex.set(row.itemId, (i = itemIndex.size));
    user[r] = u;
    item[r] = i;
    ts[r] = row.ts;
    weight[r] = row.weight;
  }
  return { userIds: [...userIndex.keys()], itemIds: [...itemIndex.keys()], user, item, ts, weight };
}

/** Distinct positive pairs in (user, item) order; users' pairs are pairs[userStart[u] .. userStart[u+1]-1]. */
export interface Pairs {
  readonly userStart: Int32Array;
  readonly item: Int32Array;
  readonly weight: Float64Array;
  readonly ts: Float64Array;
  /** Mean summed weight over pairs. */
  readonly meanWeight: number;
}

/**
 * The distinct (user row, item row) pairs of the interactions; `userRow` / `itemRow` map vocabulary
 * indices to model rows.
 *
 * One counting sort groups the rows by user, carrying each row's item, weight and time along (one
 * pass that writes where the old gather of a sorted order read at random); then each user's few
 * rows are sorted by item in place, stably, and repeats merged. A pair's weights are summed in row
 * order, so the sums are the same bits whatever the grouping.
 */
export function distinctPairs(
  columns: InteractionColumns,
  userRow: Int32Array,
  itemRow: Int32Array,
  nUsers: number,
  // The number of item rows: the grouping no longer needs it (it sorted by item with a counting sort).
  _nItems: number,
  scratch?: { readonly buffer: ArrayBufferLike; readonly byteOffset: number; readonly byteLength: number },
): Pairs {
  const n = columns.user.length;
  const { user: colUser, item: colItem, weight: colWeight, ts: colTs } = columns;
  const userStart = new Int32Array(nUsers + 1);
  for (let r = 0; r < n; r++) {
    const at = (userRow[colUser[r] as number] as number) + 1;
    userStart[at] = (userStart[at] as number) + 1;
  }
  for (let u = 0; u < nUsers; u++) userStart[u + 1] = (userStart[u + 1] as number) + (userStart[u] as number);
  const fill = userStart.slice(0, nUsers);
  // The pairs' arrays (20 bytes a row) go into `scratch` when it is given and large enough: memory
  // that is lent (its pages faulted once, for both uses; fresh pages cost ~4-5 ms a MB on this VM).
  const lend = scratch !== undefined && scratch.byteOffset % 8 === 0 && scratch.byteLength >= 20 * n;
  const item = lend ? new Int32Array(scratch.buffer, scratch.byteOffset + 16 * n, n) : new Int32Array(n);
  const weight = lend ? new Float64Array(scratch.buffer, scratch.byteOffset, n) : new Float64Array(n);
  const ts = lend ? new Float64Array(scratch.buffer, scratch.byteOffset + 8 * n, n) : new Float64Array(n);
  // Every weight 1 (a file without a weight column): the weights are not carried through the
  // grouping (a third of its random writes); a pair's weight is then its count of rows, the same
  // bits as summing its ones.
  let unit = true;
  for (let r = 0; r < n && unit; r++) unit = colWeight[r] === 1;
  for (let r = 0; r < n; r++) {
    const u = userRow[colUser[r] as number] as number;
    const p = fill[u] as number;
    fill[u] = p + 1;
    item[p] = itemRow[colItem[r] as number] as number;
    if (!unit) weight[p] = colWeight[r] as number;
    ts[p] = colTs[r] as number;
  }
  // Per user: sort by item (stable), merge repeats, and compact the pairs to the front in place.
  let m = 0;
  let weightSum = 0;
  let lo = 0;
  for (let u = 0; u < nUsers; u++) {
    const hi = userStart[u + 1] as number;
    sortByItem(item, unit ? undefined : weight, ts, lo, hi);
    let at = lo;
    while (at < hi) {
      const i = item[at] as number;
      let w = 0;
      let t = Number.NEGATIVE_INFINITY;
      for (; at < hi && item[at] === i; at++) {
        w += unit ? 1 : (weight[at] as number);
        t = Math.max(t, ts[at] as number);
      }
      if (w > 0) {
        item[m] = i;
        weight[m] = w;
        ts[m] = t;
        weightSum += w;
        m++;
      }
    }
    lo = hi;
    userStart[u + 1] = m;
  }
  if (m === 0) throw new InputError('no interaction has a positive weight');
  // Views, not copies: the pairs live only while the problem is built, and repeats are a small share.
  return { userStart, item: item.subarray(0, m), weight: weight.subarray(0, m), ts: ts.subarray(0, m), meanWeight: weightSum / m };
}

/** Rows of one user up to which insertion sort is cheaper than sorting keys. */
const INSERTION_SORT_MAX = 32;

/** Sorts rows lo..hi-1 of the parallel arrays by item, keeping the order of equal items (weights: not carried when undefined). */
function sortByItem(item: Int32Array, weight: Float64Array | undefined, ts: Float64Array, lo: number, hi: number): void {
  if (hi - lo <= INSERTION_SORT_MAX) {
    for (let k = lo + 1; k < hi; k++) {
      const i = item[k] as number;
      if ((item[k - 1] as number) <= i) continue;
      const w = weight === undefined ? 0 : (weight[k] as number);
      const t = ts[k] as number;
      let j = k - 1;
      while (j >= lo && (item[j] as number) > i) {
        item[j + 1] = item[j] as number;
        if (weight !== undefined) weight[j + 1] = weight[j] as number;
        ts[j + 1] = ts[j] as number;
        j--;
      }
      item[j + 1] = i;
      if (weight !== undefined) weight[j + 1] = w;
      ts[j + 1] = t;
    }
    return;
  }
  // A heavy user: sort keys item × length + position (exact in a double; the position keeps it stable).
  const length = hi - lo;
  const keys = new Float64Array(length);
  for (let k = 0; k < length; k++) keys[k] = (item[lo + k] as number) * length + k;
  keys.sort();
  const w = weight?.slice(lo, hi);
  const t = ts.slice(lo, hi);
  for (let k = 0; k < length; k++) {
    const key = keys[k] as number;
    const from = key % length;
    item[lo + k] = (key - from) / length;
    if (weight !== undefined && w !== undefined) weight[lo + k] = w[from] as number;
    ts[lo + k] = t[from] as number;
  }
}

/** Validation users and their held-out item rows (sorted). */
export interface ValidationSplit {
  readonly users: { readonly user: number; readonly held: Int32Array }[];
  /** 1 for each pair (index into Pairs) that is held out. */
  readonly heldPair: Uint8Array;
}

/**
 * A seeded sample of `want(eligible)` users with >= 2 pairs; each holds out max(1, round(share × n))
 * of its items (at most n - 1): its most recent ones (holdout 'recent'; ties in time: the larger item
 * row is more recent), or a seeded random sample of them (holdout 'random').
 */
export function splitValidation(
  pairs: Pairs,
  share: number,
  want: (eligible: number) => number,
  rng: Rng,
  holdout: 'recent' | 'random' = 'recent',
): ValidationSplit {
  const nUsers = pairs.userStart.length - 1;
  const heldPair = new Uint8Array(pairs.item.length);
  const users: { user: number; held: Int32Array }[] = [];
  if (share <= 0) return { users, heldPair };
  const eligible: number[] = [];
  for (let u = 0; u < nUsers; u++) if ((pairs.userStart[u + 1] as number) - (pairs.userStart[u] as number) >= 2) eligible.push(u);
  const chosen = rng
    .shuffle(eligible)
    .slice(0, Math.min(eligible.length, want(eligible.length)))
    .sort((a, b) => a - b);
  for (const u of chosen) {
    const lo = pairs.userStart[u] as number;
    const n = (pairs.userStart[u + 1] as number) - lo;
    const all = Array.from({ length: n }, (_, k) => lo + k);
    const hold = Math.min(n - 1, Math.max(1, Math.round(share * n)));
    const held =
      holdout === 'random'
        ? rng.shuffle(all).slice(0, hold)
        : all
            .sort((a, b) => (pairs.ts[a] as number) - (pairs.ts[b] as number) || (pairs.item[a] as number) - (pairs.item[b] as number))
            .slice(n - hold);
    for (const p of held) heldPair[p] = 1;
    users.push({ user: u, held: Int32Array.from(held, (p) => pairs.item[p] as number).sort() });
  }
  return { users, heldPair };
}

/** The kernel's positives and each user's positives (sorted rows; the same array as posItem). */
export interface TrainingArrays {
  readonly posUser: Int32Array;
  readonly posItem: Int32Array;
  readonly posWeight: Float32Array;
  readonly seenPtr: Int32Array;
  readonly seenItem: Int32Array;
}

/** The positives left after the validation split, weight = min(maxWeight, weight / mean weight). */
export function trainingArrays(pairs: Pairs, heldPair: Uint8Array, maxWeight: number, alloc: Alloc): TrainingArrays {
  const nUsers = pairs.userStart.length - 1;
  let n = 0;
  for (let p = 0; p < heldPair.length; p++) if (heldPair[p] === 0) n++;
  const posUser = alloc<Int32Array>('int32', n);
  const posItem = alloc<Int32Array>('int32', n);
  const posWeight = alloc<Float32Array>('float32', n);
  const seenPtr = alloc<Int32Array>('int32', nUsers + 1);
  let at = 0;
  for (let u = 0; u < nUsers; u++) {
    for (let p = pairs.userStart[u] as number; p < (pairs.userStart[u + 1] as number); p++) {
      if (heldPair[p] === 1) continue;
      posUser[at] = u;
      posItem[at] = pairs.item[p] as number;
      posWeight[at] = Math.min(maxWeight, (pairs.weight[p] as number) / pairs.meanWeight);
      at++;
    }
    seenPtr[u + 1] = at;
  }
  return { posUser, posItem, posWeight, seenPtr, seenItem: posItem };
}
