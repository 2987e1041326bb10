/**
 * Fits EASE (Steck 2019, "Embarrassingly Shallow Autoencoders for Sparse Data"): the item-item weight
 * matrix B minimising ‖X − XB‖² + λ‖B‖² subject to diag(B) = 0, in closed form:
 *
 *   P = (XᵀX + λI)⁻¹,   B = I − P·diagMat(1/diag(P)),   i.e. B_ij = −P_ij / P_jj (i ≠ j), B_jj = 0.
 *
 * X is the binary user × column matrix: one column per item with at least one interaction, and,
 * when user features are given, one column per user feature (weighted by the feature's value). A
 * feature column learns how much the feature predicts each item, so a user absent from training is
 * scored from its features alone (x has only feature entries): the Playlists shelf's new listeners.
 * Only B's item columns are kept (items are what is ranked): (items + features) × items.
 *
 * Why EASE and not item-kNN: on the shelves' catalogs (a few hundred to a few thousand shows or
 * playlists) the dense (items + features)² Gram matrix fits in memory and its inverse takes seconds
 * to a minute, and EASE is the stronger of the two on public benchmarks. Above `maxItems` the
 * O(n²) memory and O(n³) time do not fit, so the model keeps the `maxItems` items with the most
 * users (the tail has too few interactions for a stable item-item weight) unless told to fail with
 * EaseSizeError instead. Items left out, and items published after training, get no EASE score:
 * the model leaves them out of its lists, and serving's fresh overlay gives new items their slots.
 *
 * Deterministic: columns and users are in sorted id order and the inverse's order of operations is
 * fixed, so the same data gives the same bytes.
 */
import { ndcgAtK } from '../../metrics/ndcg.ts';
import { Rng } from '../../rng.ts';
import { OptionChecker, OptionError } from '../option-error.ts';
import type { TrainingData } from '../recommender.ts';
import { invertSpdInPlace } from './inverse.ts';
import { EaseRecommender, type EaseState } from './model.ts';

/** Largest number of columns (items + user features) a fit may ask for: 8,000² doubles are 512 MB. */
export const EASE_HARD_MAX_COLUMNS = 8000;

export interface EaseOptions {
  /**
   * L2 weight λ on B, added to the Gram matrix's diagonal; > 0. Default 100: on the default world's
   * validation windows (before the evaluation cut-off) NDCG@10 is within 0.5% of the best λ of
   * {5, 20, 50, 100, 200, 500, 1000, 3000} on both Podcasts (best 50) and Playlists (best 200).
   * 'auto': chosen from EASE_LAMBDA_GRID on a validation split of the data (see chooseLambda), then
   * fitted on all of it. The split's rows and Gram matrix are built once and solved for every λ
   * (a copy of XᵀX + λI, inverted), so 'auto' costs about four fixed fits: 3,000 generated items
   * (bench ease-inverse) 10.1-14.9 s against 2.4-2.8 s for one fit, and 13.1-18.2 s when each λ
   * was a separate fit. `shelves train --algo ease` uses 'auto': a user's own data has its own best
   * λ (MovieLens 100k's inner split: 0.2337 at 100, 0.2466 at 400).
   */
  readonly lambda?: number | 'auto';
  /** Use data.userFeatures as extra columns; default true when the data has user features. */
  readonly userFeatures?: boolean;
  /** Most items the model keeps (by number of users); default 3000. */
  readonly maxItems?: number;
  /** What to do when the data has more items than maxItems: keep the most popular ('prune', default) or throw ('error'). */
  readonly onTooManyItems?: 'prune' | 'error';
  /** The inverse's kernel (inverse.ts): 'wasm' (default; JS where WebAssembly SIMD is unavailable) or 'js'. Same model. */
  readonly kernel?: 'wasm' | 'js';
}

export const EASE_DEFAULTS = { lambda: 100, maxItems: 3000 } as const;

/** The λ values lambda 'auto' tries: a factor 4 apart, around the shelves' best (50-200) and MovieLens's (400-800). */
export const EASE_LAMBDA_GRID = [25, 100, 400, 1600] as const;
/** Share of each validation user's items held out by lambda 'auto', and the most users it validates on. */
const AUTO_HOLDOUT = 0.1;
const AUTO_MAX_USERS = 1000;

/** The data has more items than `maxItems` and `onTooManyItems` is 'error'. */
export class EaseSizeError extends Error {
  override readonly name = 'EaseSizeError';
}

const byId = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Fits EASE on the data's interactions (binary: an item a user interacted with at all counts 1). */
export function fitEase(data: TrainingData, options: EaseOptions = {}): EaseRecommender {
  const settings = checkOptions(options);
  if (settings.lambda === 'auto') {
    const { lambda, search, work } = chooseLambda(data, settings);
    // The validation's arrays are free now: the final fit builds its Gram matrix and weights in them
    // when the sizes match (the usual case once pruned to maxItems), instead of faulting in new ones.
    const problem = prepareEase(data, settings, work.gram);
    const model = solveEase(problem, lambda, settings.kernel, { weights: work.weights });
    return new EaseRecommender({ ...model.state, hyperparameters: { ...model.state.hyperparameters, lambdaSearch: search } });
  }
  return solveEase(prepareEase(data, settings), settings.lambda, settings.kernel);
}

/** EaseOptions checked, with their defaults. */
interface EaseSettings {
  readonly lambda: number | 'auto';
  readonly maxItems: number;
  readonly onTooManyItems: 'prune' | 'error';
  readonly kernel: 'wasm' | 'js';
  readonly userFeatures: boolean;
}

// Out-of-range options are OptionErrors, as for every model (option-error.ts): nothing is clamped.
function checkOptions(options: EaseOptions): EaseSettings {
  const check = new OptionChecker('ease');
  const lambda =
    options.lambda === 'auto' ? 'auto' : check.number('lambda', options.lambda ?? EASE_DEFAULTS.lambda, 0, Number.POSITIVE_INFINITY, true);
  const maxItems = check.int('maxItems', options.maxItems ?? EASE_DEFAULTS.maxItems, 1, EASE_HARD_MAX_COLUMNS);
  const onTooManyItems = check.oneOf('onTooManyItems', options.onTooManyItems ?? 'prune', ['prune', 'error']);
  const kernel = check.oneOf('kernel', options.kernel ?? 'wasm', ['wasm', 'js']);
  if (options.userFeatures !== undefined && typeof options.userFeatures !== 'boolean')
    throw new OptionError('ease', 'userFeatures', options.userFeatures, 'true or false');
  return { lambda, maxItems, onTooManyItems, kernel, userFeatures: options.userFeatures ?? true };
}

/**
 * Everything a fit needs that does not depend on λ: the kept columns, the users' rows and the Gram
 * matrix XᵀX. lambda 'auto' prepares its validation split once and solves it for every λ of the
 * grid (only the diagonal differs), instead of rebuilding the rows and the m² Gram matrix per λ.
 */
interface EaseProblem {
  readonly itemIds: string[];
  readonly featureNames: string[];
  readonly userIds: string[];
  readonly rowPtr: Int32Array;
  readonly rowCols: Int32Array;
  readonly rowVals: Float32Array;
  readonly popularity: Float64Array;
  /** XᵀX, m×m row-major, upper triangle only (the inverse reads only that; the lower one is 0). */
  readonly gram: Float64Array;
  /** Items in the data before pruning to maxItems. */
  readonly totalItems: number;
  readonly maxItems: number;
  readonly useFeatures: boolean;
  readonly data: Pick<TrainingData, 'transformVersion' | 'snapshot' | 'cutoff'>;
}

/** Selects the columns, builds the users' CSR rows and the Gram matrix XᵀX (without λ; in `reuse` when it is m² long). */
function prepareEase(data: TrainingData, settings: EaseSettings, reuse?: Float64Array): EaseProblem {
  const { maxItems, onTooManyItems } = settings;
  // Users per item, counting each (user, item) pair once.
  const itemsByUser = new Map<string, Set<string>>();
  for (const x of data.interactions) {
    let s = itemsByUser.get(x.userId);
    if (s === undefined) itemsByUser.set(x.userId, (s = new Set()));
    s.add(x.itemId);
  }
  const usersPerItem = new Map<string, number>();
  for (const items of itemsByUser.values()) for (const id of items) usersPerItem.set(id, (usersPerItem.get(id) ?? 0) + 1);
  let itemIds = [...usersPerItem.keys()].sort(byId);
  const totalItems = itemIds.length;
  if (totalItems > maxItems) {
    if (onTooManyItems === 'error')
      throw new EaseSizeError(
        `EASE needs a dense (items)² matrix: the data has ${totalItems} items, at most ${maxItems} are allowed (raise maxItems up to ${EASE_HARD_MAX_COLUMNS}, or let the model keep the most popular)`,
      );
    itemIds = itemIds
      .sort((a, b) => (usersPerItem.get(b) ?? 0) - (usersPerItem.get(a) ?? 0) || byId(a, b))
      .slice(0, maxItems)
      .sort(byId);
  }
  const n = itemIds.length;
  const itemCol = new Map(itemIds.map((id, i) => [id, i]));

  // User feature columns: names seen on training users that have at least one kept item.
  const users = [...itemsByUser.keys()].filter((u) => [...(itemsByUser.get(u) ?? [])].some((i) => itemCol.has(i))).sort(byId);
  const useFeatures = settings.userFeatures && data.userFeatures !== undefined;
  const featureNames = useFeatures
    ? [...new Set(users.flatMap((u) => (data.userFeatures?.get(u) ?? []).filter(([, v]) => v !== 0).map(([name]) => name)))].sort(byId)
    : [];
  const m = n + featureNames.length;
  if (m > EASE_HARD_MAX_COLUMNS)
    throw new EaseSizeError(
      `EASE would need ${m} columns (${n} items + ${featureNames.length} user features); at most ${EASE_HARD_MAX_COLUMNS} fit in memory`,
    );
  const featureCol = new Map(featureNames.map((name, f) => [name, n + f]));

  // Rows in CSR form: item columns (value 1) then feature columns (their values), sorted by column.
  const rowPtr = new Int32Array(users.length + 1);
  const cols: number[] = [];
  const vals: number[] = [];
  users.forEach((u, r) => {
    const row = new Map<number, number>();
    for (const id of itemsByUser.get(u) ?? []) {
      const c = itemCol.get(id);
      if (c !== undefined) row.set(c, 1);
    }
    if (useFeatures)
      for (const [name, v] of data.userFeatures?.get(u) ?? []) {
        const c = featureCol.get(name);
        if (c !== undefined && Number.isFinite(v)) row.set(c, (row.get(c) ?? 0) + v);
      }
    for (const c of [...row.keys()].sort((a, b) => a - b)) {
      cols.push(c);
      vals.push(row.get(c) as number);
    }
    rowPtr[r + 1] = cols.length;
  });
  const rowCols = Int32Array.from(cols);
  const rowVals = Float32Array.from(vals);

  // Gram matrix XᵀX (upper triangle: the inverse reads only that).
  const gram = reuse?.length === m * m ? reuse.fill(0) : new Float64Array(m * m);
  for (let r = 0; r < users.length; r++) {
    const start = rowPtr[r] as number;
    const end = rowPtr[r + 1] as number;
    for (let p = start; p < end; p++) {
      const ci = (rowCols[p] as number) * m;
      const vi = rowVals[p] as number;
      for (let q = p; q < end; q++)
        gram[ci + (rowCols[q] as number)] = (gram[ci + (rowCols[q] as number)] as number) + vi * (rowVals[q] as number);
    }
  }
  const popularity = Float64Array.from(itemIds, (id) => usersPerItem.get(id) ?? 0);
  return {
    itemIds,
    featureNames,
    userIds: users,
    rowPtr,
    rowCols,
    rowVals,
    popularity,
    gram,
    totalItems,
    maxItems,
    useFeatures,
    data: { transformVersion: data.transformVersion, snapshot: data.snapshot, cutoff: data.cutoff },
  };
}

/** Arrays a solve writes into instead of allocating (lambda 'auto' reuses them across its grid). */
interface EaseWork {
  /** m², receives a copy of the Gram matrix, then its inverse. */
  readonly gram?: Float64Array;
  /** m × n, used when that long: the returned model's weights, valid until the next solve with these arrays. */
  readonly weights?: Float32Array;
}

/**
 * Solves the prepared problem for one λ: P = (XᵀX + λI)⁻¹, then B's item columns. The inverse
 * overwrites its input: with work.gram the Gram matrix is copied into it and the problem stays
 * reusable; without, the problem's own Gram matrix is consumed (a last or only solve).
 */
function solveEase(problem: EaseProblem, lambda: number, kernel: 'wasm' | 'js', work: EaseWork = {}): EaseRecommender {
  const { itemIds, featureNames, gram } = problem;
  const n = itemIds.length;
  const m = n + featureNames.length;
  // Copying is cheaper than rebuilding from the rows (3,000 columns: 5 ms, plus 290 ms of page faults
  // on the first copy into fresh memory, against 150-210 ms per rebuild); it costs a second m² array
  // while 'auto' runs. Reused arrays also skip the page faults of fresh ones (weights: ~170 ms a solve).
  const g = work.gram === undefined ? gram : work.gram;
  if (work.gram !== undefined) g.set(gram);
  for (let i = 0; i < m; i++) g[i * m + i] = (g[i * m + i] as number) + lambda;
  const p = invertSpdInPlace(g, m, { kernel: kernel === 'js' ? 'js' : 'auto' });

  // B's item columns: B_ij = −P_ij / P_jj, B_jj = 0; every row (items and features) is kept.
  const weights = work.weights?.length === m * n ? work.weights : new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    const ri = i * m;
    const wi = i * n;
    for (let j = 0; j < n; j++) weights[wi + j] = i === j ? 0 : -(p[ri + j] as number) / (p[j * m + j] as number);
  }

  const state: EaseState = {
    itemIds,
    featureNames,
    userIds: problem.userIds,
    rowPtr: problem.rowPtr,
    rowCols: problem.rowCols,
    rowVals: problem.rowVals,
    weights,
    popularity: problem.popularity,
    hyperparameters: { lambda, maxItems: problem.maxItems, userFeatures: problem.useFeatures, itemsInData: problem.totalItems },
    transformVersion: problem.data.transformVersion,
    dataSnapshot: problem.data.snapshot,
    trainedAt: problem.data.cutoff,
  };
  return new EaseRecommender(state);
}

/**
 * lambda 'auto': a seeded sample of users with at least 2 items (at most AUTO_MAX_USERS) each hold out
 * a random AUTO_HOLDOUT of their items (at least 1); EASE is fitted on the rest with every λ of
 * EASE_LAMBDA_GRID and scored by NDCG@10 (binary) on the held-out items, training items excluded. The
 * best λ wins (ties: the smaller). `search` records each λ's NDCG, for the manifest.
 */
function chooseLambda(
  data: TrainingData,
  settings: EaseSettings,
): { lambda: number; search: Record<string, number>; work: Required<EaseWork> } {
  const itemsByUser = new Map<string, Set<string>>();
  for (const x of data.interactions) {
    let set = itemsByUser.get(x.userId);
    if (set === undefined) itemsByUser.set(x.userId, (set = new Set()));
    set.add(x.itemId);
  }
  const rng = new Rng(1);
  const eligible = [...itemsByUser.keys()].filter((u) => (itemsByUser.get(u)?.size ?? 0) >= 2).sort(byId);
  const users = rng.shuffle(eligible).slice(0, AUTO_MAX_USERS).sort(byId);
  const held = new Map<string, Set<string>>();
  for (const u of users) {
    const items = [...(itemsByUser.get(u) ?? [])].sort(byId);
    const n = Math.min(items.length - 1, Math.max(1, Math.round(AUTO_HOLDOUT * items.length)));
    held.set(u, new Set(rng.shuffle(items).slice(0, n)));
  }
  const train: TrainingData = {
    ...data,
    interactions: data.interactions.filter((x) => held.get(x.userId)?.has(x.itemId) !== true),
  };
  const seen = new Map<string, Set<string>>();
  for (const x of train.interactions) {
    let set = seen.get(x.userId);
    if (set === undefined) seen.set(x.userId, (set = new Set()));
    set.add(x.itemId);
  }
  const problem = prepareEase(train, settings);
  const items = problem.itemIds.length;
  const columns = items + problem.featureNames.length;
  // Each λ's model is scored before the next solve overwrites its weights.
  const work: Required<EaseWork> = { gram: new Float64Array(columns * columns), weights: new Float32Array(columns * items) };
  const search: Record<string, number> = {};
  let best: { lambda: number; ndcg: number } | undefined;
  for (const lambda of EASE_LAMBDA_GRID) {
    const model = solveEase(problem, lambda, settings.kernel, work);
    let total = 0;
    for (const [u, relevant] of held) {
      const context = { userId: u, now: data.cutoff, ...(data.userFeatures?.has(u) ? { features: data.userFeatures.get(u) } : {}) };
      const ranked = model.recommend(context, 10, { exclude: seen.get(u) ?? new Set() }).map((r) => r.itemId);
      total += ndcgAtK(ranked, new Map([...relevant].map((id) => [id, 1])), 10);
    }
    const ndcg = held.size > 0 ? total / held.size : 0;
    search[String(lambda)] = Number(ndcg.toFixed(6));
    if (best === undefined || ndcg > best.ndcg) best = { lambda, ndcg };
  }
  return { lambda: best?.lambda ?? EASE_DEFAULTS.lambda, search, work };
}
