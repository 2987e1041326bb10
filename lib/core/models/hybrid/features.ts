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
  interactionIds: ReadonlySet<string>,
  rows: FeatureRows | undefined,
  alloc: Alloc = heapAlloc,
  identityShare?: number,
): FeatureSpace {
  const all = new Set(interactionIds);
  const names = new Set<string>();
  if (rows !== undefined) {
    for (const [id, features] of rows) {
      all.add(id);
      for (const [name, value] of features) {
        if (!Number.isFinite(value)) throw new InputError(`feature "${name}" of "${id}" has value ${value}, expected a finite number`);
        names.add(name);
      }
    }
  }
  const ids = [...all].sort(compareIds);
  const metaNames = [...names].sort(compareIds);
  const metaIndex = new Map<string, number>();
  metaNames.forEach((name, i) => {
    metaIndex.set(name, i);
  });

  const identity = alloc<Int32Array>('int32', ids.length);
  let nIdentity = 0;
  for (let r = 0; r < ids.length; r++) identity[r] = interactionIds.has(ids[r] as string) ? nIdentity++ : -1;

  const ptr = alloc<Int32Array>('int32', ids.length + 1);
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
  return { ids, identity, nIdentity, metaNames, matrix: { ptr, feat, weight } };
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
