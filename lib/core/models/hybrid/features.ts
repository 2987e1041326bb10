/**
 * Feature matrices of the hybrid model: each user or item is a weighted sum of feature embeddings.
 *
 * A row holds an entity's identity feature (when it was seen in training interactions) and its
 * metadata features. Weights are normalised so that their absolute values sum to 1 (LightFM's
 * `normalize_rows`), so an entity with many features is not larger than one with few. Rows are
 * stored in CSR form (ptr, feat, weight) so the SGD kernel reads them without allocation.
 */
import type { Feature, FeatureRows } from '../recommender.ts';
import { InputError } from '../../errors.ts';

/** Rows of features in CSR form; row r uses entries ptr[r] .. ptr[r+1]-1. */
export interface FeatureMatrix {
  readonly ptr: Int32Array;
  readonly feat: Int32Array;
  readonly weight: Float32Array;
}

/** The feature space of one side (users or items). */
export interface FeatureSpace {
  /** Entity ids in row order (sorted). */
  readonly ids: readonly string[];
  /** Identity feature index of each row, or -1 for an entity known only from its features. */
  readonly identity: Int32Array;
  /** Number of identity features; metadata feature m has index nIdentity + m. */
  readonly nIdentity: number;
  /** Metadata feature names in index order (sorted). */
  readonly metaNames: readonly string[];
  readonly matrix: FeatureMatrix;
}

/** A feature space as buildFeatureSpace makes it: with the row of each interaction id it was given. */
export interface BuiltFeatureSpace extends FeatureSpace {
  /** inputRows[k]: the row (position in `ids`) of the k-th interaction id, in the order given. */
  readonly inputRows: Int32Array;
}

/** Allocates a typed array, optionally over a SharedArrayBuffer (for the multi-threaded trainer). */
export type Alloc = <T extends Int32Array | Float32Array>(kind: 'int32' | 'float32', length: number) => T;

/** Allocates typed arrays on the ordinary heap. */
export const heapAlloc: Alloc = <T extends Int32Array | Float32Array>(kind: 'int32' | 'float32', length: number): T =>
  (kind === 'int32' ? new Int32Array(length) : new Float32Array(length)) as T;

/** Allocates typed arrays over SharedArrayBuffers, so worker threads can share them. */
export const sharedAlloc: Alloc = <T extends Int32Array | Float32Array>(kind: 'int32' | 'float32', length: number): T => {
  const buffer = new SharedArrayBuffer(Math.max(1, length) * 4);
  return (kind === 'int32' ? new Int32Array(buffer, 0, length) : new Float32Array(buffer, 0, length)) as T;
};

/**
 * Builds the feature space of one side from the ids seen in interactions and the optional feature
 * rows. Every id of either source gets a row; only ids seen in interactions get an identity feature.
 * Feature values must be finite; duplicate names in a row are summed; a row whose weights sum to 0
 * keeps its identity feature only.
 *
 * `identityShare` (0 < share <= 1): when given, a row with both an identity and metadata features
 * gives the identity that weight and its metadata features the rest (1 - share, in proportion to
 * their values), whatever the number of features; when absent, LightFM's normalisation (the identity
 * weighs 1 like each feature value, so 1 / (1 + k) with k unit features).
 */
export function buildFeatureSpace(
  interactionIds: ReadonlySet<string> | readonly string[],
  rows: FeatureRows | undefined,
  alloc: Alloc = heapAlloc,
  identityShare?: number,
): BuiltFeatureSpace {
  // The interaction ids as a list (the CSV reader's vocabulary comes as one): a Set of them is made
  // only when feature rows are given, to find the ids those add.
  const listed = isIdList(interactionIds) ? interactionIds : [...interactionIds];
  let all: readonly string[] = listed;
  const names = new Set<string>();
  if (rows !== undefined) {
    const known = new Set(listed);
    const added: string[] = [];
    for (const [id, features] of rows) {
      if (!known.has(id)) {
        known.add(id);
        added.push(id);
      }
      for (const [name, value] of features) {
        if (!Number.isFinite(value)) throw new InputError(`feature "${name}" of "${id}" has value ${value}, expected a finite number`);
        names.add(name);
      }
    }
    if (added.length > 0) all = [...listed, ...added];
  }
  const { sorted: ids, rank } = sortIds(all);
  const fromInteractions = new Uint8Array(ids.length);
  for (let k = 0; k < listed.length; k++) fromInteractions[rank[k] as number] = 1;
  // The interaction ids come first in `all`: their ranks are their rows.
  const inputRows = rank.subarray(0, listed.length);
  const metaNames = [...names].sort(compareIds);
  const metaIndex = new Map<string, number>();
  metaNames.forEach((name, i) => {
    metaIndex.set(name, i);
  });

  const identity = alloc<Int32Array>('int32', ids.length);
  let nIdentity = 0;
  for (let r = 0; r < ids.length; r++) identity[r] = fromInteractions[r] === 1 ? nIdentity++ : -1;

  const ptr = alloc<Int32Array>('int32', ids.length + 1);
  if (rows === undefined) {
    // Identity only (no feature file): row r is its identity feature r with weight 1.
    const feat = alloc<Int32Array>('int32', ids.length);
    const weight = alloc<Float32Array>('float32', ids.length);
    for (let r = 0; r < ids.length; r++) {
      feat[r] = r;
      weight[r] = 1;
      ptr[r + 1] = r + 1;
    }
    return { ids, identity, nIdentity, metaNames, matrix: { ptr, feat, weight }, inputRows };
  }
  const featList: number[] = [];
  const weightList: number[] = [];
  for (let r = 0; r < ids.length; r++) {
    const id = ids[r] as string;
    const own = identity[r] as number;
    const features = rows?.get(id);
    if (features === undefined || features.length === 0) {
      // Identity only (most rows of large data): no merge work.
      if (own >= 0) {
        featList.push(own);
        weightList.push(1);
      }
      ptr[r + 1] = featList.length;
      continue;
    }
    const merged = mergeFeatures(features, metaIndex, nIdentity);
    if (own >= 0 && identityShare !== undefined && merged.length > 0) {
      let metaTotal = 0;
      for (const [, w] of merged) metaTotal += Math.abs(w);
      featList.push(own);
      weightList.push(identityShare);
      for (const [f, w] of merged) {
        featList.push(f);
        weightList.push(((1 - identityShare) * w) / metaTotal);
      }
      ptr[r + 1] = featList.length;
      continue;
    }
    if (own >= 0) merged.unshift([own, 1]);
    let total = 0;
    for (const [, w] of merged) total += Math.abs(w);
    if (total > 0) {
      for (const [f, w] of merged) {
        featList.push(f);
        weightList.push(w / total);
      }
    }
    ptr[r + 1] = featList.length;
  }
  const feat = alloc<Int32Array>('int32', featList.length);
  feat.set(featList);
  const weight = alloc<Float32Array>('float32', weightList.length);
  weight.set(weightList);
  return { ids, identity, nIdentity, metaNames, matrix: { ptr, feat, weight }, inputRows };
}

/**
 * Turns a feature list into (index, normalised weight) pairs over a known vocabulary, ignoring
 * unknown names. Indices are metadata indices (0-based, without the identity offset).
 */
export function knownFeatures(features: readonly Feature[], metaIndex: ReadonlyMap<string, number>): { index: number[]; weight: number[] } {
  const merged = mergeFeatures(features, metaIndex, 0);
  let total = 0;
  for (const [, w] of merged) total += Math.abs(w);
  const index: number[] = [];
  const weight: number[] = [];
  if (total > 0 && Number.isFinite(total)) {
    for (const [f, w] of merged) {
      index.push(f);
      weight.push(w / total);
    }
  }
  return { index, weight };
}

function isIdList(ids: ReadonlySet<string> | readonly string[]): ids is readonly string[] {
  return Array.isArray(ids);
}

/** Ids sorted by compareIds without repeats, and where each id of the input went. */
export interface SortedIds {
  /** The distinct ids in compareIds order. */
  readonly sorted: string[];
  /** rank[k] is the position of ids[k] in `sorted`. */
  readonly rank: Int32Array;
}

/** Digits after a common prefix up to which an id's number is exact in a double (11^15 < 2^53). */
const KEY_DIGITS = 15;

/**
 * The ids in compareIds order (repeats once) and each input id's position in it. Why not
 * `[...ids].sort(compareIds)` and a Map from id to position: at 50k ids the comparator calls and the
 * Map of strings cost ~100 ms each, and `shelves train` needs this for users and items twice
 * (feature spaces, which also give the model rows of the interactions' ids, and seen.json). Ids that are one common prefix followed by 1-15 digits
 * (`u12345`, `4711`: what exports mostly hold) are sorted as numbers that order them exactly as
 * their strings (each digit d as d + 1 in base 11, shorter digit strings padded with 0, so "u1" <
 * "u10" < "u2" as strings compare); other ids by an index sort with compareIds.
 */
export function sortIds(ids: readonly string[]): SortedIds {
  const keys = digitKeys(ids);
  return keys !== undefined ? sortByKeys(ids, keys) : sortByCompare(ids);
}

/** Each id's order key when every id is the first id's non-digit prefix followed by 1..KEY_DIGITS digits. */
function digitKeys(ids: readonly string[]): Float64Array | undefined {
  const n = ids.length;
  if (n === 0) return undefined;
  const first = ids[0] as string;
  let p = 0;
  while (p < first.length && !isDigit(first.charCodeAt(p))) p++;
  const prefix = first.slice(0, p);
  const keys = new Float64Array(n);
  const widths = new Uint8Array(n);
  let widest = 0;
  for (let k = 0; k < n; k++) {
    const id = ids[k] as string;
    const width = id.length - p;
    if (width < 1 || width > KEY_DIGITS || (p > 0 && !id.startsWith(prefix))) return undefined;
    let key = 0;
    for (let x = p; x < id.length; x++) {
      const c = id.charCodeAt(x);
      if (!isDigit(c)) return undefined;
      key = key * 11 + (c - 47);
    }
    keys[k] = key;
    widths[k] = width;
    if (width > widest) widest = width;
  }
  // Pad every key to the widest digit string (0 sorts below every digit, as a shorter string does).
  const scale = new Float64Array(widest + 1);
  scale[widest] = 1;
  for (let w = widest - 1; w >= 1; w--) scale[w] = (scale[w + 1] as number) * 11;
  for (let k = 0; k < n; k++) keys[k] = (keys[k] as number) * (scale[widths[k] as number] as number);
  return keys;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Sorted by keys that order the ids as compareIds does (equal keys: equal ids). */
function sortByKeys(ids: readonly string[], keys: Float64Array): SortedIds {
  const n = ids.length;
  const order = keys.slice().sort();
  // The distinct keys, in order.
  let m = 0;
  for (let k = 0; k < n; k++) if (k === 0 || order[k] !== order[m - 1]) order[m++] = order[k] as number;
  const rank = new Int32Array(n);
  const sorted = new Array<string>(m);
  for (let k = 0; k < n; k++) {
    const key = keys[k] as number;
    let lo = 0;
    let hi = m - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((order[mid] as number) < key) lo = mid + 1;
      else hi = mid;
    }
    rank[k] = lo;
    sorted[lo] = ids[k] as string;
  }
  return { sorted, rank };
}

/** Sorted by an index sort with compareIds (any ids). */
function sortByCompare(ids: readonly string[]): SortedIds {
  const n = ids.length;
  const order = Array.from({ length: n }, (_, k) => k).sort((a, b) => compareIds(ids[a] as string, ids[b] as string) || a - b);
  const rank = new Int32Array(n);
  const sorted: string[] = [];
  for (let k = 0; k < n; k++) {
    const at = order[k] as number;
    const id = ids[at] as string;
    if (k === 0 || id !== sorted[sorted.length - 1]) sorted.push(id);
    rank[at] = sorted.length - 1;
  }
  return { sorted, rank };
}

/** Ordinal string order (code units), the tie-break order of item ids everywhere in the model. */
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function mergeFeatures(features: readonly Feature[], metaIndex: ReadonlyMap<string, number>, offset: number): [number, number][] {
  const sums = new Map<number, number>();
  for (const [name, value] of features) {
    const m = metaIndex.get(name);
    if (m === undefined || !Number.isFinite(value)) continue;
    sums.set(m + offset, (sums.get(m + offset) ?? 0) + value);
  }
  return [...sums.entries()].filter(([, w]) => w !== 0).sort((a, b) => a[0] - b[0]);
}
