/**
 * An inverted-file index (IVF) for maximum-inner-product search over the hybrid model's items, for
 * catalogs too large to scan exactly on every request. Items are clustered by k-means on their
 * augmented vectors [rep, bias]; a query [user, 1] scores the centroids and scans only the items of
 * the `nprobe` best clusters. Approximate: the bench reports its top-10 overlap with the exact scan.
 * Deterministic for a given seed.
 */
import { Rng } from '../../rng.ts';

export interface IvfIndex {
  readonly nlist: number;
  readonly nItems: number;
  /** nlist × (dim + 1): centroids of the augmented item vectors. */
  readonly centroids: Float32Array;
  readonly lists: readonly Int32Array[];
}

function augDot(rep: Float32Array, bias: Float32Array, i: number, c: Float32Array, ci: number, d: number): number {
  let s = 0;
  const a = i * d;
  const b = ci * (d + 1);
  for (let q = 0; q < d; q++) s += (rep[a + q] as number) * (c[b + q] as number);
  return s + (bias[i] as number) * (c[b + d] as number);
}

function sqNorm(c: Float32Array, ci: number, d: number): number {
  let s = 0;
  for (let q = 0; q <= d; q++) s += (c[ci * (d + 1) + q] as number) ** 2;
  return s;
}

/** Nearest centroid by Euclidean distance on augmented vectors (argmin |c|² − 2 a·c). */
function nearest(rep: Float32Array, bias: Float32Array, i: number, c: Float32Array, norms: Float32Array, nlist: number, d: number): number {
  let best = 0;
  let bestD = Infinity;
  for (let ci = 0; ci < nlist; ci++) {
    const dist = (norms[ci] as number) - 2 * augDot(rep, bias, i, c, ci, d);
    if (dist < bestD) {
      bestD = dist;
      best = ci;
    }
  }
  return best;
}

/** k-means (Lloyd, `iterations` rounds on a sample of at most `sample` items), then every item assigned. */
export function buildIvf(
  rep: Float32Array,
  bias: Float32Array,
  nItems: number,
  d: number,
  options: { nlist?: number; iterations?: number; sample?: number; seed?: number } = {},
): IvfIndex {
  const nlist = Math.min(options.nlist ?? 64, nItems);
  const rng = new Rng(options.seed ?? 1).fork('ivf');
  const order = rng.shuffle(Array.from({ length: nItems }, (_, i) => i));
  const sample = order.slice(0, Math.min(nItems, options.sample ?? 10_000));
  const centroids = new Float32Array(nlist * (d + 1));
  sample.slice(0, nlist).forEach((i, ci) => {
    for (let q = 0; q < d; q++) centroids[ci * (d + 1) + q] = rep[i * d + q] as number;
    centroids[ci * (d + 1) + d] = bias[i] as number;
  });
  const norms = new Float32Array(nlist);
  for (let it = 0; it < (options.iterations ?? 5); it++) {
    for (let ci = 0; ci < nlist; ci++) norms[ci] = sqNorm(centroids, ci, d);
    const sums = new Float64Array(nlist * (d + 1));
    const counts = new Int32Array(nlist);
    for (const i of sample) {
      const ci = nearest(rep, bias, i, centroids, norms, nlist, d);
      counts[ci]!++;
      for (let q = 0; q < d; q++) sums[ci * (d + 1) + q]! += rep[i * d + q] as number;
      sums[ci * (d + 1) + d]! += bias[i] as number;
    }
    for (let ci = 0; ci < nlist; ci++) {
      if (counts[ci] === 0) continue; // an empty cluster keeps its centroid
      for (let q = 0; q <= d; q++) centroids[ci * (d + 1) + q] = (sums[ci * (d + 1) + q] as number) / (counts[ci] as number);
    }
  }
  for (let ci = 0; ci < nlist; ci++) norms[ci] = sqNorm(centroids, ci, d);
  const members: number[][] = Array.from({ length: nlist }, () => []);
  for (let i = 0; i < nItems; i++) members[nearest(rep, bias, i, centroids, norms, nlist, d)]?.push(i);
  return { nlist, nItems, centroids, lists: members.map((m) => Int32Array.from(m)) };
}

/** Adds items nItems..newCount-1 to their nearest clusters (centroids unchanged). */
export function extendIvf(index: IvfIndex, rep: Float32Array, bias: Float32Array, newCount: number, d: number): IvfIndex {
  const norms = new Float32Array(index.nlist);
  for (let ci = 0; ci < index.nlist; ci++) norms[ci] = sqNorm(index.centroids, ci, d);
  const added: number[][] = Array.from({ length: index.nlist }, () => []);
  for (let i = index.nItems; i < newCount; i++) added[nearest(rep, bias, i, index.centroids, norms, index.nlist, d)]?.push(i);
  return {
    ...index,
    nItems: newCount,
    lists: index.lists.map((l, ci) => (added[ci]?.length ? Int32Array.from([...l, ...(added[ci] as number[])]) : l)),
  };
}

/**
 * The `nprobe` clusters whose centroids score best for `user`, best first (equal scores: the lower
 * cluster first). A partial insertion sort: nprobe is a few of nlist, and this runs on every request.
 */
export function bestLists(index: IvfIndex, user: Float32Array | Float64Array, d: number, nprobe: number): Int32Array {
  const m = Math.min(nprobe, index.nlist);
  const best = new Int32Array(m);
  // Scores rounded to float32 as they always were, so the clusters chosen do not change.
  const bestScores = new Float32Array(m);
  const c = index.centroids;
  let size = 0;
  for (let ci = 0; ci < index.nlist; ci++) {
    let s = c[ci * (d + 1) + d] as number;
    for (let q = 0; q < d; q++) s += (user[q] as number) * (c[ci * (d + 1) + q] as number);
    s = Math.fround(s);
    // Clusters come in increasing order, so on an equal score the one already kept stays ahead.
    if (size === m && !(s > (bestScores[m - 1] as number))) continue;
    let at = size < m ? size++ : m - 1;
    while (at > 0 && s > (bestScores[at - 1] as number)) {
      bestScores[at] = bestScores[at - 1] as number;
      best[at] = best[at - 1] as number;
      at--;
    }
    bestScores[at] = s;
    best[at] = ci;
  }
  return best;
}

/** Item rows of the `nprobe` clusters whose centroids score best for `user`, restricted to `allowed` when given. */
export function probeRows(index: IvfIndex, user: Float32Array | Float64Array, d: number, nprobe: number, allowed?: Uint8Array): Int32Array {
  const best = bestLists(index, user, d, nprobe);
  let total = 0;
  for (const ci of best) total += (index.lists[ci] as Int32Array).length;
  const rows = new Int32Array(total);
  let n = 0;
  for (const ci of best) for (const i of index.lists[ci] as Int32Array) if (allowed === undefined || allowed[i] === 1) rows[n++] = i;
  return rows.subarray(0, n);
}

/**
 * The same index (same centroids, so the same clusters are probed) with each list keeping only the
 * `allowed` rows: a shelf's candidates filtered once, not on every request.
 */
export function restrictIvf(index: IvfIndex, allowed: Uint8Array): IvfIndex {
  const lists = index.lists.map((list) => {
    let n = 0;
    for (const i of list) n += allowed[i] === 1 ? 1 : 0;
    const kept = new Int32Array(n);
    n = 0;
    for (const i of list) if (allowed[i] === 1) kept[n++] = i;
    return kept;
  });
  return { ...index, lists };
}

/** The index as three flat arrays (artifact sections): centroids, list offsets (nlist + 1), members. */
export function packIvf(index: IvfIndex): { centroids: Float32Array; offsets: Int32Array; members: Int32Array } {
  const offsets = new Int32Array(index.nlist + 1);
  index.lists.forEach((l, ci) => {
    offsets[ci + 1] = (offsets[ci] as number) + l.length;
  });
  const members = new Int32Array(offsets[index.nlist] as number);
  index.lists.forEach((l, ci) => {
    members.set(l, offsets[ci] as number);
  });
  return { centroids: index.centroids, offsets, members };
}

/**
 * The index from packIvf's arrays (views, no copy). Throws a RangeError naming what does not fit:
 * sizes, offsets that do not run from 0 to the member count, or a member that is not an item.
 */
export function unpackIvf(centroids: Float32Array, offsets: Int32Array, members: Int32Array, nItems: number, d: number): IvfIndex {
  const nlist = offsets.length - 1;
  if (nlist < 1 || centroids.length !== nlist * (d + 1))
    throw new RangeError(`IVF centroids hold ${centroids.length} values, expected ${Math.max(nlist, 0)} × ${d + 1}`);
  if (offsets[0] !== 0 || offsets[nlist] !== members.length || members.length !== nItems) {
    throw new RangeError(
      `IVF lists cover ${members.length} members with offsets ending at ${offsets[nlist]}, expected all ${nItems} items`,
    );
  }
  const lists: Int32Array[] = [];
  for (let ci = 0; ci < nlist; ci++) {
    const from = offsets[ci] as number;
    const to = offsets[ci + 1] as number;
    if (to < from) throw new RangeError(`IVF list ${ci} ends before it starts`);
    lists.push(members.subarray(from, to));
  }
  for (let m = 0; m < members.length; m++) {
    const i = members[m] as number;
    if (i < 0 || i >= nItems) throw new RangeError(`IVF member ${i} is not an item row (0..${nItems - 1})`);
  }
  return { nlist, nItems, centroids, lists };
}
