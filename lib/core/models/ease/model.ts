/**
 * The fitted EASE recommender: score_j = Σ_c x_c · B[c, j] over the user's row x (the items it
 * interacted with in training, and its user features when the model has feature columns).
 *
 * - A training user is scored from its stored training row (the artifact carries the rows).
 * - A user absent from training is scored from context.features (the feature columns of B).
 * - A user with neither (or whose features are all unknown to the model) gets the items by number
 *   of training users, best first: the popularity ranking.
 * - Items outside the model (published after training, or pruned) score NaN and are left out;
 *   `candidates` naming them rank the known ones only. The model has no indexItems: it cannot
 *   score an item from features, and serving's fresh overlay places new items.
 * Ties break by item id.
 */
import { makeArtifact, unpackSections, type ModelArtifact } from '../artifact.ts';
import { candidateView, topKOfScores } from '../baselines/rank.ts';
import type { Recommender, RecommendOptions, ScoredItem, UserContext } from '../recommender.ts';

export const EASE_KIND = 'ease';

export interface EaseState {
  /** Item ids of B's columns (and first rows), sorted. */
  readonly itemIds: readonly string[];
  /** User feature names of B's remaining rows, sorted; row itemIds.length + f is feature f. */
  readonly featureNames: readonly string[];
  /** Training users, sorted; row r of the CSR rows below. */
  readonly userIds: readonly string[];
  readonly rowPtr: Int32Array;
  /** Column of each row entry: an item index (< items) or items + feature index. */
  readonly rowCols: Int32Array;
  readonly rowVals: Float32Array;
  /** B's item columns, row-major, (items + features) × items. */
  readonly weights: Float32Array;
  /** Training users per item (the fallback ranking for users without any signal). */
  readonly popularity: Float64Array;
  readonly hyperparameters: Readonly<Record<string, unknown>>;
  readonly transformVersion: string;
  readonly dataSnapshot: string;
  readonly trainedAt: number;
}

export class EaseRecommender implements Recommender {
  readonly kind = EASE_KIND;
  private readonly itemIndex: ReadonlyMap<string, number>;
  private readonly userIndex: ReadonlyMap<string, number>;
  private readonly featureIndex: ReadonlyMap<string, number>;

  constructor(readonly state: EaseState) {
    this.itemIndex = new Map(state.itemIds.map((id, i) => [id, i]));
    this.userIndex = new Map(state.userIds.map((id, i) => [id, i]));
    const n = state.itemIds.length;
    this.featureIndex = new Map(state.featureNames.map((name, f) => [name, n + f]));
  }

  /** Scores of every item for the user (a fresh array), or undefined when the model has no signal for it. */
  scores(context: UserContext): Float64Array | undefined {
    const { rowPtr, rowCols, rowVals, weights } = this.state;
    const n = this.state.itemIds.length;
    const out = new Float64Array(n);
    let used = 0;
    const r = this.userIndex.get(context.userId);
    if (r !== undefined) {
      for (let p = rowPtr[r] as number, end = rowPtr[r + 1] as number; p < end; p++) {
        addRow(out, weights, (rowCols[p] as number) * n, rowVals[p] as number);
        used++;
      }
    } else {
      for (const [name, value] of context.features ?? []) {
        const col = this.featureIndex.get(name);
        if (col === undefined || value === 0 || !Number.isFinite(value)) continue;
        addRow(out, weights, col * n, value);
        used++;
      }
    }
    return used > 0 ? out : undefined;
  }

  /**
   * The top k of the model's own items (score descending, id ascending), among options.candidates
   * when given: candidates it does not know are left out.
   *
   * Why not rankByScore over the candidates: evaluation asks for 10 of ~10,000 candidate shows for
   * each of 100,000 users while the model knows at most maxItems of them; a lookup per candidate per
   * user was most of a 1M-listener evaluation. The candidates become a mask over the model's items
   * once per candidate array, and the selection runs over the typed scores.
   */
  recommend(context: UserContext, k: number, options: RecommendOptions = {}): ScoredItem[] {
    const scores = this.scores(context) ?? this.state.popularity;
    const { itemIds } = this.state;
    const allowed = options.candidates === undefined ? undefined : candidateView(itemIds, this.itemIndex, options.candidates).mask;
    return topKOfScores(itemIds, scores, k, { exclude: options.exclude, allowed });
  }

  knownItems(): readonly string[] {
    return this.state.itemIds;
  }

  save(): ModelArtifact {
    const s = this.state;
    return makeArtifact(
      {
        kind: EASE_KIND,
        hyperparameters: { ...s.hyperparameters },
        transformVersion: s.transformVersion,
        dataSnapshot: s.dataSnapshot,
        trainedAt: s.trainedAt,
        seed: 0,
        itemIndex: [...s.itemIds],
        extra: { featureNames: [...s.featureNames], userIds: [...s.userIds] },
      },
      { rowPtr: s.rowPtr, rowCols: s.rowCols, rowVals: s.rowVals, weights: s.weights, popularity: s.popularity },
    );
  }
}

/** Loads an `ease` artifact back into an equal recommender. */
export function loadEase(artifact: ModelArtifact): EaseRecommender {
  const { rowPtr, rowCols, rowVals, weights, popularity } = unpackSections(artifact);
  const { manifest } = artifact;
  const extra = manifest.extra as { featureNames?: string[]; userIds?: string[] };
  return new EaseRecommender({
    itemIds: manifest.itemIndex,
    featureNames: extra.featureNames ?? [],
    userIds: extra.userIds ?? [],
    rowPtr: rowPtr as Int32Array,
    rowCols: rowCols as Int32Array,
    rowVals: rowVals as Float32Array,
    weights: weights as Float32Array,
    popularity: popularity as Float64Array,
    hyperparameters: manifest.hyperparameters,
    transformVersion: manifest.transformVersion,
    dataSnapshot: manifest.dataSnapshot,
    trainedAt: manifest.trainedAt,
  });
}

/** out[j] += value · weights[base + j] for every item j: one row of B. */
function addRow(out: Float64Array, weights: Float32Array, base: number, value: number): void {
  for (let j = 0, n = out.length; j < n; j++) out[j] = (out[j] as number) + value * (weights[base + j] as number);
}
