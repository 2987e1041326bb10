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
 * - BPR: the highest-scoring of maxSampled uniform negatives (1: the classic one negative); loss
 *   -log sigmoid(positive - negative).
 * Negatives that are positives of the user are skipped (binary search in the user's sorted items).
 * Identity dropout (config.identityDropout > 0) swaps item rows for metadata-only rows (see KernelData).
 * Optimizers: Adagrad (LightFM's form: accumulators start at 1, step lr / sqrt(acc)), row-wise
 * Adagrad (one accumulator per feature's embedding row, as TorchRec / FBGEMM train embedding tables:
 * acc += mean over the row of g^2, the step uses the accumulator before that update, as the per-dim
 * form does; biases keep per-feature Adagrad, which is the same thing for a row of one value) or
 * Adam (lazy: only touched rows move; bias correction from the step counter). L2 adds l2 * parameter
 * to the gradient of every touched parameter.
 *
 * Arithmetic is f32 (Math.fround after each operation), in the order of the wasm kernel's
 * (wasm/kernel.wat) instructions: dot products in four lanes (k mod 4) summed as (l0 + l1) + (l2 + l3),
 * sums of feature rows one feature at a time. Why: the two kernels then take the same steps to the bit
 * on one thread, so the readable one is an exact specification of the fast one (tested over an epoch).
 */
import type { Rng } from '../../rng.ts';

export const LOSS_WARP = 0;
export const LOSS_BPR = 1;
export const OPT_ADAGRAD = 0;
export const OPT_ADAM = 1;
/**
 * Row-wise Adagrad: userAcc / itemAcc hold one float per feature (not per dimension). Why: the kernel
 * is bound by memory latency, and a per-dimension accumulator doubles the lines each update touches.
 */
export const OPT_ADAGRAD_ROWWISE = 2;

export const ADAM_BETA1 = 0.9;
export const ADAM_BETA2 = 0.999;

/** f32 rounding: every operation below rounds to f32 where the wasm kernel's f32 instruction does. */
const f32 = Math.fround;
const B1 = f32(ADAM_BETA1);
const NB1 = f32(0.1);
const B2 = f32(ADAM_BETA2);
const NB2 = f32(0.001);
const EPS = f32(1e-8);

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

/**
 * Trainable parameters and optimizer state, per feature. Moment arrays are empty for Adagrad; with
 * row-wise Adagrad, userAcc and itemAcc have one float per feature (itemBiasAcc is per feature anyway).
 */
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
  /** WARP: the most negatives drawn per positive; BPR: the negatives drawn (the hardest is used). */
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

/** Scratch vectors (f32, as the wasm kernel's), allocated once per worker. */
export interface KernelScratch {
  readonly user: Float32Array;
  readonly pos: Float32Array;
  readonly neg: Float32Array;
  readonly grad: Float32Array;
}

export function makeScratch(dim: number): KernelScratch {
  return { user: new Float32Array(dim), pos: new Float32Array(dim), neg: new Float32Array(dim), grad: new Float32Array(dim) };
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
    sumRows32(userPtr, userFeat, userWeight, params.userEmb, u, dim, user);
    sumRows32(pPtr, pFeat, pW, params.itemEmb, i, dim, pos);
    const posScore = f32(dot32(user, 0, pos, 0, dim) + rowBias(pPtr, pFeat, pW, params.itemBias, i));
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
        if (negScore > f32(posScore - 1)) {
          sumRows32(nPtr, nFeat, nW, params.itemEmb, cand, dim, neg);
          const rankWeight = Math.log(Math.floor((nItems - 1) / sampled));
          if (rankWeight > 0) {
            j = cand;
            coef = f32(w * f32(rankWeight));
            loss += f32(coef * f32(f32(1 - posScore) + negScore));
          }
          break;
        }
      }
    } else {
      // BPR: the highest-scoring of maxSampled negatives, each drawn with up to 10 redraws past the
      // user's own items (with 1, the classic uniform negative, and no scoring).
      let cand = -1;
      let best = 0;
      for (let sampled = 0; sampled < maxSampled; sampled++) {
        let c = rng.int(nItems);
        for (let tries = 0; tries < 10 && contains(seenItem, lo, hi, c); tries++) c = rng.int(nItems);
        if (contains(seenItem, lo, hi, c)) continue;
        if (maxSampled === 1) cand = c;
        else {
          const negScore = scoreItem(nPtr, nFeat, nW, params.itemEmb, params.itemBias, c, dim, user);
          if (cand < 0 || negScore > best) {
            cand = c;
            best = negScore;
          }
        }
      }
      if (cand >= 0) {
        sumRows32(nPtr, nFeat, nW, params.itemEmb, cand, dim, neg);
        const x = f32(posScore - f32(dot32(user, 0, neg, 0, dim) + rowBias(nPtr, nFeat, nW, params.itemBias, cand)));
        // -log(sigmoid(x)), computed stably (in f64, as the wasm kernel does)
        loss += w * (x > 0 ? Math.log1p(Math.exp(-x)) : -x + Math.log1p(Math.exp(x)));
        j = cand;
        coef = f32(w / (1 + Math.exp(x)));
      }
    }
    if (j < 0 || coef === 0) continue;
    upd.step();
    // d loss / d positive score = -coef, d loss / d negative score = +coef.
    for (let k = 0; k < dim; k++) grad[k] = coef * f32((neg[k] as number) - (pos[k] as number));
    upd.apply(params.itemEmb, params.itemAcc, params.itemMom, pPtr, pFeat, pW, i, user, -coef, dim);
    upd.applyBias(params.itemBias, params.itemBiasAcc, params.itemBiasMom, pPtr, pFeat, pW, i, -coef);
    upd.apply(params.itemEmb, params.itemAcc, params.itemMom, nPtr, nFeat, nW, j, user, coef, dim);
    upd.applyBias(params.itemBias, params.itemBiasAcc, params.itemBiasMom, nPtr, nFeat, nW, j, coef);
    upd.apply(params.userEmb, params.userAcc, params.userMom, userPtr, userFeat, userWeight, u, grad, 1, dim);
  }
  return { loss, samples };
}

/** Sum over the row's features of weight * bias, in f32, one feature at a time. */
function rowBias(ptr: Int32Array, feat: Int32Array, w: Float32Array, bias: Float32Array, row: number): number {
  let b = 0;
  const end = ptr[row + 1] as number;
  for (let p = ptr[row] as number; p < end; p++) b = f32(b + f32((w[p] as number) * (bias[feat[p] as number] as number)));
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
  user: Float32Array,
): number {
  const end = ptr[row + 1] as number;
  let total = 0;
  for (let p = ptr[row] as number; p < end; p++) {
    const f = feat[p] as number;
    total = f32(total + f32((w[p] as number) * f32(dot32(user, 0, emb, f * dim, dim) + (bias[f] as number))));
  }
  return total;
}

/** a[aAt ..] · b[bAt ..] over dim floats, in f32, in the wasm kernel's four lanes. */
function dot32(a: Float32Array, aAt: number, b: Float32Array, bAt: number, dim: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let k = 0;
  for (; k + 3 < dim; k += 4) {
    s0 = f32(s0 + f32((a[aAt + k] as number) * (b[bAt + k] as number)));
    s1 = f32(s1 + f32((a[aAt + k + 1] as number) * (b[bAt + k + 1] as number)));
    s2 = f32(s2 + f32((a[aAt + k + 2] as number) * (b[bAt + k + 2] as number)));
    s3 = f32(s3 + f32((a[aAt + k + 3] as number) * (b[bAt + k + 3] as number)));
  }
  // Sizes that are not whole lanes (JS kernel only): the remainder joins lanes 0, 1, 2.
  if (k < dim) s0 = f32(s0 + f32((a[aAt + k] as number) * (b[bAt + k] as number)));
  if (k + 1 < dim) s1 = f32(s1 + f32((a[aAt + k + 1] as number) * (b[bAt + k + 1] as number)));
  if (k + 2 < dim) s2 = f32(s2 + f32((a[aAt + k + 2] as number) * (b[bAt + k + 2] as number)));
  return f32(f32(s0 + s1) + f32(s2 + s3));
}

/** out = sum over the row's features of weight * embedding, in f32, one feature at a time. */
function sumRows32(
  ptr: Int32Array,
  feat: Int32Array,
  w: Float32Array,
  emb: Float32Array,
  row: number,
  dim: number,
  out: Float32Array,
): void {
  const start = ptr[row] as number;
  const end = ptr[row + 1] as number;
  if (start === end) {
    out.fill(0, 0, dim);
    return;
  }
  const a0 = w[start] as number;
  const base0 = (feat[start] as number) * dim;
  for (let k = 0; k < dim; k++) out[k] = a0 * (emb[base0 + k] as number);
  for (let p = start + 1; p < end; p++) {
    const a = w[p] as number;
    const base = (feat[p] as number) * dim;
    for (let k = 0; k < dim; k++) out[k] = (out[k] as number) + f32(a * (emb[base + k] as number));
  }
}

/** out = sum over the row's features of weight * embedding (outside training: f64 accumulation). */
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

/** Applies one gradient to every feature of an entity row, scaled by the feature's weight (f32). */
class Updater {
  private readonly adam: boolean;
  private readonly rowwise: boolean;
  private readonly lr: number;
  private readonly l2: number;
  /** beta^step, advanced by one multiplication per step, as the wasm kernel does (not by pow). */
  private b1pow: number;
  private b2pow: number;
  private c1 = 1;
  private c2 = 1;

  constructor(config: KernelConfig) {
    this.adam = config.optimizer === OPT_ADAM;
    this.rowwise = config.optimizer === OPT_ADAGRAD_ROWWISE;
    this.lr = f32(config.learningRate);
    this.l2 = f32(config.l2);
    this.b1pow = ADAM_BETA1 ** config.stepOffset;
    this.b2pow = ADAM_BETA2 ** config.stepOffset;
  }

  /** One more update: Adam's bias corrections move on. */
  step(): void {
    if (!this.adam) return;
    this.b1pow *= ADAM_BETA1;
    this.b2pow *= ADAM_BETA2;
    this.c1 = f32(1 / (1 - this.b1pow));
    this.c2 = f32(1 / (1 - this.b2pow));
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
    grad: Float32Array,
    scale: number,
    dim: number,
  ): void {
    const { lr, l2, c1, c2 } = this;
    const end = ptr[row + 1] as number;
    for (let p = ptr[row] as number; p < end; p++) {
      const a = f32(scale * (w[p] as number));
      const base = (feat[p] as number) * dim;
      if (this.adam) {
        for (let k = 0; k < dim; k++) {
          const x = base + k;
          const e = emb[x] as number;
          const g = f32(f32(a * (grad[k] as number)) + f32(l2 * e));
          const m = f32(f32(B1 * (mom[x] as number)) + f32(NB1 * g));
          const v = f32(f32(B2 * (acc[x] as number)) + f32(NB2 * f32(g * g)));
          mom[x] = m;
          acc[x] = v;
          emb[x] = e - f32(f32(f32(lr * m) * c1) / f32(f32(Math.sqrt(f32(v * c2))) + EPS));
        }
      } else if (this.rowwise) {
        // One accumulator for the feature's row: the step lr / sqrt(acc) once, then acc += mean of
        // g^2, summed in the wasm kernel's four lanes (k mod 4) as (l0 + l1) + (l2 + l3).
        const f = feat[p] as number;
        const s = acc[f] as number;
        const rate = f32(lr / f32(Math.sqrt(s)));
        let m0 = 0;
        let m1 = 0;
        let m2 = 0;
        let m3 = 0;
        for (let k = 0; k < dim; k++) {
          const x = base + k;
          const e = emb[x] as number;
          const g = f32(f32(a * (grad[k] as number)) + f32(l2 * e));
          emb[x] = e - f32(rate * g);
          const gg = f32(g * g);
          const lane = k & 3;
          if (lane === 0) m0 = f32(m0 + gg);
          else if (lane === 1) m1 = f32(m1 + gg);
          else if (lane === 2) m2 = f32(m2 + gg);
          else m3 = f32(m3 + gg);
        }
        acc[f] = s + f32(f32(f32(m0 + m1) + f32(m2 + m3)) / dim);
      } else {
        for (let k = 0; k < dim; k++) {
          const x = base + k;
          const e = emb[x] as number;
          const g = f32(f32(a * (grad[k] as number)) + f32(l2 * e));
          const s = acc[x] as number;
          emb[x] = e - f32(f32(lr * g) / f32(Math.sqrt(s)));
          acc[x] = s + f32(g * g);
        }
      }
    }
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
    const { lr, l2, c1, c2 } = this;
    const end = ptr[row + 1] as number;
    for (let p = ptr[row] as number; p < end; p++) {
      const f = feat[p] as number;
      const e = bias[f] as number;
      const g = f32(f32(grad * (w[p] as number)) + f32(l2 * e));
      if (!this.adam) {
        const s = acc[f] as number;
        bias[f] = e - f32(f32(lr * g) / f32(Math.sqrt(s)));
        acc[f] = s + f32(g * g);
      } else {
        const m = f32(f32(B1 * (mom[f] as number)) + f32(NB1 * g));
        const v = f32(f32(B2 * (acc[f] as number)) + f32(NB2 * f32(g * g)));
        mom[f] = m;
        acc[f] = v;
        bias[f] = e - f32(f32(f32(lr * m) * c1) / f32(f32(Math.sqrt(f32(v * c2))) + EPS));
      }
    }
  }
}
