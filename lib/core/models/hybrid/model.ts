/**
 * The fitted hybrid recommender: precomputed user and item representations, scored by dot product.
 *
 * score(user, item) = userRep · itemRep + itemBias. Representations of trained entities are
 * computed once after training (identity + metadata features, weights normalised to sum 1); a cold
 * user's representation is the normalised sum of its known metadata feature embeddings (unknown names
 * ignored); an item known only by its features (held out of training, or added by indexItems()) is
 * scored by the fit's cold-item map (cold-items.ts), or, in artifacts without one, like a cold user. A user with no known feature gets the
 * zero vector, which ranks items by bias alone (a popularity-like order).
 *
 * Ties are broken by item id (ordinal string order). Artifact sections are float32 views of the
 * payload; ids and vocabularies travel in the manifest (itemIndex, extra).
 */
import { ArtifactError, type ArtifactParts, makeArtifact, unpackSections, type ModelArtifact, type TypedArray } from '../artifact.ts';
import type { Feature, FeatureRows, RecommendOptions, Recommender, ScoredItem, UserContext } from '../recommender.ts';
import { compareIds, knownFeatures } from './features.ts';
import { TopK } from './top-k.ts';
import { bestLists, buildIvf, extendIvf, packIvf, restrictIvf, unpackIvf, type IvfIndex } from './ivf.ts';
import { dotAt } from './dot.ts';
import { parseHybridExtra } from './hybrid-extra.ts';
import { type ColdItemModel, coldItemLayout, coldItemVector } from './cold-items.ts';

/** From this many items (or candidates) on, recommend() scans an IVF index instead of every item. */
export const ANN_MIN_ITEMS = 20_000;
const ANN_LISTS = 64;
/**
 * Clusters scanned per request. 4 of 64 (was 8): on the serving bench's 100k-item data (Podcasts and
 * Playlists shelves, k 30 with exclusions, 1,000 listeners) recall@10 against the exact scan 1.0000 and
 * recall@30 0.9999 (1,999 of 2,000 lists identical to the exact scan; 8 probes: 2,000), for 0.47 ms
 * of CPU per request instead of 2.7 (loaded machine).
 */
const ANN_PROBES = 4;

export const HYBRID_KINDS = ['hybrid-warp', 'hybrid-bpr'] as const;
export type HybridKind = (typeof HYBRID_KINDS)[number];

/** Everything a fitted hybrid model is made of. */
export interface HybridState {
  readonly kind: HybridKind;
  readonly dim: number;
  readonly userIds: readonly string[];
  /** nUsers × dim. */
  readonly userRep: Float32Array;
  readonly userFeatureNames: readonly string[];
  /** Metadata feature embeddings of users, nUserFeatureNames × dim. */
  readonly userFeatureEmb: Float32Array;
  readonly itemIds: readonly string[];
  /** nItems × dim and nItems. */
  readonly itemRep: Float32Array;
  readonly itemBias: Float32Array;
  /** 1 for items whose representation comes from features only (no identity embedding). */
  readonly itemFromFeatures: Uint8Array;
  readonly itemFeatureNames: readonly string[];
  readonly itemFeatureEmb: Float32Array;
  readonly itemFeatureBias: Float32Array;
  /**
   * The map that scores items from their features alone (cold-items.ts), when the fit made one
   * (artifacts of older versions have none: such items then sum their feature embeddings).
   */
  readonly coldItems?: ColdItemModel;
  /** The IVF index over the items, when the artifact carried one (models of ANN_MIN_ITEMS items or more). */
  readonly ivf?: IvfIndex;
  readonly info: {
    readonly hyperparameters: Record<string, unknown>;
    readonly transformVersion: string;
    readonly dataSnapshot: string;
    readonly trainedAt: number;
    readonly seed: number;
    /** Training report (epochs run, best epoch, validation metric...). */
    readonly training: Record<string, unknown>;
  };
}

/** A fitted hybrid model. */
export class HybridRecommender implements Recommender {
  readonly kind: HybridKind;
  private readonly dim: number;
  private readonly state: HybridState;
  private itemIds: string[];
  private itemRep: Float32Array;
  private itemBias: Float32Array;
  private fromFeatures: Uint8Array;
  private nItems: number;
  private userPos: Map<string, number> | undefined;
  private itemPos: Map<string, number> | undefined;
  private userFeatureIndex: Map<string, number> | undefined;
  private itemFeatureIndex: Map<string, number> | undefined;
  /** Position of each item in id order; undefined while index order is id order. */
  private rank: Int32Array | undefined;
  private rankChecked = false;
  /** False while the item arrays are views of a loaded payload: copied before the first write. */
  private ownsItems: boolean;

  /** `borrowed`: the item arrays belong to someone else (an artifact payload) and are copied before any write. */
  constructor(state: HybridState, borrowed = false) {
    this.ownsItems = !borrowed;
    this.state = state;
    this.kind = state.kind;
    this.dim = state.dim;
    this.itemIds = [...state.itemIds];
    this.nItems = this.itemIds.length;
    this.itemRep = state.itemRep;
    this.itemBias = state.itemBias;
    this.fromFeatures = state.itemFromFeatures;
    this.ivf = state.ivf;
    if (
      this.itemRep.length !== this.nItems * this.dim ||
      this.itemBias.length !== this.nItems ||
      this.fromFeatures.length !== this.nItems
    ) {
      throw new ArtifactError(`item sections do not match ${this.nItems} items × dim ${this.dim}`);
    }
    if (state.userRep.length !== state.userIds.length * this.dim)
      throw new ArtifactError(`userRep has ${state.userRep.length} values, expected ${state.userIds.length} × ${this.dim}`);
    if (state.userFeatureEmb.length !== state.userFeatureNames.length * this.dim)
      throw new ArtifactError('userFeatureEmb does not match userFeatureNames × dim');
    if (
      state.itemFeatureEmb.length !== state.itemFeatureNames.length * this.dim ||
      state.itemFeatureBias.length !== state.itemFeatureNames.length
    ) {
      throw new ArtifactError('itemFeatureEmb/itemFeatureBias do not match itemFeatureNames');
    }
    const cold = state.coldItems;
    // One row per feature (or two: raw and normalised; and feature pairs, see cold-items.ts) and the intercept.
    const nf = state.itemFeatureNames.length;
    if (cold !== undefined && (coldItemLayout(cold.bias.length, nf) === undefined || cold.emb.length !== cold.bias.length * this.dim))
      throw new ArtifactError(
        `coldItemEmb/coldItemBias have ${cold.emb.length}/${cold.bias.length} values, expected rows × dim ${this.dim} and rows, rows ${nf + 1}, ${2 * nf + 1} or ${2 * nf + (nf * (nf - 1)) / 2 + 1} (${nf} item features)`,
      );
  }

  /** Candidate lists seen before, as row indices: serving passes the same list on every request. */
  private readonly candidateCache = new WeakMap<readonly string[], { rows: Int32Array; nItems: number }>();

  private candidateRows(candidates: readonly string[]): Int32Array {
    const cached = this.candidateCache.get(candidates);
    if (cached !== undefined && cached.nItems === this.nItems) return cached.rows;
    const pos = this.items();
    const seen = new Uint8Array(this.nItems);
    const list: number[] = [];
    for (const id of candidates) {
      const i = pos.get(id);
      if (i === undefined || seen[i] === 1) continue;
      seen[i] = 1;
      list.push(i);
    }
    const rows = Int32Array.from(list);
    this.candidateCache.set(candidates, { rows, nItems: this.nItems });
    return rows;
  }

  private ivf: IvfIndex | undefined;
  /** Catalog size from which recommend() uses the IVF index; Infinity forces the exact scan. */
  annMinItems = ANN_MIN_ITEMS;
  /** Clusters of the IVF index scanned per request (of ANN_LISTS): fewer is faster and finds less of the exact top k. */
  annProbes = ANN_PROBES;
  /** Per candidate list, the IVF index with its lists restricted to the candidates (for the index it was built from). */
  private readonly restrictedCache = new WeakMap<readonly string[], { from: IvfIndex; index: IvfIndex }>();

  /** Builds (or extends) the IVF index now when the catalog is large enough to use it: serving calls this at load. */
  prepare(): void {
    if (this.nItems >= this.annMinItems) this.ivfIndex();
  }

  /** True when recommend() would scan an index that is already built (none to build at request time). */
  indexReady(): boolean {
    return this.ivf !== undefined && this.ivf.nItems === this.nItems;
  }

  /** The IVF index of the current items, rebuilt when items were added. */
  private ivfIndex(): IvfIndex {
    if (this.ivf === undefined || this.ivf.nItems > this.nItems)
      this.ivf = buildIvf(this.itemRep, this.itemBias, this.nItems, this.dim, { nlist: ANN_LISTS, seed: 1 });
    // Items added since (new content between retrains) join their nearest cluster; no rebuild on the request path.
    else if (this.ivf.nItems < this.nItems) this.ivf = extendIvf(this.ivf, this.itemRep, this.itemBias, this.nItems, this.dim);
    return this.ivf;
  }

  /** The IVF index of the current items, its lists restricted to `candidates` (built once per list and index). */
  private restrictedIvf(candidates: readonly string[]): IvfIndex {
    const from = this.ivfIndex();
    const cached = this.restrictedCache.get(candidates);
    if (cached !== undefined && cached.from === from) return cached.index;
    const allowed = new Uint8Array(this.nItems);
    for (const i of this.candidateRows(candidates)) allowed[i] = 1;
    const index = restrictIvf(from, allowed);
    this.restrictedCache.set(candidates, { from, index });
    return index;
  }

  /** Rows of the excluded items this model knows (a handful per request), or undefined for none. */
  private excludedRows(exclude: ReadonlySet<string> | undefined): Int32Array | undefined {
    if (exclude === undefined || exclude.size === 0) return undefined;
    const pos = this.items();
    const rows: number[] = [];
    for (const id of exclude) {
      const i = pos.get(id);
      if (i !== undefined) rows.push(i);
    }
    return rows.length === 0 ? undefined : Int32Array.from(rows);
  }

  /**
   * Top-k items for the user, best first; a user unseen in training is represented by context.features.
   * Exact below ANN_MIN_ITEMS items (every evaluation here); approximate (IVF) above, for serving.
   */
  recommend(context: UserContext, k: number, options: RecommendOptions = {}): ScoredItem[] {
    if (k <= 0 || this.nItems === 0) return [];
    const user = this.userVector(context);
    const d = this.dim;
    const rep = this.itemRep;
    const bias = this.itemBias;
    const heap = new TopK(k, (i) => this.tieRank(i));
    // Excluded rows are looked up only for items that would enter the heap: no per-request mask of the catalog.
    const excluded = this.excludedRows(options.exclude);
    const rows = options.candidates === undefined ? undefined : this.candidateRows(options.candidates);
    let scanned = false;
    if (this.nItems >= this.annMinItems && (rows === undefined || rows.length >= this.annMinItems)) {
      // Large catalogs: scan only the best clusters of the IVF index (serving's latency budget).
      const index = options.candidates === undefined ? this.ivfIndex() : this.restrictedIvf(options.candidates);
      const lists = bestLists(index, user, d, this.annProbes);
      let total = 0;
      for (const ci of lists) total += (index.lists[ci] as Int32Array).length;
      if (total >= k * 4) {
        for (const ci of lists) {
          const list = index.lists[ci] as Int32Array;
          scanRows(heap, list, list.length, user, rep, bias, d, excluded);
        }
        scanned = true;
      }
    }
    if (!scanned) {
      scanRows(heap, rows, rows === undefined ? this.nItems : rows.length, user, rep, bias, d, excluded);
    }
    return heap.drain().map(({ item, score }) => ({ itemId: this.itemIds[item] as string, score }));
  }

  /**
   * Adds items (or refreshes items that were themselves added from features) from their features.
   * Items trained with an identity embedding keep their trained representation. Items with no
   * known feature are skipped. Returns how many items the model scores from features alone.
   */
  indexItems(itemFeatures: FeatureRows): number {
    const d = this.dim;
    const pos = this.items();
    const names = this.itemFeatureIndexMap();
    const emb = this.state.itemFeatureEmb;
    const fbias = this.state.itemFeatureBias;
    const ids = [...itemFeatures.keys()].sort(compareIds);
    if (!this.ownsItems) {
      this.itemRep = this.itemRep.slice();
      this.itemBias = this.itemBias.slice();
      this.fromFeatures = this.fromFeatures.slice();
      this.ownsItems = true;
    }
    for (const id of ids) {
      const existing = pos.get(id);
      if (existing !== undefined && this.fromFeatures[existing] !== 1) continue;
      const features = itemFeatures.get(id) ?? [];
      const { index, weight } = knownFeatures(features, names);
      if (index.length === 0) continue;
      let at = existing;
      if (at === undefined) {
        at = this.nItems;
        this.grow(at + 1);
        this.itemIds.push(id);
        pos.set(id, at);
        this.nItems++;
        this.rankChecked = false;
        this.rank = undefined;
      }
      const base = at * d;
      const cold = this.state.coldItems;
      const coldBias = cold === undefined ? undefined : coldItemVector(cold, features, names, this.itemRep, base, d);
      if (coldBias !== undefined) {
        this.itemBias[at] = coldBias;
        this.fromFeatures[at] = 1;
        continue;
      }
      let b = 0;
      for (let q = 0; q < d; q++) this.itemRep[base + q] = 0;
      for (let p = 0; p < index.length; p++) {
        const f = index[p] as number;
        const w = weight[p] as number;
        for (let q = 0; q < d; q++) this.itemRep[base + q] = (this.itemRep[base + q] as number) + w * (emb[f * d + q] as number);
        b += w * (fbias[f] as number);
      }
      this.itemBias[at] = b;
      this.fromFeatures[at] = 1;
    }
    let count = 0;
    for (let i = 0; i < this.nItems; i++) count += this.fromFeatures[i] as number;
    return count;
  }

  /** The model's state as it is now (items added by indexItems() included); the arrays are shared, not copied. */
  currentState(): HybridState {
    const n = this.nItems;
    return {
      ...this.state,
      itemIds: this.itemIds.slice(0, n),
      itemRep: this.itemRep.subarray(0, n * this.dim),
      itemBias: this.itemBias.subarray(0, n),
      itemFromFeatures: this.fromFeatures.subarray(0, n),
    };
  }

  knownItems(): readonly string[] {
    return this.itemIds.slice(0, this.nItems);
  }

  /** Users with a trained representation, in index order. */
  knownUsers(): readonly string[] {
    return this.state.userIds;
  }

  save(): ModelArtifact {
    const { manifest, arrays } = this.artifactParts();
    return makeArtifact(manifest, arrays);
  }

  /** What save() packs, unpacked: the arrays are the model's own (views, not copies). */
  artifactParts(): ArtifactParts {
    const s = this.state;
    const n = this.nItems;
    const arrays: Record<string, TypedArray> = {
      userRep: s.userRep,
      userFeatureEmb: s.userFeatureEmb,
      itemRep: this.itemRep.subarray(0, n * this.dim),
      itemBias: this.itemBias.subarray(0, n),
      itemFromFeatures: this.fromFeatures.subarray(0, n),
      itemFeatureEmb: s.itemFeatureEmb,
      itemFeatureBias: s.itemFeatureBias,
    };
    if (s.coldItems !== undefined) {
      arrays.coldItemEmb = s.coldItems.emb;
      arrays.coldItemBias = s.coldItems.bias;
    }
    if (n >= this.annMinItems) {
      // Large catalogs carry their index, so a serving container does not run k-means on load.
      const { centroids, offsets, members } = packIvf(this.ivfIndex());
      arrays.ivfCentroids = centroids;
      arrays.ivfOffsets = offsets;
      arrays.ivfMembers = members;
    }
    return {
      manifest: {
        kind: this.kind,
        hyperparameters: s.info.hyperparameters,
        transformVersion: s.info.transformVersion,
        dataSnapshot: s.info.dataSnapshot,
        trainedAt: s.info.trainedAt,
        seed: s.info.seed,
        itemIndex: this.itemIds.slice(0, n),
        extra: {
          dim: this.dim,
          userIds: [...s.userIds],
          userFeatureNames: [...s.userFeatureNames],
          itemFeatureNames: [...s.itemFeatureNames],
          training: s.info.training,
        },
      },
      arrays,
    };
  }

  private userVector(context: UserContext): Float32Array | Float64Array {
    const d = this.dim;
    const u = this.users().get(context.userId);
    if (u !== undefined) return this.state.userRep.subarray(u * d, (u + 1) * d);
    return coldVector(context.features ?? [], this.userFeatureIndexMap(), this.state.userFeatureEmb, d);
  }

  private grow(needed: number): void {
    const capacity = this.itemBias.length;
    if (needed <= capacity) return;
    const next = Math.max(needed, Math.ceil(capacity * 1.5) + 16);
    const rep = new Float32Array(next * this.dim);
    rep.set(this.itemRep.subarray(0, this.nItems * this.dim));
    const bias = new Float32Array(next);
    bias.set(this.itemBias.subarray(0, this.nItems));
    const from = new Uint8Array(next);
    from.set(this.fromFeatures.subarray(0, this.nItems));
    this.itemRep = rep;
    this.itemBias = bias;
    this.fromFeatures = from;
  }

  private tieRank(i: number): number {
    if (!this.rankChecked) {
      this.rankChecked = true;
      let sorted = true;
      for (let j = 1; j < this.nItems && sorted; j++) sorted = compareIds(this.itemIds[j - 1] as string, this.itemIds[j] as string) < 0;
      if (!sorted) {
        const order = Array.from({ length: this.nItems }, (_, j) => j).sort((a, b) =>
          compareIds(this.itemIds[a] as string, this.itemIds[b] as string),
        );
        const rank = new Int32Array(this.nItems);
        order.forEach((item, r) => {
          rank[item] = r;
        });
        this.rank = rank;
      }
    }
    return this.rank === undefined ? i : (this.rank[i] as number);
  }

  private users(): Map<string, number> {
    this.userPos ??= indexOf(this.state.userIds);
    return this.userPos;
  }

  private items(): Map<string, number> {
    this.itemPos ??= indexOf(this.itemIds);
    return this.itemPos;
  }

  private userFeatureIndexMap(): Map<string, number> {
    this.userFeatureIndex ??= indexOf(this.state.userFeatureNames);
    return this.userFeatureIndex;
  }

  private itemFeatureIndexMap(): Map<string, number> {
    this.itemFeatureIndex ??= indexOf(this.state.itemFeatureNames);
    return this.itemFeatureIndex;
  }
}

/** Loads a hybrid model from its artifact: typed-array views of the payload, no per-number parsing. */
export function loadHybrid(artifact: ModelArtifact): HybridRecommender {
  const { manifest } = artifact;
  if (!(HYBRID_KINDS as readonly string[]).includes(manifest.kind)) {
    throw new ArtifactError(`artifact kind is "${manifest.kind}", expected one of ${HYBRID_KINDS.join(', ')}`);
  }
  // Checked by hand, not by a zod schema: training loads this module and never this check (hybrid-extra.ts).
  const extra = parseHybridExtra(manifest.extra);
  if (!extra.success) throw new ArtifactError(`hybrid artifact extra is invalid: ${extra.message}`);
  const sections = unpackSections(artifact);
  const f32 = (name: string): Float32Array => {
    const s = sections[name];
    if (!(s instanceof Float32Array)) throw new ArtifactError(`section ${name} missing or not float32`);
    return s;
  };
  const from = sections.itemFromFeatures;
  if (!(from instanceof Uint8Array)) throw new ArtifactError('section itemFromFeatures missing or not uint8');
  // Older artifacts have no cold-item map (feature-only items then sum their feature embeddings).
  const coldItems =
    sections.coldItemEmb === undefined && sections.coldItemBias === undefined
      ? undefined
      : { emb: f32('coldItemEmb'), bias: f32('coldItemBias') };
  let ivf: IvfIndex | undefined;
  if (sections.ivfCentroids !== undefined || sections.ivfOffsets !== undefined || sections.ivfMembers !== undefined) {
    const offsets = sections.ivfOffsets;
    const members = sections.ivfMembers;
    if (!(offsets instanceof Int32Array) || !(members instanceof Int32Array))
      throw new ArtifactError('sections ivfOffsets and ivfMembers missing or not int32');
    try {
      ivf = unpackIvf(f32('ivfCentroids'), offsets, members, manifest.itemIndex.length, extra.data.dim);
    } catch (error) {
      if (error instanceof ArtifactError) throw error;
      throw new ArtifactError(`the artifact's IVF index is invalid: ${(error as Error).message}`);
    }
  }
  return new HybridRecommender(
    {
      kind: manifest.kind as HybridKind,
      dim: extra.data.dim,
      userIds: extra.data.userIds,
      userRep: f32('userRep'),
      userFeatureNames: extra.data.userFeatureNames,
      userFeatureEmb: f32('userFeatureEmb'),
      itemIds: manifest.itemIndex,
      itemRep: f32('itemRep'),
      itemBias: f32('itemBias'),
      itemFromFeatures: from,
      itemFeatureNames: extra.data.itemFeatureNames,
      itemFeatureEmb: f32('itemFeatureEmb'),
      itemFeatureBias: f32('itemFeatureBias'),
      ...(ivf ? { ivf } : {}),
      ...(coldItems ? { coldItems } : {}),
      info: {
        hyperparameters: manifest.hyperparameters,
        transformVersion: manifest.transformVersion,
        dataSnapshot: manifest.dataSnapshot,
        trainedAt: manifest.trainedAt,
        seed: manifest.seed,
        training: extra.data.training ?? {},
      },
    },
    true,
  );
}

/** Normalised sum of the known features' embeddings (zero vector when none is known). */
export function coldVector(features: readonly Feature[], names: ReadonlyMap<string, number>, emb: Float32Array, dim: number): Float64Array {
  const out = new Float64Array(dim);
  const { index, weight } = knownFeatures(features, names);
  for (let p = 0; p < index.length; p++) {
    const base = (index[p] as number) * dim;
    const w = weight[p] as number;
    for (let q = 0; q < dim; q++) out[q] = (out[q] as number) + w * (emb[base + q] as number);
  }
  return out;
}

/** True when row `i` is among the (few) excluded rows. */
function isExcluded(excluded: Int32Array, i: number): boolean {
  for (let e = 0; e < excluded.length; e++) if (excluded[e] === i) return true;
  return false;
}

/**
 * Offers rows to the heap: the listed `rows`, or every row 0..n-1 when rows is undefined. The heap's
 * entry threshold is cached: most items are rejected by one comparison, and only those that pass it
 * are checked against the exclusions.
 */
function scanRows(
  heap: TopK,
  rows: Int32Array | undefined,
  n: number,
  user: Float32Array | Float64Array,
  rep: Float32Array,
  bias: Float32Array,
  d: number,
  excluded: Int32Array | undefined,
): void {
  let threshold = heap.threshold();
  for (let r = 0; r < n; r++) {
    const i = rows === undefined ? r : (rows[r] as number);
    const score = dotAt(user, rep, i * d, d) + (bias[i] as number);
    if (score < threshold) continue;
    if (excluded !== undefined && isExcluded(excluded, i)) continue;
    heap.push(score, i);
    threshold = heap.threshold();
  }
}

function indexOf(ids: readonly string[]): Map<string, number> {
  const map = new Map<string, number>();
  for (let i = 0; i < ids.length; i++) map.set(ids[i] as string, i);
  return map;
}
