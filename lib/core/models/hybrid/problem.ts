/**
 * The training problem of the hybrid model, built from interactions in typed arrays (no object per
 * interaction or per pair, so a million rows cost tens of megabytes, not a gigabyte of garbage):
 *
 * 1. interactionColumns: interactions as columns over id vocabularies (a parser can produce them
 *    directly; object interactions are converted once).
 * 2. distinctPairs: one positive per distinct (user row, item row) pair, in (user, item) order by two
 *    counting sorts; weight = the pair's summed interaction weight, time = its latest; pairs whose
 *    summed weight is not positive are dropped.
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
 */
export function distinctPairs(
  columns: InteractionColumns,
  userRow: Int32Array,
  itemRow: Int32Array,
  nUsers: number,
  nItems: number,
): Pairs {
  const n = columns.user.length;
  const rowU = new Int32Array(n);
  const rowI = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    rowU[r] = userRow[columns.user[r] as number] as number;
    rowI[r] = itemRow[columns.item[r] as number] as number;
  }
  // Counting sort by item, then a stable counting sort by user: (user, item) order in O(n).
  const order = countingSort(rowU, nUsers, countingSort(rowI, nItems, undefined));
  const userStart = new Int32Array(nUsers + 1);
  const item = new Int32Array(n);
  const weight = new Float64Array(n);
  const ts = new Float64Array(n);
  let m = 0;
  let weightSum = 0;
  let at = 0;
  while (at < n) {
    const r0 = order[at] as number;
    const u = rowU[r0] as number;
    const i = rowI[r0] as number;
    let w = 0;
    let t = Number.NEGATIVE_INFINITY;
    for (; at < n; at++) {
      const r = order[at] as number;
      if ((rowU[r] as number) !== u || (rowI[r] as number) !== i) break;
      w += columns.weight[r] as number;
      t = Math.max(t, columns.ts[r] as number);
    }
    if (w > 0) {
      item[m] = i;
      weight[m] = w;
      ts[m] = t;
      weightSum += w;
      m++;
      userStart[u + 1] = (userStart[u + 1] as number) + 1;
    }
  }
  if (m === 0) throw new InputError('no interaction has a positive weight');
  for (let u = 0; u < nUsers; u++) userStart[u + 1] = (userStart[u + 1] as number) + (userStart[u] as number);
  return { userStart, item: item.slice(0, m), weight: weight.slice(0, m), ts: ts.slice(0, m), meanWeight: weightSum / m };
}

/** A stable counting sort of `within` (or 0..n-1) by key[r] in [0, keys). */
function countingSort(key: Int32Array, keys: number, within: Int32Array | undefined): Int32Array {
  const n = key.length;
  const start = new Int32Array(keys + 1);
  for (let r = 0; r < n; r++) start[(key[r] as number) + 1] = (start[(key[r] as number) + 1] as number) + 1;
  for (let k = 0; k < keys; k++) start[k + 1] = (start[k + 1] as number) + (start[k] as number);
  const out = new Int32Array(n);
  for (let x = 0; x < n; x++) {
    const r = within === undefined ? x : (within[x] as number);
    const k = key[r] as number;
    out[start[k] as number] = r;
    start[k] = (start[k] as number) + 1;
  }
  return out;
}

/** Validation users and their held-out item rows (sorted). */
export interface ValidationSplit {
  readonly users: { readonly user: number; readonly held: Int32Array }[];
  /** 1 for each pair (index into Pairs) that is held out. */
  readonly heldPair: Uint8Array;
}

/**
 * A seeded sample of `want(eligible)` users with >= 2 pairs; each holds out its most recent
 * max(1, round(share × n)) items (at most n - 1; ties in time: the larger item row is more recent).
 */
export function splitValidation(pairs: Pairs, share: number, want: (eligible: number) => number, rng: Rng): ValidationSplit {
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
    const byTime = Array.from({ length: n }, (_, k) => lo + k).sort(
      (a, b) => (pairs.ts[a] as number) - (pairs.ts[b] as number) || (pairs.item[a] as number) - (pairs.item[b] as number),
    );
    const hold = Math.min(n - 1, Math.max(1, Math.round(share * n)));
    const held = byTime.slice(n - hold);
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
