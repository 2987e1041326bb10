/**
 * The SGD kernel of the hybrid model: one pass over a shard of the (shuffled) training positives.
 *
 * Pure and allocation-free in the inner loop, so the single-threaded fit and the Hogwild worker
 * threads (lib/train) run the very same code, the latter over SharedArrayBuffer-backed arrays.
 *
 * Scores are `user · item + itemBias`, where user and item are weighted sums of feature embeddings
 * (see features.ts). User biases are left out: in pairwise losses they cancel, so their gradient is 0.
 *
 * - WARP: sample negatives uniformly until one scores above `positive - 1` (at most maxSampled
 *   draws); update with weight log(floor((nItems - 1) / draws)), as LightFM does.
 * - BPR: one negative; loss -log sigmoid(positive - negative).
 * Negatives that are positives of the user are skipped (binary search in the user's sorted items).
 * Identity dropout (config.identityDropout > 0) swaps item rows for metadata-only rows (see KernelData).
 * Optimizers: Adagrad (LightFM's form: accumulators start at 1, step lr / sqrt(acc)) or Adam
 * (lazy: only touched rows move; bias correction from the step counter). L2 adds l2 * parameter to
 * the gradient of every touched parameter.
 */
import type { Rng } from '../../rng.ts';

export const LOSS_WARP = 0;
export const LOSS_BPR = 1;
export const OPT_ADAGRAD = 0;
export const OPT_ADAM = 1;

const ADAM_BETA1 = 0.9;
const ADAM_BETA2 = 0.999;
const ADAM_EPS = 1e-8;

/** Training data as typed arrays. Users and items are rows of their feature matrices. */
export interface KernelData {
  readonly dim: number;
  readonly nItems: number;
  readonly userPtr: Int32Array;
  readonly userFeat: Int32Array;
  readonly userWeight: Float32Array;
  readonly itemPtr: Int32Array;
  readonly itemFeat: Int32Array;
  readonly itemWeight: Float32Array;
  /** Training positives: user row, item row, sample weight (mean 1). */
  readonly posUser: Int32Array;
  readonly posItem: Int32Array;
  readonly posWeight: Float32Array;
  /** Each user's positive item rows, sorted, in CSR form (for negative rejection). */
  readonly seenPtr: Int32Array;
  readonly seenItem: Int32Array;
  /**
   * Each item's metadata-only row (identity dropped, weights renormalised), in the same CSR form as
   * the item matrix; an item without metadata (or without identity) keeps its full row. Read only
   * when identityDropout > 0.
   */
  readonly itemColdPtr: Int32Array;
  readonly itemColdFeat: Int32Array;
  readonly itemColdWeight: Float32Array;
}

/** Trainable parameters and optimizer state, per feature. Moment arrays are empty for Adagrad. */
export interface KernelParams {
  readonly userEmb: Float32Array;
  readonly userAcc: Float32Array;
  readonly userMom: Float32Array;
  readonly itemEmb: Float32Array;
  readonly itemAcc: Float32Array;
  readonly itemMom: Float32Array;
  readonly itemBias: Float32Array;
  readonly itemBiasAcc: Float32Array;
  readonly itemBiasMom: Float32Array;
}

export interface KernelConfig {
  readonly loss: number;
  readonly optimizer: number;
  readonly learningRate: number;
  readonly l2: number;
  readonly maxSampled: number;
  /**
   * Identity dropout (as DropoutNet): per positive, the positive item is represented by its
   * metadata-only row with this probability, and (by a second draw) so are that positive's negatives.
   * The metadata embeddings then score an item on their own, on the same scale as trained items, so
   * an item published after training competes with them. 0 = off (no random draws).
   */
  readonly identityDropout: number;
  /** Adam step counter at the start of this shard (ignored by Adagrad). */
  readonly stepOffset: number;
}

export interface ShardResult {
  /** Sum of the losses of the shard's positives. */
  readonly loss: number;
  /** Positives processed. */
  readonly samples: number;
}

/** Scratch vectors, allocated once per worker. */
export interface KernelScratch {
  readonly user: Float64Array;
  readonly pos: Float64Array;
  readonly neg: Float64Array;
  readonly grad: Float64Array;
}

export function makeScratch(dim: number): KernelScratch {
  return { user: new Float64Array(dim), pos: new Float64Array(dim), neg: new Float64Array(dim), grad: new Float64Array(dim) };
}

/** Runs SGD over positives order[start .. end-1]; returns the summed loss. */
export function runShard(
  data: KernelData,
  params: KernelParams,
  config: KernelConfig,
  order: Int32Array,
  start: number,
  end: number,
  rng: Rng,
  scratch: KernelScratch = makeScratch(data.dim),
): ShardResult {
  const { dim, nItems, posUser, posItem, posWeight, seenPtr, seenItem, userPtr, userFeat, userWeight, itemPtr, itemFeat, itemWeight } =
    data;
  const { itemColdPtr, itemColdFeat, itemColdWeight } = data;
  const { user, pos, neg, grad } = scratch;
  const warp = config.loss === LOSS_WARP;
  const maxSampled = Math.max(1, config.maxSampled | 0);
  const dropout = Math.max(config.identityDropout, 0);
  let loss = 0;
  let samples = 0;
  let step = config.stepOffset;
  const upd = new Updater(config);
  for (let o = start; o < end; o++) {
    const p = order[o] as number;
    const u = posUser[p] as number;
    const i = posItem[p] as number;
    const w = posWeight[p] as number;
    samples++;
    // The rows (full or metadata-only) the positive and the negatives are represented by.
    let pPtr = itemPtr;
    let pFeat = itemFeat;
    let pW = itemWeight;
    let nPtr = itemPtr;
    let nFeat = itemFeat;
    let nW = itemWeight;
    if (dropout > 0) {
      if (rng.next() < dropout) {
        pPtr = itemColdPtr;
        pFeat = itemColdFeat;
        pW = itemColdWeight;
      }
      if (rng.next() < dropout) {
        nPtr = itemColdPtr;
        nFeat = itemColdFeat;
        nW = itemColdWeight;
      }
    }
    const posBias = represent(
      userPtr,
      userFeat,
      userWeight,
      params.userEmb,
      u,
      dim,
      user,
      pPtr,
      pFeat,
      pW,
      params.itemEmb,
      params.itemBias,
      i,
      pos,
    );
    const posScore = dot(user, pos, dim) + posBias;
    const lo = seenPtr[u] as number;
    const hi = seenPtr[u + 1] as number;
    let j = -1;
    let coef = 0;
    if (warp) {
      for (let sampled = 1; sampled <= maxSampled; sampled++) {
        const cand = rng.int(nItems);
        if (contains(seenItem, lo, hi, cand)) continue;
        // Score without materialising the item's vector: most draws are rejected.
        const negScore = scoreItem(nPtr, nFeat, nW, params.itemEmb, params.itemBias, cand, dim, user);
        if (negScore > posScore - 1) {
          sumRowsF64(nPtr, nFeat, nW, params.itemEmb, cand, dim, neg);
          const rankWeight = Math.log(Math.floor((nItems - 1) / sampled));
          if (rankWeight > 0) {
            j = cand;
            coef = w * rankWeight;
            loss += coef * (1 - posScore + negScore);
          }
          break;
        }
      }
    } else {
      let cand = rng.int(nItems);
      for (let tries = 0; tries < 10 && contains(seenItem, lo, hi, cand); tries++) cand = rng.int(nItems);
      if (!contains(seenItem, lo, hi, cand)) {
        const negBias = representItem(nPtr, nFeat, nW, params.itemEmb, params.itemBias, cand, dim, neg);
        const x = posScore - (dot(user, neg, dim) + negBias);
        // -log(sigmoid(x)), computed stably
        loss += w * (x > 0 ? Math.log1p(Math.exp(-x)) : -x + Math.log1p(Math.exp(x)));
        j = cand;
        coef = w / (1 + Math.exp(x));
      }
    }
    if (j < 0 || coef === 0) continue;
    step++;
    upd.setStep(step);
    // d loss / d positive score = -coef, d loss / d negative score = +coef.
    for (let k = 0; k < dim; k++) grad[k] = coef * ((neg[k] as number) - (pos[k] as number));
    upd.apply(params.itemEmb, params.itemAcc, params.itemMom, pPtr, pFeat, pW, i, user, -coef, dim);
    upd.applyBias(params.itemBias, params.itemBiasAcc, params.itemBiasMom, pPtr, pFeat, pW, i, -coef);
    upd.apply(params.itemEmb, params.itemAcc, params.itemMom, nPtr, nFeat, nW, j, user, coef, dim);
    upd.applyBias(params.itemBias, params.itemBiasAcc, params.itemBiasMom, nPtr, nFeat, nW, j, coef);
    upd.apply(params.userEmb, params.userAcc, params.userMom, userPtr, userFeat, userWeight, u, grad, 1, dim);
  }
  return { loss, samples };
}

/** Writes the user's and the item's representations into `user` and `item`; returns the item bias. */
function represent(
  uPtr: Int32Array,
  uFeat: Int32Array,
  uW: Float32Array,
  uEmb: Float32Array,
  u: number,
  dim: number,
  user: Float64Array,
  iPtr: Int32Array,
  iFeat: Int32Array,
  iW: Float32Array,
  iEmb: Float32Array,
  iBias: Float32Array,
  i: number,
  item: Float64Array,
): number {
  sumRowsF64(uPtr, uFeat, uW, uEmb, u, dim, user);
  return representItem(iPtr, iFeat, iW, iEmb, iBias, i, dim, item);
}

function representItem(
  ptr: Int32Array,
  feat: Int32Array,
  w: Float32Array,
  emb: Float32Array,
  bias: Float32Array,
  row: number,
  dim: number,
  out: Float64Array,
): number {
  sumRowsF64(ptr, feat, w, emb, row, dim, out);
  let b = 0;
  const end = ptr[row + 1] as number;
  for (let p = ptr[row] as number; p < end; p++) b += (w[p] as number) * (bias[feat[p] as number] as number);
  return b;
}

/** userVector · item + itemBias, summed feature by feature (no temporary vector). */
function scoreItem(
  ptr: Int32Array,
  feat: Int32Array,
  w: Float32Array,
  emb: Float32Array,
  bias: Float32Array,
  row: number,
  dim: number,
  user: Float64Array,
): number {
  const end = ptr[row + 1] as number;
  let total = 0;
  for (let p = ptr[row] as number; p < end; p++) {
    const f = feat[p] as number;
    const base = f * dim;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    let k = 0;
    for (; k + 3 < dim; k += 4) {
      s0 += (user[k] as number) * (emb[base + k] as number);
      s1 += (user[k + 1] as number) * (emb[base + k + 1] as number);
      s2 += (user[k + 2] as number) * (emb[base + k + 2] as number);
      s3 += (user[k + 3] as number) * (emb[base + k + 3] as number);
    }
    for (; k < dim; k++) s0 += (user[k] as number) * (emb[base + k] as number);
    total += (w[p] as number) * (s0 + s1 + s2 + s3 + (bias[f] as number));
  }
  return total;
}

/** The kernel's own copy of sumRows, kept monomorphic (Float64Array output) for speed. */
function sumRowsF64(
  ptr: Int32Array,
  feat: Int32Array,
  w: Float32Array,
  emb: Float32Array,
  row: number,
  dim: number,
  out: Float64Array,
): void {
  const start = ptr[row] as number;
  const end = ptr[row + 1] as number;
  if (end === start + 1) {
    // One feature (an identity-only entity): a scaled copy.
    const a = w[start] as number;
    const base = (feat[start] as number) * dim;
    for (let k = 0; k < dim; k++) out[k] = a * (emb[base + k] as number);
    return;
  }
  for (let k = 0; k < dim; k++) out[k] = 0;
  for (let p = start; p < end; p++) {
    const a = w[p] as number;
    const base = (feat[p] as number) * dim;
    for (let k = 0; k < dim; k++) out[k] = (out[k] as number) + a * (emb[base + k] as number);
  }
}

/** out = sum over the row's features of weight * embedding. */
export function sumRows(
  ptr: Int32Array,
  feat: Int32Array,
  w: Float32Array,
  emb: Float32Array,
  row: number,
  dim: number,
  out: Float64Array | Float32Array,
  outOffset = 0,
): void {
  const start = ptr[row] as number;
  const end = ptr[row + 1] as number;
  for (let k = 0; k < dim; k++) out[outOffset + k] = 0;
  for (let p = start; p < end; p++) {
    const a = w[p] as number;
    const base = (feat[p] as number) * dim;
    for (let k = 0; k < dim; k++) out[outOffset + k] = (out[outOffset + k] as number) + a * (emb[base + k] as number);
  }
}

function dot(a: Float64Array, b: Float64Array, dim: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let k = 0;
  for (; k + 3 < dim; k += 4) {
    s0 += (a[k] as number) * (b[k] as number);
    s1 += (a[k + 1] as number) * (b[k + 1] as number);
    s2 += (a[k + 2] as number) * (b[k + 2] as number);
    s3 += (a[k + 3] as number) * (b[k + 3] as number);
  }
  for (; k < dim; k++) s0 += (a[k] as number) * (b[k] as number);
  return s0 + s1 + s2 + s3;
}

function adagradRow(
  emb: Float32Array,
  acc: Float32Array,
  ptr: Int32Array,
  feat: Int32Array,
  w: Float32Array,
  row: number,
  grad: Float64Array,
  scale: number,
  dim: number,
  lr: number,
  l2: number,
): void {
  const end = ptr[row + 1] as number;
  for (let p = ptr[row] as number; p < end; p++) {
    const a = scale * (w[p] as number);
    const base = (feat[p] as number) * dim;
    for (let k = 0; k < dim; k++) {
      const x = base + k;
      const e = emb[x] as number;
      const g = a * (grad[k] as number) + l2 * e;
      const s = acc[x] as number;
      emb[x] = e - (lr * g) / Math.sqrt(s);
      acc[x] = s + g * g;
    }
  }
}

function adamRow(
  emb: Float32Array,
  acc: Float32Array,
  mom: Float32Array,
  ptr: Int32Array,
  feat: Int32Array,
  w: Float32Array,
  row: number,
  grad: Float64Array,
  scale: number,
  dim: number,
  lr: number,
  l2: number,
  c1: number,
  c2: number,
): void {
  const end = ptr[row + 1] as number;
  for (let p = ptr[row] as number; p < end; p++) {
    const a = scale * (w[p] as number);
    const base = (feat[p] as number) * dim;
    for (let k = 0; k < dim; k++) {
      const x = base + k;
      const e = emb[x] as number;
      const g = a * (grad[k] as number) + l2 * e;
      const m = ADAM_BETA1 * (mom[x] as number) + (1 - ADAM_BETA1) * g;
      const v = ADAM_BETA2 * (acc[x] as number) + (1 - ADAM_BETA2) * g * g;
      mom[x] = m;
      acc[x] = v;
      emb[x] = e - (lr * m * c1) / (Math.sqrt(v * c2) + ADAM_EPS);
    }
  }
}

function contains(sorted: Int32Array, lo: number, hi: number, value: number): boolean {
  let a = lo;
  let b = hi - 1;
  while (a <= b) {
    const mid = (a + b) >>> 1;
    const v = sorted[mid] as number;
    if (v === value) return true;
    if (v < value) a = mid + 1;
    else b = mid - 1;
  }
  return false;
}

/** Applies one gradient to every feature of an entity row, scaled by the feature's weight. */
class Updater {
  private readonly adam: boolean;
  private readonly lr: number;
  private readonly l2: number;
  private c1 = 1;
  private c2 = 1;

  constructor(config: KernelConfig) {
    this.adam = config.optimizer === OPT_ADAM;
    this.lr = config.learningRate;
    this.l2 = config.l2;
  }

  setStep(step: number): void {
    if (!this.adam) return;
    this.c1 = 1 / (1 - ADAM_BETA1 ** step);
    this.c2 = 1 / (1 - ADAM_BETA2 ** step);
  }

  /** emb[f] -= step(scale * weight_f * grad + l2 * emb[f]) for each feature f of the row. */
  apply(
    emb: Float32Array,
    acc: Float32Array,
    mom: Float32Array,
    ptr: Int32Array,
    feat: Int32Array,
    w: Float32Array,
    row: number,
    grad: Float64Array,
    scale: number,
    dim: number,
  ): void {
    if (this.adam) adamRow(emb, acc, mom, ptr, feat, w, row, grad, scale, dim, this.lr, this.l2, this.c1, this.c2);
    else adagradRow(emb, acc, ptr, feat, w, row, grad, scale, dim, this.lr, this.l2);
  }

  applyBias(
    bias: Float32Array,
    acc: Float32Array,
    mom: Float32Array,
    ptr: Int32Array,
    feat: Int32Array,
    w: Float32Array,
    row: number,
    grad: number,
  ): void {
    const end = ptr[row + 1] as number;
    for (let p = ptr[row] as number; p < end; p++) {
      const f = feat[p] as number;
      const e = bias[f] as number;
      const g = grad * (w[p] as number) + this.l2 * e;
      if (!this.adam) {
        const s = acc[f] as number;
        bias[f] = e - (this.lr * g) / Math.sqrt(s);
        acc[f] = s + g * g;
      } else {
        const m = ADAM_BETA1 * (mom[f] as number) + (1 - ADAM_BETA1) * g;
        const v = ADAM_BETA2 * (acc[f] as number) + (1 - ADAM_BETA2) * g * g;
        mom[f] = m;
        acc[f] = v;
        bias[f] = e - (this.lr * m * this.c1) / (Math.sqrt(v * this.c2) + ADAM_EPS);
      }
    }
  }
}
