/**
 * A generic learning-to-rank learner: gradient-boosted regression trees with the LambdaRank objective
 * (pairwise logistic loss weighted by each swap's |ΔNDCG|), histogram splits on quantile bins, Newton
 * leaf values and shrinkage. Trees are complete binary trees of fixed depth stored in flat typed arrays:
 * internal node n of tree t has its split at [t·(2^D−1) + n] (feature −1 = no split: every row goes left),
 * its leaves at [t·2^D + leaf]. A row goes left when x[feature] <= threshold. The same examples, options
 * and seed give the same bytes.
 *
 * Early stopping: a seeded share of the groups that have a positive (validationShare, default 0.1, at
 * least 20 groups or none) is held out of training; after each tree their NDCG@10 is measured, and the
 * ensemble keeps the trees up to the best one, stopping after `patience` trees without improvement.
 */
import { OptionChecker } from '../option-error.ts';
import { Rng } from '../../rng.ts';
import { ArtifactError, type TypedArray } from '../artifact.ts';
import type { RankingExamples } from './types.ts';

export interface RankerOptions {
  readonly seed: number;
  /** Boosting rounds; default 80. */
  readonly trees?: number;
  /** Tree depth, 1..6; default 4. */
  readonly depth?: number;
  /** Histogram bins per feature, 2..255; default 32. */
  readonly bins?: number;
  /** Shrinkage (learning rate); default 0.1. */
  readonly shrinkage?: number;
  /** Fewest rows a leaf may hold; default 5. */
  readonly minLeaf?: number;
  /** L2 penalty on leaf values (added to the hessian sum); default 1. */
  readonly l2?: number;
  /** Fraction of groups each tree is fitted on (drawn with the seed); default 1. */
  readonly subsample?: number;
  /** Share of groups held out for early stopping, 0..0.5; default 0.1 (0 = fit every tree). */
  readonly validationShare?: number;
  /** Trees without validation improvement before stopping; default 10. */
  readonly patience?: number;
}

/** What early stopping saw: trees kept, and the held-out NDCG@10 of the kept ensemble. */
export interface RankerTraining {
  readonly treesKept: number;
  readonly validationGroups: number;
  readonly validationNdcg: number | null;
}

const MIN_VALIDATION_GROUPS = 20;
const VALIDATION_K = 10;

/** Ideal DCG@k of each group in `held` (labels do not change while fitting). */
function heldOutIdeals(examples: RankingExamples, held: readonly number[]): Float64Array {
  const { labels, groups } = examples;
  return Float64Array.from(held, (g) => {
    const ideal = Array.from(labels.subarray(groups[g] as number, groups[g + 1] as number)).sort((a, b) => b - a);
    let idcg = 0;
    for (let i = 0; i < Math.min(VALIDATION_K, ideal.length); i++) idcg += (2 ** (ideal[i] as number) - 1) / Math.log2(i + 2);
    return idcg;
  });
}

/**
 * Mean NDCG@k of the groups in `held` under `scores` (ties broken by row order); `ideals` from
 * heldOutIdeals, `rows` scratch of at least the largest group's size.
 */
function heldOutNdcg(
  examples: RankingExamples,
  scores: Float64Array,
  held: readonly number[],
  ideals: Float64Array,
  rows: Int32Array,
): number {
  const { labels, groups } = examples;
  let total = 0;
  held.forEach((g, h) => {
    const from = groups[g] as number;
    const n = (groups[g + 1] as number) - from;
    // Rows by descending score, ties by row: insertion sort (groups are small), no array per group.
    for (let i = 0; i < n; i++) {
      const r = from + i;
      const s = scores[r] as number;
      let k = i - 1;
      while (k >= 0 && (scores[rows[k] as number] as number) < s) {
        rows[k + 1] = rows[k] as number;
        k--;
      }
      rows[k + 1] = r;
    }
    let dcg = 0;
    for (let i = 0; i < Math.min(VALIDATION_K, n); i++) dcg += (2 ** (labels[rows[i] as number] as number) - 1) / Math.log2(i + 2);
    const idcg = ideals[h] as number;
    total += idcg > 0 ? dcg / idcg : 0;
  });
  return held.length > 0 ? total / held.length : 0;
}

/** A fitted ranker; higher score = rank higher. */
export interface RankerModel {
  readonly featureCount: number;
  readonly depth: number;
  readonly splitFeature: Int32Array;
  readonly splitThreshold: Float32Array;
  readonly leafValue: Float32Array;
  /** Scores `rows` feature rows (row-major, featureCount wide). */
  score(features: Float32Array, rows: number): Float32Array;
}

class TreeEnsemble implements RankerModel {
  constructor(
    readonly featureCount: number,
    readonly depth: number,
    readonly splitFeature: Int32Array,
    readonly splitThreshold: Float32Array,
    readonly leafValue: Float32Array,
  ) {}

  get trees(): number {
    return this.leafValue.length >> this.depth;
  }

  score(features: Float32Array, rows: number): Float32Array {
    const out = new Float32Array(rows);
    for (let r = 0; r < rows; r++) out[r] = this.scoreRow(features, r * this.featureCount);
    return out;
  }

  scoreRow(features: Float32Array, offset: number): number {
    const internal = (1 << this.depth) - 1;
    let s = 0;
    for (let t = 0, n = this.trees; t < n; t++) {
      let node = 0;
      for (let d = 0; d < this.depth; d++) {
        const f = this.splitFeature[t * internal + node] as number;
        node =
          f < 0 || (features[offset + f] as number) <= (this.splitThreshold[t * internal + node] as number) ? 2 * node + 1 : 2 * node + 2;
      }
      s += this.leafValue[(t << this.depth) + node - internal] as number;
    }
    return s;
  }
}

/** The typed arrays that hold a ranker, for an artifact's payload. */
export function rankerArrays(model: RankerModel): Record<string, TypedArray> {
  return { splitFeature: model.splitFeature, splitThreshold: model.splitThreshold, leafValue: model.leafValue };
}

/** Rebuilds a ranker from rankerArrays' output. */
export function rankerFromArrays(arrays: Readonly<Record<string, TypedArray>>, featureCount: number, depth: number): RankerModel {
  const { splitFeature, splitThreshold, leafValue } = arrays;
  if (!(splitFeature instanceof Int32Array) || !(splitThreshold instanceof Float32Array) || !(leafValue instanceof Float32Array)) {
    throw new ArtifactError('ranker arrays need int32 splitFeature and float32 splitThreshold, leafValue');
  }
  return new TreeEnsemble(featureCount, depth, splitFeature, splitThreshold, leafValue);
}

/** Scores rows with any ranker (kept for callers of the earlier linear API). */
export function scoreRows(model: RankerModel, features: Float32Array, rows: number): Float32Array {
  return model.score(features, rows);
}

/** Quantile cut points of one feature: bin b holds values <= cuts[b] (the last bin the rest). */
function cutPoints(values: Float32Array, bins: number): Float32Array {
  const sorted = Float32Array.from(values).sort();
  // Distinct values, counted without listing them all (a continuous feature has ~one per row).
  let distinct = 0;
  for (let i = 0; i < sorted.length && distinct <= bins; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) distinct++;
  if (distinct <= bins) {
    const unique: number[] = [];
    for (const v of sorted) if (unique.length === 0 || v !== unique[unique.length - 1]) unique.push(v);
    return Float32Array.from(unique.slice(0, -1));
  }
  const cuts: number[] = [];
  for (let b = 1; b < bins; b++) {
    const v = sorted[Math.floor((b * sorted.length) / bins) - 1] as number;
    if (cuts.length === 0 || v > (cuts[cuts.length - 1] as number)) cuts.push(v);
  }
  if (cuts[cuts.length - 1] === sorted[sorted.length - 1]) cuts.pop();
  return Float32Array.from(cuts);
}

function binOf(cuts: Float32Array, v: number): number {
  let lo = 0;
  let hi = cuts.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (v <= (cuts[mid] as number)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Each group's ideal DCG over all its rows (labels do not change while fitting). */
function idealDcgs(examples: RankingExamples): Float64Array {
  const { labels, groups } = examples;
  const out = new Float64Array(groups.length - 1);
  for (let g = 0; g + 1 < groups.length; g++) {
    const sorted = Array.from(labels.subarray(groups[g] as number, groups[g + 1] as number)).sort((a, b) => b - a);
    let idcg = 0;
    sorted.forEach((l, i) => {
      idcg += (2 ** l - 1) / Math.log2(i + 2);
    });
    out[g] = idcg;
  }
  return out;
}

/**
 * LambdaRank gradients (as ascent directions) and hessians for the current scores. `order` is scratch
 * of at least the largest group's size; `idcg` comes from idealDcgs.
 */
function lambdas(
  examples: RankingExamples,
  gain: Float64Array,
  scores: Float64Array,
  useGroup: Uint8Array,
  grad: Float64Array,
  hess: Float64Array,
  idcg: Float64Array,
  order: Int32Array,
  discount: Float64Array,
): void {
  grad.fill(0);
  hess.fill(0);
  const { labels, groups } = examples;
  for (let g = 0; g + 1 < groups.length; g++) {
    const ideal = idcg[g] as number;
    if (useGroup[g] === 0 || ideal <= 0) continue;
    const from = groups[g] as number;
    const n = (groups[g + 1] as number) - from;
    // Rows by descending score (ties by row), insertion sort: groups are small.
    let lowest = Number.POSITIVE_INFINITY;
    for (let i = 0; i < n; i++) {
      const r = from + i;
      const s = scores[r] as number;
      lowest = Math.min(lowest, labels[r] as number);
      let k = i - 1;
      while (k >= 0 && (scores[order[k] as number] as number) < s) {
        order[k + 1] = order[k] as number;
        k--;
      }
      order[k + 1] = r;
    }
    for (let i = 0; i < n; i++) {
      const hi = order[i] as number;
      const lh = labels[hi] as number;
      // A row with the group's lowest label outranks no other in relevance: it starts no pair. (With one
      // positive among ~10 candidates, this skips almost every row of the quadratic loop.)
      if (lh <= lowest) continue;
      for (let j = 0; j < n; j++) {
        const lo = order[j] as number;
        const ll = labels[lo] as number;
        if (lh <= ll) continue;
        const delta = Math.abs(
          (((gain[hi] as number) - (gain[lo] as number)) * ((discount[i] as number) - (discount[j] as number))) / ideal,
        );
        const rho = 1 / (1 + Math.exp((scores[hi] as number) - (scores[lo] as number)));
        grad[hi]! += delta * rho;
        grad[lo]! -= delta * rho;
        const h = Math.max(delta * rho * (1 - rho), 1e-9);
        hess[hi]! += h;
        hess[lo]! += h;
      }
    }
  }
}

/** Per feature and bin (index feature × nBins + bin): summed gradients, hessians, row counts. */
interface Histogram {
  readonly g: Float64Array;
  readonly h: Float64Array;
  readonly n: Int32Array;
}

/** Histograms of the rows rowBuf[start .. end). */
function histogramOf(
  rowBuf: Int32Array,
  start: number,
  end: number,
  binned: Uint8Array,
  f: number,
  nBins: number,
  grad: Float64Array,
  hess: Float64Array,
): Histogram {
  const g = new Float64Array(f * nBins);
  const h = new Float64Array(f * nBins);
  const n = new Int32Array(f * nBins);
  for (let x = start; x < end; x++) {
    const r = rowBuf[x] as number;
    const gr = grad[r] as number;
    const hr = hess[r] as number;
    const base = r * f;
    for (let j = 0; j < f; j++) {
      const x = j * nBins + (binned[base + j] as number);
      g[x]! += gr;
      h[x]! += hr;
      n[x]!++;
    }
  }
  return { g, h, n };
}

function subtract(parent: Histogram, child: Histogram): Histogram {
  const g = new Float64Array(parent.g.length);
  const h = new Float64Array(parent.h.length);
  const n = new Int32Array(parent.n.length);
  for (let x = 0; x < g.length; x++) {
    g[x] = (parent.g[x] as number) - (child.g[x] as number);
    h[x] = (parent.h[x] as number) - (child.h[x] as number);
    n[x] = (parent.n[x] as number) - (child.n[x] as number);
  }
  return { g, h, n };
}

/** Fits the ensemble. Groups whose rows all share one label teach nothing. */
export function fitRanker(examples: RankingExamples, options: RankerOptions): RankerModel & { readonly training: RankerTraining } {
  const f = examples.featureNames.length;
  const rows = examples.labels.length;
  // Out-of-range options fail (the models' one policy, ../option-error.ts) instead of being clamped.
  const check = new OptionChecker('shortcuts-ranker');
  const depth = check.int('depth', options.depth ?? 4, 1, 6);
  const treeCount = check.int('trees', options.trees ?? 80, 1);
  const nBins = check.int('bins', options.bins ?? 32, 2, 255);
  const shrinkage = check.number('shrinkage', options.shrinkage ?? 0.1, 0, 1, true);
  const minLeaf = check.int('minLeaf', options.minLeaf ?? 5, 1);
  const l2 = check.number('l2', options.l2 ?? 1, 0);
  const subsample = check.number('subsample', options.subsample ?? 1, 0, 1, true);
  const internal = (1 << depth) - 1;

  // Histogram binning, row-major (a row's bins are adjacent: one pass per row fills every feature's histogram).
  const cuts: Float32Array[] = [];
  const binned = new Uint8Array(rows * f);
  const column = new Float32Array(rows);
  for (let j = 0; j < f; j++) {
    for (let r = 0; r < rows; r++) column[r] = examples.features[r * f + j] as number;
    const c = cutPoints(column, nBins);
    cuts.push(c);
    for (let r = 0; r < rows; r++) binned[r * f + j] = binOf(c, column[r] as number);
  }

  const splitFeature = new Int32Array(treeCount * internal).fill(-1);
  const splitThreshold = new Float32Array(treeCount * internal);
  const leafValue = new Float32Array(treeCount << depth);
  const scores = new Float64Array(rows);
  const grad = new Float64Array(rows);
  const hess = new Float64Array(rows);
  const groupCount = examples.groups.length - 1;
  const useGroup = new Uint8Array(groupCount).fill(1);
  const rowGroup = new Int32Array(rows);
  for (let g = 0; g < groupCount; g++)
    for (let r = examples.groups[g] as number; r < (examples.groups[g + 1] as number); r++) rowGroup[r] = g;
  const rng = new Rng(options.seed).fork('ranker');
  // Held-out groups for early stopping: never trained on.
  const validationShare = check.number('validationShare', options.validationShare ?? 0.1, 0, 0.5);
  const patience = check.int('patience', options.patience ?? 10, 1);
  const labelled: number[] = [];
  for (let g = 0; g < groupCount; g++) {
    for (let r = examples.groups[g] as number; r < (examples.groups[g + 1] as number); r++) {
      if ((examples.labels[r] as number) > 0) {
        labelled.push(g);
        break;
      }
    }
  }
  const wantHeld = Math.round(validationShare * labelled.length);
  const held =
    wantHeld >= MIN_VALIDATION_GROUPS
      ? new Rng(options.seed)
          .fork('ranker-validation')
          .shuffle(labelled)
          .slice(0, wantHeld)
          .sort((a, b) => a - b)
      : [];
  const heldIdeals = heldOutIdeals(examples, held);
  const trainable = new Uint8Array(groupCount).fill(1);
  for (const g of held) trainable[g] = 0;
  useGroup.set(trainable);
  const idcg = idealDcgs(examples);
  let largest = 0;
  for (let g = 0; g < groupCount; g++) largest = Math.max(largest, (examples.groups[g + 1] as number) - (examples.groups[g] as number));
  const order = new Int32Array(largest);
  // 1 / log2(position + 2), the DCG discount of each position, once (the same doubles as computed in place).
  const discount = Float64Array.from({ length: largest }, (_, i) => 1 / Math.log2(i + 2));
  // 2^label of each row, once (the same doubles as computed in each pair).
  const gain = Float64Array.from(examples.labels, (l) => 2 ** l);
  const rowBuf = new Int32Array(rows);
  const tmpBuf = new Int32Array(rows);
  let best = { trees: treeCount, ndcg: -1 };
  let built = 0;

  for (let t = 0; t < treeCount; t++) {
    if (subsample < 1) for (let g = 0; g < groupCount; g++) useGroup[g] = rng.next() < subsample ? (trainable[g] as number) : 0;
    lambdas(examples, gain, scores, useGroup, grad, hess, idcg, order, discount);
    // The tree's rows, partitioned level by level: node k of a level owns rowBuf[bounds[k] .. bounds[k+1]).
    let used = 0;
    for (let r = 0; r < rows; r++) if (useGroup[rowGroup[r] as number] === 1) rowBuf[used++] = r;
    let bounds = [0, used];
    // Each node's histograms (gradient, hessian, count per feature and bin); a larger child's are its
    // parent's minus its sibling's, so only the smaller child of each split is counted row by row.
    let hists: (Histogram | undefined)[] = [histogramOf(rowBuf, 0, used, binned, f, nBins, grad, hess)];
    for (let d = 0; d < depth; d++) {
      const nextBounds = [0];
      const nextHists: (Histogram | undefined)[] = [];
      for (let k = 0; k + 1 < bounds.length; k++) {
        const start = bounds[k] as number;
        const end = bounds[k + 1] as number;
        const count = end - start;
        const node = (1 << d) - 1 + k;
        const hist = hists[k];
        let best = { gain: 1e-12, feature: -1, bin: -1 };
        if (hist !== undefined && count >= 2 * minLeaf) {
          let G = 0;
          let H = 0;
          for (let b = 0; b < nBins; b++) {
            G += hist.g[b] as number;
            H += hist.h[b] as number;
          }
          const parent = (G * G) / (H + l2);
          for (let j = 0; j < f; j++) {
            const c = cuts[j] as Float32Array;
            const at = j * nBins;
            let gl = 0;
            let hl = 0;
            let nl = 0;
            for (let b = 0; b < c.length; b++) {
              gl += hist.g[at + b] as number;
              hl += hist.h[at + b] as number;
              nl += hist.n[at + b] as number;
              if (nl < minLeaf) continue;
              if (count - nl < minLeaf) break;
              const gain = (gl * gl) / (hl + l2) + ((G - gl) * (G - gl)) / (H - hl + l2) - parent;
              if (gain > best.gain) best = { gain, feature: j, bin: b };
            }
          }
        }
        if (best.feature < 0) {
          // No split: every row goes left, the right child is empty.
          nextBounds.push(end, end);
          nextHists.push(undefined, undefined);
          continue;
        }
        splitFeature[t * internal + node] = best.feature;
        splitThreshold[t * internal + node] = (cuts[best.feature] as Float32Array)[best.bin] as number;
        // Stable partition of the node's rows through tmpBuf.
        let l = start;
        let nRight = 0;
        for (let x = start; x < end; x++) {
          const r = rowBuf[x] as number;
          if ((binned[r * f + best.feature] as number) <= best.bin) rowBuf[l++] = r;
          else tmpBuf[nRight++] = r;
        }
        rowBuf.set(tmpBuf.subarray(0, nRight), l);
        nextBounds.push(l, end);
        if (d + 1 < depth) {
          const smallIsLeft = l - start <= end - l;
          const small = smallIsLeft
            ? histogramOf(rowBuf, start, l, binned, f, nBins, grad, hess)
            : histogramOf(rowBuf, l, end, binned, f, nBins, grad, hess);
          const large = subtract(hist as Histogram, small);
          nextHists.push(smallIsLeft ? small : large, smallIsLeft ? large : small);
        } else nextHists.push(undefined, undefined);
      }
      bounds = nextBounds;
      hists = nextHists;
    }
    for (let leaf = 0; leaf + 1 < bounds.length; leaf++) {
      const start = bounds[leaf] as number;
      const end = bounds[leaf + 1] as number;
      let G = 0;
      let H = 0;
      for (let x = start; x < end; x++) {
        const r = rowBuf[x] as number;
        G += grad[r] as number;
        H += hess[r] as number;
      }
      leafValue[(t << depth) + leaf] = end === start ? 0 : (shrinkage * G) / (H + l2);
      // Scores move by the leaf value as stored (float32), so training sees what serving computes; a
      // row's bin path is exactly its path through the stored thresholds.
      const v = leafValue[(t << depth) + leaf] as number;
      for (let x = start; x < end; x++) scores[rowBuf[x] as number]! += v;
    }
    // Rows this tree was not fitted on (held out, or left out by subsampling) take the stored tree's path.
    const model = new TreeEnsemble(
      f,
      depth,
      splitFeature.subarray(t * internal, (t + 1) * internal),
      splitThreshold.subarray(t * internal, (t + 1) * internal),
      leafValue.subarray(t << depth, (t + 1) << depth),
    );
    for (let r = 0; r < rows; r++) if (useGroup[rowGroup[r] as number] === 0) scores[r]! += model.scoreRow(examples.features, r * f);
    built = t + 1;
    if (held.length > 0) {
      const ndcg = heldOutNdcg(examples, scores, held, heldIdeals, order);
      if (ndcg > best.ndcg) best = { trees: t + 1, ndcg };
      else if (t + 1 - best.trees >= patience) break;
    }
  }
  const kept = held.length > 0 ? best.trees : built;
  const ensemble = new TreeEnsemble(
    f,
    depth,
    splitFeature.slice(0, kept * internal),
    splitThreshold.slice(0, kept * internal),
    leafValue.slice(0, kept << depth),
  );
  return Object.assign(ensemble, {
    training: { treesKept: kept, validationGroups: held.length, validationNdcg: held.length > 0 ? best.ndcg : null },
  });
}
