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

/** Mean NDCG@k of the groups in `held` under `scores` (ties broken by row order). */
function heldOutNdcg(examples: RankingExamples, scores: Float64Array, held: readonly number[]): number {
  const { labels, groups } = examples;
  let total = 0;
  for (const g of held) {
    const from = groups[g] as number;
    const to = groups[g + 1] as number;
    const rows = Array.from({ length: to - from }, (_, i) => from + i);
    const ideal = rows.map((r) => labels[r] as number).sort((a, b) => b - a);
    let idcg = 0;
    for (let i = 0; i < Math.min(VALIDATION_K, ideal.length); i++) idcg += (2 ** (ideal[i] as number) - 1) / Math.log2(i + 2);
    rows.sort((a, b) => (scores[b] as number) - (scores[a] as number) || a - b);
    let dcg = 0;
    for (let i = 0; i < Math.min(VALIDATION_K, rows.length); i++) dcg += (2 ** (labels[rows[i] as number] as number) - 1) / Math.log2(i + 2);
    total += idcg > 0 ? dcg / idcg : 0;
  }
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
        node = f < 0 || (features[offset + f] as number) <= (this.splitThreshold[t * internal + node] as number) ? 2 * node + 1 : 2 * node + 2;
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
  const unique: number[] = [];
  for (const v of sorted) if (unique.length === 0 || v !== unique[unique.length - 1]) unique.push(v);
  if (unique.length <= bins) return Float32Array.from(unique.slice(0, -1));
  const cuts: number[] = [];
  for (let b = 1; b < bins; b++) {
    const v = sorted[Math.floor((b * sorted.length) / bins) - 1] as number;
    if (cuts.length === 0 || v > (cuts[cuts.length - 1] as number)) cuts.push(v);
  }
  if (cuts[cuts.length - 1] === unique[unique.length - 1]) cuts.pop();
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

/** LambdaRank gradients (as ascent directions) and hessians for the current scores. */
function lambdas(examples: RankingExamples, scores: Float64Array, useGroup: Uint8Array, grad: Float64Array, hess: Float64Array): void {
  grad.fill(0);
  hess.fill(0);
  const { labels, groups } = examples;
  for (let g = 0; g + 1 < groups.length; g++) {
    if (useGroup[g] === 0) continue;
    const from = groups[g] as number;
    const to = groups[g + 1] as number;
    const rows = Array.from({ length: to - from }, (_, i) => from + i);
    const ideal = [...rows].sort((a, b) => (labels[b] as number) - (labels[a] as number) || a - b);
    let idcg = 0;
    ideal.forEach((r, i) => (idcg += (2 ** (labels[r] as number) - 1) / Math.log2(i + 2)));
    if (idcg <= 0) continue;
    rows.sort((a, b) => (scores[b] as number) - (scores[a] as number) || a - b);
    for (let i = 0; i < rows.length; i++) {
      for (let j = 0; j < rows.length; j++) {
        const hi = rows[i] as number;
        const lo = rows[j] as number;
        if ((labels[hi] as number) <= (labels[lo] as number)) continue;
        const delta = Math.abs(((2 ** (labels[hi] as number) - 2 ** (labels[lo] as number)) * (1 / Math.log2(i + 2) - 1 / Math.log2(j + 2))) / idcg);
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

/** Fits the ensemble. Groups whose rows all share one label teach nothing. */
export function fitRanker(examples: RankingExamples, options: RankerOptions): RankerModel & { readonly training: RankerTraining } {
  const f = examples.featureNames.length;
  const rows = examples.labels.length;
  const depth = Math.min(6, Math.max(1, options.depth ?? 4));
  const treeCount = options.trees ?? 80;
  const nBins = Math.min(255, Math.max(2, options.bins ?? 32));
  const shrinkage = options.shrinkage ?? 0.1;
  const minLeaf = options.minLeaf ?? 5;
  const l2 = options.l2 ?? 1;
  const subsample = options.subsample ?? 1;
  const internal = (1 << depth) - 1;

  // Histogram binning, column-major.
  const cuts: Float32Array[] = [];
  const binned = new Uint8Array(rows * f);
  const column = new Float32Array(rows);
  for (let j = 0; j < f; j++) {
    for (let r = 0; r < rows; r++) column[r] = examples.features[r * f + j] as number;
    const c = cutPoints(column, nBins);
    cuts.push(c);
    for (let r = 0; r < rows; r++) binned[j * rows + r] = binOf(c, column[r] as number);
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
  for (let g = 0; g < groupCount; g++) for (let r = examples.groups[g] as number; r < (examples.groups[g + 1] as number); r++) rowGroup[r] = g;
  const rng = new Rng(options.seed).fork('ranker');
  // Held-out groups for early stopping: never trained on.
  const validationShare = Math.min(0.5, Math.max(0, options.validationShare ?? 0.1));
  const patience = Math.max(1, options.patience ?? 10);
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
  const held = wantHeld >= MIN_VALIDATION_GROUPS ? new Rng(options.seed).fork('ranker-validation').shuffle(labelled).slice(0, wantHeld).sort((a, b) => a - b) : [];
  const trainable = new Uint8Array(groupCount).fill(1);
  for (const g of held) trainable[g] = 0;
  useGroup.set(trainable);
  let best = { trees: treeCount, ndcg: -1 };
  let built = 0;
  const histG = new Float64Array(nBins);
  const histH = new Float64Array(nBins);
  const histN = new Int32Array(nBins);

  for (let t = 0; t < treeCount; t++) {
    if (subsample < 1) for (let g = 0; g < groupCount; g++) useGroup[g] = rng.next() < subsample ? (trainable[g] as number) : 0;
    lambdas(examples, scores, useGroup, grad, hess);
    let nodes: number[][] = [Array.from({ length: rows }, (_, r) => r).filter((r) => useGroup[rowGroup[r] as number] === 1)];
    for (let d = 0; d < depth; d++) {
      const next: number[][] = [];
      nodes.forEach((members, k) => {
        const node = (1 << d) - 1 + k;
        let G = 0;
        let H = 0;
        for (const r of members) {
          G += grad[r] as number;
          H += hess[r] as number;
        }
        const parent = (G * G) / (H + l2);
        let best = { gain: 1e-12, feature: -1, bin: -1 };
        if (members.length >= 2 * minLeaf) {
          for (let j = 0; j < f; j++) {
            const c = cuts[j] as Float32Array;
            if (c.length === 0) continue;
            histG.fill(0);
            histH.fill(0);
            histN.fill(0);
            for (const r of members) {
              const b = binned[j * rows + r] as number;
              histG[b]! += grad[r] as number;
              histH[b]! += hess[r] as number;
              histN[b]!++;
            }
            let gl = 0;
            let hl = 0;
            let nl = 0;
            for (let b = 0; b < c.length; b++) {
              gl += histG[b] as number;
              hl += histH[b] as number;
              nl += histN[b] as number;
              if (nl < minLeaf) continue;
              if (members.length - nl < minLeaf) break;
              const gain = (gl * gl) / (hl + l2) + ((G - gl) * (G - gl)) / (H - hl + l2) - parent;
              if (gain > best.gain) best = { gain, feature: j, bin: b };
            }
          }
        }
        if (best.feature < 0) {
          next.push(members, []);
          return;
        }
        splitFeature[t * internal + node] = best.feature;
        splitThreshold[t * internal + node] = (cuts[best.feature] as Float32Array)[best.bin] as number;
        const left: number[] = [];
        const right: number[] = [];
        for (const r of members) ((binned[best.feature * rows + r] as number) <= best.bin ? left : right).push(r);
        next.push(left, right);
      });
      nodes = next;
    }
    nodes.forEach((members, leaf) => {
      let G = 0;
      let H = 0;
      for (const r of members) {
        G += grad[r] as number;
        H += hess[r] as number;
      }
      leafValue[(t << depth) + leaf] = members.length === 0 ? 0 : (shrinkage * G) / (H + l2);
    });
    // Update every row's score with the tree as stored (float32), so training sees what serving computes.
    const model = new TreeEnsemble(f, depth, splitFeature.subarray(t * internal, (t + 1) * internal), splitThreshold.subarray(t * internal, (t + 1) * internal), leafValue.subarray(t << depth, (t + 1) << depth));
    for (let r = 0; r < rows; r++) scores[r]! += model.scoreRow(examples.features, r * f);
    built = t + 1;
    if (held.length > 0) {
      const ndcg = heldOutNdcg(examples, scores, held);
      if (ndcg > best.ndcg) best = { trees: t + 1, ndcg };
      else if (t + 1 - best.trees >= patience) break;
    }
  }
  const kept = held.length > 0 ? best.trees : built;
  const ensemble = new TreeEnsemble(f, depth, splitFeature.slice(0, kept * internal), splitThreshold.slice(0, kept * internal), leafValue.slice(0, kept << depth));
  return Object.assign(ensemble, { training: { treesKept: kept, validationGroups: held.length, validationNdcg: held.length > 0 ? best.ndcg : null } });
}
