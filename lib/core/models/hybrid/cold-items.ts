/**
 * Items known only by their metadata features (held out of training, or published after it): a
 * linear model of the interactions over the item features and the trained user vectors, fitted in
 * closed form after training.
 *
 * Why: the trained model represents such an item by the normalised sum of its feature embeddings
 * (LightFM's way). Those embeddings are trained as parts of the warm items' sums, beside each item's
 * identity embedding, which absorbs most of what the item is; their sum alone ranks feature-only
 * items poorly, even with identity dropout. Instead, with X the warm items' features as given (0/1
 * genres stay 1 each, so an item's genres add up), the same rows normalised, the products of two
 * features (when the features are few: a film that is a comedy AND a romance is not the sum of the
 * two) and a constant 1 as intercept, U the trained user
 * vectors with a constant 1 appended, and Y the users × warm items 0/1 interaction matrix,
 *
 *   W = argmin ||Y - U Wᵀ Xᵀ||² + λ||W_features||² + μ||W||²-ish  =  (XᵀX + λ)⁻¹ XᵀYᵀU (UᵀU + μ)⁻¹
 *
 * (every user × warm item pair counts, so the normal equations factor into the two small Gram
 * matrices; Y enters only through its positives). A feature-only item x then scores user u by
 * [u, 1] · (Wᵀx), i.e. representation W_emb x and bias W_bias x. These scores are on the 0/1 scale of
 * Y; one affine map (least squares of the model's scores of warm items on them, over a sample of
 * users × warm items) puts them on the trained items' scale, so feature-only items rank among warm ones.
 *
 * Chosen by `npm run bench -- tune-cold-items` on validation data only (MovieLens 100k's inner split
 * and the generated tuning sets, items held out entirely): see COLD_ITEMS_LAMBDA.
 */
import type { Feature, FeatureRows } from '../recommender.ts';
import type { FeatureMatrix, FeatureSpace } from './features.ts';
import type { HybridState } from './model.ts';

/**
 * The defaults (λ, space, blend), chosen by `npm run bench -- tune-cold-items` on validation data only,
 * by held-out-items NDCG@10 (dropout 0.2): MovieLens 100k inner split, mean of seeds 1-3, and the
 * mean of the four generated tuning sets (seed 1):
 *
 * | variant                                   | MovieLens inner | generated |
 * | trained feature embeddings (map off)      | 0.1185          | 0.2049    |
 * | raw 0/1 genres, λ 10, no blend            | 0.1315          | 0.1592    |
 * | both spaces, λ 10, blend 0 / 0.3 / 0.5 / 0.7 | 0.1300 / 0.1426 / 0.1441 / 0.1346 | 0.1918 / 0.2007 / 0.2037 / 0.2054 |
 * | both spaces, λ 30, blend 0 / 0.3 / 0.5 / 0.7 | 0.1334 / 0.1451 / 0.1411 / 0.1313 | 0.1896 / 0.2011 / 0.2044 / 0.2060 |
 *
 * Additive (raw 0/1) genres fit MovieLens, whose multi-genre films are more popular; the generated
 * sets make an item the MEAN of its genres' vectors, where the normalised rows fit: with both side by
 * side the ridge weighs them. The blend with the trained sum (two calibrated predictors averaged) is
 * what carries both kinds of data: λ 10 with blend 0.5 gains 22% on MovieLens and gives up 0.6% on the
 * generated sets (sparse -9%, steep +6%). Warm items are untouched (MovieLens inner warm NDCG@10
 * 0.2395 with the map and without; with the calibration sample of 64 users, the default measures
 * 0.1438 / 0.2037). Regressing the warm items' representations instead (the trained
 * vectors as targets) lost on MovieLens (0.105 at λ 1): identities dominate them.
 *
 * Session 7, after WARP's identity share became 0.7 (same protocol; BENCH_COLD_PROBES names each row):
 *
 * | variant (both spaces, λ 10, blend 0.5 unless said)             | MovieLens inner | generated |
 * | trained feature embeddings (map off)                           | 0.1200          | 0.2055    |
 * | no pairs (the session-6 default)                               | 0.1439          | 0.2052    |
 * | **pairs, λ 10 on them (default)**                              | **0.1499**      | **0.2071**|
 * | pairs λ 1 / 3 / 5 / 20 / 30 / 100                              | 0.1495 / 0.1506 / 0.1508 / 0.1485 / 0.1472 / 0.1458 | 0.1966 / 0.2042 / 0.2063 / 0.2064 / 0.2067 / 0.2059 |
 * | pairs, blend 0.3 / 0.4 / 0.6 / 0.7                             | 0.1447 / 0.1470 / 0.1491 / 0.1456 | 0.2024 / 0.2048 / 0.2081 / 0.2082 |
 * | pairs, λ 5 / 20 on all blocks                                  | 0.1509 / 0.1476 | 0.2059 / 0.2072 |
 * | pairs, raw and normalised λ 3 / 30 (pairs 10)                  | 0.1490 / 0.1485 | 0.2064 / 0.2066 |
 * | pairs, raw λ 5 / 20 (normalised and pairs 10)                  | 0.1504 / 0.1494 | 0.2066 / 0.2070 |
 * | pairs, μ 0.1 / 3 / 10                                          | 0.1480 / 0.1496 / 0.1484 | 0.2067 / 0.2066 / 0.2067 |
 * | no pairs / pairs: users weighted n^-0.5; no pairs: n^-1        | 0.1439 / 0.1500; 0.1433 | 0.2046 / 0.2065; 0.2035 |
 * | no pairs / pairs: separate calibration slopes, user and bias parts | 0.1465 / 0.1317 | 0.2041 / 0.2053 |
 * | pairs: items weighted n^-0.5 / n^-1 / n^+0.5                   | 0.1412 / 0.1359 / 0.1474 | 0.2056 / 0.2036 / 0.2025 |
 * | pairs: the map's bias part × 0 / 0.5 / 1.25 / 2.5              | 0.1496 / 0.1502 / 0.1488 / 0.1394 | 0.2040 / 0.2057 / 0.2070 / 0.2045 |
 * | pairs: positives weighted 1 + c (implicit ALS, seed 1), c 1 / 3 / 10 | 0.1508 / 0.1482 / 0.1438 against 0.1518 | |
 * | pairs: calibration slope std(model)/std(map) instead of the regression's, blend 0.3 / 0.5 / 0.7 (†) | 0.1393 / 0.1423 / 0.1475 against 0.1485 | 0.1973 / 0.2018 / 0.2060 against 0.2053 |
 * | pairs and blend chosen per fit on a fifth of the warm items scored as feature-only | 0.1434 | 0.2080 |
 *
 * (†: measured on a trainer in the middle of another change, so against its own default.)
 *
 * Pairs carry what additive genres cannot (a genre's appeal depends on the genre beside it); on
 * MovieLens they gain 4.2% (each seed: 0.1440 / 0.1431 / 0.1446 -> 0.1518 / 0.1498 / 0.1481), with BPR
 * 3.8% (0.1363 -> 0.1415; generated 0.1988 -> 0.1986), and the generated sets' mean is level or better
 * (usual -2%, steep +7%). Weights (users, items, positives), a separate slope and a per-fit choice
 * measured no better and were removed; the map's bias part hardly matters (the trained sum's bias and
 * the user part carry the ranking among feature-only items). Cost: pairs add 10-25 ms CPU to the map
 * at MovieLens size (~100 ms with them); at 100k users × 36k items × 20 features (3 a row), 1.5M
 * positives, the map costs 0.87 / 0.97 s CPU with pairs against 0.85 / 0.88 s without (min / median).
 *
 * Reported once after the choice, never tuned on: MovieLens 100k's test split, heldOutItems(test, 0.2,
 * 7), dropout 0.2, seeds 1 / 2 / 3: WARP 0.1989 / 0.1911 / 0.1963 (mean 0.1954; without pairs the
 * models bench had 0.1860, 0.1798-0.1896; map off 0.1554), BPR 0.1829 / 0.1809 / 0.1806 (0.1815;
 * before 0.1735). `MOVIELENS_100K=… BENCH_COLD_TEST=1 BENCH_COLD_GENERATED=0 npm run bench -- tune-cold-items`.
 */
export const COLD_ITEMS_LAMBDA = 10;
/** The regression's feature space (ColdItemOptions.space); see COLD_ITEMS_LAMBDA. */
export const COLD_ITEMS_SPACE: 'raw' | 'both' = 'both';
/** ColdItemOptions.blend's default; see COLD_ITEMS_LAMBDA. */
export const COLD_ITEMS_BLEND = 0.5;
/** Ridge on the user side's Gram matrix (UᵀU + μI): keeps it invertible; 0.1 and 1 measure the same, 10 is worse. */
export const COLD_ITEMS_MU = 1;
/**
 * Above this many metadata features the dense normal equations (2 × features + 1 square, 'both') cost
 * too much (about 0.3 s at 512); the model keeps its feature embeddings' sum.
 */
export const COLD_ITEMS_MAX_FEATURES = 512;
/**
 * Products of two features as more regression features (ColdItemOptions.pairs): on when the features
 * are few (at most COLD_ITEMS_MAX_PAIR_FEATURES names) and the warm rows short enough that their
 * expanded Gram matrix costs at most PAIR_BUDGET multiply-adds.
 */
export const COLD_ITEMS_PAIRS = true;
export const COLD_ITEMS_MAX_PAIR_FEATURES = 32;
const PAIR_BUDGET = 50_000_000;
/** Fewer warm items with features than this: nothing is fitted (too little to learn from). */
export const COLD_ITEMS_MIN_WARM = 20;
/** Users whose vectors and positives enter the fit, at most (a strided sample beyond): bounds its cost. */
const MAX_USERS = 50_000;
/** Sample for the affine calibration (two numbers to fit): users × warm items, at most. */
const CALIBRATION_USERS = 64;
const CALIBRATION_ITEMS = 2048;

/** The fitted map: rows 0..nFeatures-1 per metadata feature, row nFeatures the intercept. */
export interface ColdItemModel {
  /** (nFeatures + 1) × dim. */
  readonly emb: Float32Array;
  /** nFeatures + 1. */
  readonly bias: Float32Array;
}

export interface ColdItemOptions {
  readonly lambda?: number;
  /** Ridge on the feature pairs (pairs); default lambda. */
  readonly lambdaPairs?: number;
  readonly mu?: number;
  /** Products of two raw features as more regression features (space 'both' only); default COLD_ITEMS_PAIRS. */
  readonly pairs?: boolean;
  /**
   * The regression's item features: 'raw' (values as given) or 'both' (those and the same row
   * normalised to absolute sum 1, as the model's rows, side by side; the ridge weighs them).
   */
  readonly space?: 'raw' | 'both';
  /**
   * Weight of the trained feature embeddings' sum (the model's own prediction) blended with the
   * map's, 0..1 (0: the map alone); needs space 'both' (the sum is linear in the normalised rows, so
   * the blend is folded into their rows of the map). Default COLD_ITEMS_BLEND.
   */
  readonly blend?: number;
}

/** What the fit reads: the trained users and items, the items' raw metadata rows and the positives. */
export interface ColdItemInput {
  readonly dim: number;
  /** nUsers × dim. */
  readonly userRep: Float32Array;
  readonly nUsers: number;
  /** nItems × dim and nItems: the warm items' trained representations and biases (calibration). */
  readonly itemRep: Float32Array;
  readonly itemBias: Float32Array;
  /** 1 for items trained with an identity (the examples), 0 for feature-only items. */
  readonly warm: Uint8Array;
  /** Each item's metadata features as given (indices 0..nFeatures-1, raw values). */
  readonly rows: FeatureMatrix;
  readonly nFeatures: number;
  /** The trained metadata feature embeddings (nFeatures × dim) and biases, for ColdItemOptions.blend. */
  readonly featureEmb?: Float32Array;
  readonly featureBias?: Float32Array;
  /** Positive (user row, item row) pairs, grouped by (user, item) (as the fit's are): a repeat is counted once. */
  readonly posUser: Int32Array;
  readonly posItem: Int32Array;
}

/** Fits the map, or undefined when there is too little to fit or the fit does not track the model's scores. */
export function fitColdItemModel(input: ColdItemInput, options: ColdItemOptions = {}): ColdItemModel | undefined {
  const lambda = options.lambda ?? COLD_ITEMS_LAMBDA;
  const mu = options.mu ?? COLD_ITEMS_MU;
  const { dim: d, userRep, nUsers, warm, nFeatures: given } = input;
  if (given === 0 || given > COLD_ITEMS_MAX_FEATURES || nUsers === 0) return undefined;
  const both = (options.space ?? COLD_ITEMS_SPACE) === 'both';
  const layout = { normalised: both, pairs: both && (options.pairs ?? COLD_ITEMS_PAIRS) && pairsAffordable(input, given) };
  const rows = expandRows(input.rows, given, layout);
  const F = rowsOf(given, layout) - 1;
  const { ptr, feat, weight } = rows;
  const nItems = warm.length;
  const P = F + 1;
  const w = d + 1;
  // XᵀX over warm items with features (intercept column F).
  const gx = new Float64Array(P * P);
  let examples = 0;
  for (let i = 0; i < nItems; i++) {
    const start = ptr[i] as number;
    const end = ptr[i + 1] as number;
    if (warm[i] !== 1 || end === start) continue;
    examples++;
    for (let p = start; p < end; p++) {
      const f = feat[p] as number;
      const v = weight[p] as number;
      for (let p2 = start; p2 < end; p2++)
        gx[f * P + (feat[p2] as number)] = (gx[f * P + (feat[p2] as number)] as number) + v * (weight[p2] as number);
      gx[f * P + F] = (gx[f * P + F] as number) + v;
      gx[F * P + f] = (gx[F * P + f] as number) + v;
    }
    gx[F * P + F] = (gx[F * P + F] as number) + 1;
  }
  if (examples < COLD_ITEMS_MIN_WARM) return undefined;
  // Pairs (after the raw and normalised blocks) have their own ridge.
  const lambdaPairs = options.lambdaPairs ?? lambda;
  const pairsFrom = layout.normalised ? 2 * given : given;
  for (let f = 0; f < F; f++) gx[f * P + f] = (gx[f * P + f] as number) + (f < pairsFrom ? lambda : lambdaPairs);
  gx[F * P + F] = (gx[F * P + F] as number) + 1e-6;
  // UᵀU over the (sampled) users.
  const stride = Math.max(1, Math.ceil(nUsers / MAX_USERS));
  const gu = new Float64Array(w * w);
  const aug = new Float64Array(w);
  for (let u = 0; u < nUsers; u += stride) {
    for (let q = 0; q < d; q++) aug[q] = userRep[u * d + q] as number;
    aug[d] = 1;
    for (let p = 0; p < w; p++) {
      const a = aug[p] as number;
      for (let q = 0; q < w; q++) gu[p * w + q] = (gu[p * w + q] as number) + a * (aug[q] as number);
    }
  }
  for (let p = 0; p < w; p++) gu[p * w + p] = (gu[p * w + p] as number) + mu;
  // XᵀYᵀU = Σ_i x_i ⊗ S_i with S_i = Σ of [u, 1] over item i's (sampled) users: one pass over the
  // positives into S (nItems × (dim + 1)), then one over the items' features.
  const sums = new Float64Array(nItems * w);
  let lastUser = -1;
  let lastItem = -1;
  for (let k = 0; k < input.posUser.length; k++) {
    const u = input.posUser[k] as number;
    const i = input.posItem[k] as number;
    // Positives come grouped by (user, item): a repeat is the previous pair.
    if (u === lastUser && i === lastItem) continue;
    lastUser = u;
    lastItem = i;
    if (u % stride !== 0 || warm[i] !== 1) continue;
    const base = i * w;
    for (let q = 0; q < d; q++) sums[base + q] = (sums[base + q] as number) + (userRep[u * d + q] as number);
    sums[base + d] = (sums[base + d] as number) + 1;
  }
  const z = new Float64Array(P * w);
  for (let i = 0; i < nItems; i++) {
    if (warm[i] !== 1 || (ptr[i + 1] as number) === (ptr[i] as number)) continue;
    const base = i * w;
    for (let p = ptr[i] as number; p <= (ptr[i + 1] as number); p++) {
      const last = p === (ptr[i + 1] as number);
      const f = last ? F : (feat[p] as number);
      const v = last ? 1 : (weight[p] as number);
      for (let q = 0; q < w; q++) z[f * w + q] = (z[f * w + q] as number) + v * (sums[base + q] as number);
    }
  }
  // Z = (XᵀX + λ)⁻¹ XᵀYᵀU, then Wᵀ = (UᵀU + μ)⁻¹ Zᵀ.
  if (!solveSpd(gx, z, P, w)) return undefined;
  const zt = new Float64Array(w * P);
  for (let f = 0; f < P; f++) for (let q = 0; q < w; q++) zt[q * P + f] = z[f * w + q] as number;
  if (!solveSpd(gu, zt, w, P)) return undefined;
  const emb = new Float32Array(P * d);
  const bias = new Float32Array(P);
  for (let f = 0; f < P; f++) {
    for (let q = 0; q < d; q++) emb[f * d + q] = zt[q * P + f] as number;
    bias[f] = zt[d * P + f] as number;
  }
  const calibrated = calibrate({ ...input, rows }, { emb, bias });
  const alpha = options.blend ?? COLD_ITEMS_BLEND;
  if (calibrated === undefined || !(alpha > 0) || !layout.normalised || input.featureEmb === undefined || input.featureBias === undefined)
    return calibrated;
  // α × Σ n_f E_f + (1 - α) × map: the trained sum joins the normalised rows (given + f).
  const e = calibrated.emb.map((x) => (1 - alpha) * x);
  const b = calibrated.bias.map((x) => (1 - alpha) * x);
  for (let f = 0; f < given; f++) {
    for (let q = 0; q < d; q++)
      e[(given + f) * d + q] = (e[(given + f) * d + q] as number) + alpha * (input.featureEmb[f * d + q] as number);
    b[given + f] = (b[given + f] as number) + alpha * (input.featureBias[f] as number);
  }
  return { emb: e, bias: b };
}

/** Which feature blocks a map has beside the raw rows (see rowsOf). */
interface Layout {
  readonly normalised: boolean;
  readonly pairs: boolean;
}

/** The map's row count for a layout: raw, normalised, pairs (a < b), intercept. */
function rowsOf(given: number, layout: Layout): number {
  return given + (layout.normalised ? given : 0) + (layout.pairs ? (given * (given - 1)) / 2 : 0) + 1;
}

/** The layout of a map with this many rows (raw; raw and normalised; those and pairs), or undefined. */
export function coldItemLayout(mapRows: number, given: number): Layout | undefined {
  for (const layout of [
    { normalised: false, pairs: false },
    { normalised: true, pairs: false },
    { normalised: true, pairs: true },
  ])
    if (rowsOf(given, layout) === mapRows) return layout;
  return undefined;
}

/** Whether the pairs of `given` features fit COLD_ITEMS_MAX_PAIR_FEATURES and PAIR_BUDGET (see COLD_ITEMS_PAIRS). */
function pairsAffordable(input: ColdItemInput, given: number): boolean {
  if (given < 2 || given > COLD_ITEMS_MAX_PAIR_FEATURES) return false;
  let cost = 0;
  for (let i = 0; i < input.warm.length; i++) {
    if (input.warm[i] !== 1) continue;
    const k = (input.rows.ptr[i + 1] as number) - (input.rows.ptr[i] as number);
    cost += (2 * k + (k * (k - 1)) / 2) ** 2;
  }
  return cost <= PAIR_BUDGET;
}

/** Index of the pair (a, b), a < b, among the pairs of `given` features. */
function pairIndex(a: number, b: number, given: number): number {
  return a * given - (a * (a + 1)) / 2 + (b - a - 1);
}

/**
 * Rows with the layout's blocks appended: the normalised copy (feature f + given: value / row's
 * absolute sum), then the products of two raw values (2 × given + pairIndex).
 */
function expandRows(rows: FeatureMatrix, given: number, layout: Layout): FeatureMatrix {
  if (!layout.normalised && !layout.pairs) return rows;
  const n = rows.ptr.length - 1;
  const ptr = new Int32Array(n + 1);
  const feat: number[] = [];
  const weight: number[] = [];
  for (let i = 0; i < n; i++) {
    const start = rows.ptr[i] as number;
    const end = rows.ptr[i + 1] as number;
    const row: [number, number][] = [];
    for (let p = start; p < end; p++) row.push([rows.feat[p] as number, rows.weight[p] as number]);
    for (const [f, v] of expandRow(row, given, layout)) {
      feat.push(f);
      weight.push(v);
    }
    ptr[i + 1] = feat.length;
  }
  return { ptr, feat: Int32Array.from(feat), weight: Float32Array.from(weight) };
}

/** One raw row (features ascending) with the layout's blocks appended. */
function expandRow(raw: readonly (readonly [number, number])[], given: number, layout: Layout): [number, number][] {
  const out: [number, number][] = raw.map(([f, v]) => [f, v]);
  if (layout.normalised) {
    let total = 0;
    for (const [, v] of raw) total += Math.abs(v);
    for (const [f, v] of raw) out.push([f + given, v / total]);
  }
  if (layout.pairs) {
    const base = layout.normalised ? 2 * given : given;
    for (let k = 0; k < raw.length; k++)
      for (let l = k + 1; l < raw.length; l++) {
        const [a, va] = raw[k] as readonly [number, number];
        const [b, vb] = raw[l] as readonly [number, number];
        out.push([base + (a < b ? pairIndex(a, b, given) : pairIndex(b, a, given)), va * vb]);
      }
  }
  return out;
}

/**
 * The affine map a·s + c of the fitted scores s that best matches the model's scores of warm items
 * (least squares over a strided sample of users × warm items); undefined when a <= 0 (the fit does
 * not follow the model's ranking of the warm items).
 */
function calibrate(input: ColdItemInput, model: ColdItemModel): ColdItemModel | undefined {
  const { dim: d, userRep, nUsers, itemRep, itemBias, warm, rows } = input;
  const warmRows: number[] = [];
  for (let i = 0; i < warm.length; i++) if (warm[i] === 1 && (rows.ptr[i + 1] as number) > (rows.ptr[i] as number)) warmRows.push(i);
  const itemStride = Math.max(1, Math.ceil(warmRows.length / CALIBRATION_ITEMS));
  const userStride = Math.max(1, Math.ceil(nUsers / CALIBRATION_USERS));
  const rep = new Float64Array(d);
  let n = 0;
  let ss = 0;
  let st = 0;
  let sss = 0;
  let sst = 0;
  for (let k = 0; k < warmRows.length; k += itemStride) {
    const i = warmRows[k] as number;
    const b = predictInto(model, rows, i, d, rep);
    for (let u = 0; u < nUsers; u += userStride) {
      let s = b;
      let t = itemBias[i] as number;
      for (let q = 0; q < d; q++) {
        const x = userRep[u * d + q] as number;
        s += x * (rep[q] as number);
        t += x * (itemRep[i * d + q] as number);
      }
      n++;
      ss += s;
      st += t;
      sss += s * s;
      sst += s * t;
    }
  }
  const varS = sss / n - (ss / n) ** 2;
  const a = (sst / n - (ss / n) * (st / n)) / varS;
  if (!(varS > 0) || !(a > 0) || !Number.isFinite(a)) return undefined;
  const c = st / n - a * (ss / n);
  const emb = model.emb.map((x) => a * x);
  const bias = model.bias.map((x) => a * x);
  const F = bias.length - 1;
  bias[F] = (bias[F] as number) + c;
  return { emb, bias };
}

/** Writes row i's representation into `out` (length dim) and returns its bias. */
function predictInto(model: ColdItemModel, rows: FeatureMatrix, i: number, d: number, out: Float64Array): number {
  return applyMap(model, rows.feat, rows.weight, rows.ptr[i] as number, rows.ptr[i + 1] as number, d, out, 0);
}

/**
 * The map applied to features feat[p] with values weight[p], p in start..end-1: the intercept row
 * plus each feature's row times its value, written into `out` at `offset` (summed in `out`'s own
 * precision), and the bias likewise, returned.
 */
function applyMap(
  model: ColdItemModel,
  feat: ArrayLike<number>,
  weight: ArrayLike<number>,
  start: number,
  end: number,
  d: number,
  out: Float32Array | Float64Array,
  offset: number,
): number {
  const F = model.bias.length - 1;
  for (let q = 0; q < d; q++) out[offset + q] = model.emb[F * d + q] as number;
  let b = model.bias[F] as number;
  for (let p = start; p < end; p++) {
    const f = feat[p] as number;
    const v = weight[p] as number;
    for (let q = 0; q < d; q++) out[offset + q] = (out[offset + q] as number) + v * (model.emb[f * d + q] as number);
    b += v * (model.bias[f] as number);
  }
  return b;
}

/**
 * The representation (into `rep` at `offset`) and bias of an item with these features under the map;
 * undefined (nothing written) when none of its features is known.
 */
export function coldItemVector(
  model: ColdItemModel,
  features: readonly Feature[],
  names: ReadonlyMap<string, number>,
  rep: Float32Array,
  offset: number,
  dim: number,
): number | undefined {
  const raw = rawRow(features, names);
  const layout = coldItemLayout(model.bias.length, names.size);
  if (raw.length === 0 || layout === undefined) return undefined;
  // The map's rows: raw, then (by its size, see rowsOf) the normalised copy and the pairs.
  const known = expandRow(raw, names.size, layout);
  return applyMap(
    model,
    known.map(([f]) => f),
    known.map(([, v]) => v),
    0,
    known.length,
    dim,
    rep,
    offset,
  );
}

/** Known features of a row with their values as given (duplicates summed, zeros and non-finite dropped), by index. */
function rawRow(features: readonly Feature[], names: ReadonlyMap<string, number>): [number, number][] {
  const sums = new Map<number, number>();
  for (const [name, value] of features) {
    const f = names.get(name);
    if (f === undefined || !Number.isFinite(value)) continue;
    sums.set(f, (sums.get(f) ?? 0) + value);
  }
  return [...sums.entries()].filter(([, v]) => v !== 0).sort((a, b) => a[0] - b[0]);
}

/** Each item's metadata features (raw values, known names only), in `itemIds` order. */
export function rawRowsOf(
  itemIds: readonly string[],
  itemFeatures: FeatureRows | undefined,
  featureNames: readonly string[],
): FeatureMatrix {
  const names = new Map(featureNames.map((name, f) => [name, f]));
  const ptr = new Int32Array(itemIds.length + 1);
  const feat: number[] = [];
  const weight: number[] = [];
  itemIds.forEach((id, i) => {
    const row = itemFeatures?.get(id);
    if (row !== undefined)
      for (const [f, v] of rawRow(row, names)) {
        feat.push(f);
        weight.push(v);
      }
    ptr[i + 1] = feat.length;
  });
  return { ptr, feat: Int32Array.from(feat), weight: Float32Array.from(weight) };
}

/**
 * finish() of a fit: fits the map from the trained users and items and the positives, rewrites the
 * feature-only items' representations and biases in place, and returns the map (undefined: nothing
 * fitted, nothing changed).
 */
export function coldItemsOf(
  fitted: {
    readonly items: FeatureSpace;
    readonly itemFeatures: FeatureRows | undefined;
    readonly userRep: Float32Array;
    readonly nUsers: number;
    readonly posUser: Int32Array;
    readonly posItem: Int32Array;
    /** Rewritten for feature-only items. */
    readonly itemRep: Float32Array;
    readonly itemBias: Float32Array;
    readonly itemFromFeatures: Uint8Array;
    /** The trained metadata feature embeddings and biases (ColdItemOptions.blend). */
    readonly featureEmb: Float32Array;
    readonly featureBias: Float32Array;
    readonly dim: number;
  },
  options: ColdItemOptions = {},
): ColdItemModel | undefined {
  const { items, itemFeatures, userRep, nUsers, posUser, posItem, itemRep, itemBias, itemFromFeatures, featureEmb, featureBias, dim } =
    fitted;
  const F = items.metaNames.length;
  if (itemFeatures === undefined || F === 0 || F > COLD_ITEMS_MAX_FEATURES) return undefined;
  const n = items.ids.length;
  const rows = rawRowsOf(items.ids, itemFeatures, items.metaNames);
  const warm = new Uint8Array(n);
  for (let i = 0; i < n; i++) warm[i] = itemFromFeatures[i] === 1 ? 0 : 1;
  const model = fitColdItemModel(
    { dim, userRep, nUsers, itemRep, itemBias, warm, rows, nFeatures: F, posUser, posItem, featureEmb, featureBias },
    options,
  );
  if (model === undefined) return undefined;
  const expanded = expandRows(rows, F, coldItemLayout(model.bias.length, F) ?? { normalised: false, pairs: false });
  const out = new Float64Array(dim);
  for (let i = 0; i < n; i++) {
    if (warm[i] === 1 || (rows.ptr[i + 1] as number) === (rows.ptr[i] as number)) continue;
    itemBias[i] = predictInto(model, expanded, i, dim, out);
    for (let q = 0; q < dim; q++) itemRep[i * dim + q] = out[q] as number;
  }
  return model;
}

/**
 * The state with its feature-only items scored by the map fitted on its warm items and `interactions`
 * (benches and tests: the post-processing finish() does, on a model fitted with coldItems 'embeddings').
 */
export function withColdItems(
  state: HybridState,
  itemFeatures: FeatureRows,
  interactions: readonly { readonly userId: string; readonly itemId: string }[],
  options: ColdItemOptions = {},
): HybridState {
  const d = state.dim;
  const n = state.itemIds.length;
  const userPos = new Map(state.userIds.map((id, u) => [id, u]));
  const itemPos = new Map(state.itemIds.map((id, i) => [id, i]));
  const pairs: [number, number][] = [];
  for (const x of interactions) {
    const u = userPos.get(x.userId);
    const i = itemPos.get(x.itemId);
    if (u !== undefined && i !== undefined) pairs.push([u, i]);
  }
  pairs.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const posUser = pairs.map((p) => p[0]);
  const posItem = pairs.map((p) => p[1]);
  const space: FeatureSpace = {
    ids: state.itemIds,
    identity: Int32Array.from(state.itemFromFeatures, (f) => (f === 1 ? -1 : 0)),
    nIdentity: 0,
    metaNames: state.itemFeatureNames,
    matrix: { ptr: new Int32Array(n + 1), feat: new Int32Array(0), weight: new Float32Array(0) },
  };
  const itemRep = state.itemRep.slice(0, n * d);
  const itemBias = state.itemBias.slice(0, n);
  const model = coldItemsOf(
    {
      items: space,
      itemFeatures,
      userRep: state.userRep,
      nUsers: state.userIds.length,
      posUser: Int32Array.from(posUser),
      posItem: Int32Array.from(posItem),
      itemRep,
      itemBias,
      itemFromFeatures: state.itemFromFeatures,
      featureEmb: state.itemFeatureEmb,
      featureBias: state.itemFeatureBias,
      dim: d,
    },
    options,
  );
  return model === undefined ? state : { ...state, itemRep, itemBias, coldItems: model };
}

/** Solves A X = B in place (B becomes X) for symmetric positive definite A (n × n), B n × m; false if A is not. */
function solveSpd(a: Float64Array, b: Float64Array, n: number, m: number): boolean {
  // Cholesky: A = L Lᵀ, L in the lower triangle of a.
  for (let j = 0; j < n; j++) {
    let s = a[j * n + j] as number;
    for (let k = 0; k < j; k++) s -= (a[j * n + k] as number) ** 2;
    if (!(s > 0)) return false;
    const diag = Math.sqrt(s);
    a[j * n + j] = diag;
    for (let i = j + 1; i < n; i++) {
      let t = a[i * n + j] as number;
      for (let k = 0; k < j; k++) t -= (a[i * n + k] as number) * (a[j * n + k] as number);
      a[i * n + j] = t / diag;
    }
  }
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < i; k++) {
      const l = a[i * n + k] as number;
      if (l !== 0) for (let c = 0; c < m; c++) b[i * m + c] = (b[i * m + c] as number) - l * (b[k * m + c] as number);
    }
    const diag = a[i * n + i] as number;
    for (let c = 0; c < m; c++) b[i * m + c] = (b[i * m + c] as number) / diag;
  }
  for (let i = n - 1; i >= 0; i--) {
    for (let k = i + 1; k < n; k++) {
      const l = a[k * n + i] as number;
      if (l !== 0) for (let c = 0; c < m; c++) b[i * m + c] = (b[i * m + c] as number) - l * (b[k * m + c] as number);
    }
    const diag = a[i * n + i] as number;
    for (let c = 0; c < m; c++) b[i * m + c] = (b[i * m + c] as number) / diag;
  }
  return true;
}
