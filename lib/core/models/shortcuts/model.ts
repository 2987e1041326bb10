/**
 * `shortcuts-ranker`: ranks the user's own recent items (the Shortcuts candidates) with gradient-boosted
 * LambdaRank trees (ranker.ts) over the shared Shortcuts features. The catalog (item types, episodes'
 * shows and publish times) comes from options.catalog or the examples, is refreshed by indexItems at
 * serving, and is saved with the trees so a loaded model maps episodes to shows on its own.
 */
import { SHORTCUT_FEATURE_NAMES, shortcutCandidates, shortcutCatalog, shortcutFeatures, weekdayOf } from '../../transforms/shortcuts.ts';
import { ITEM_TYPES } from '../../contract.ts';
import { ArtifactError, makeArtifact, unpackSections, type ModelArtifact } from '../artifact.ts';
import type { FeatureRows, ItemMeta, Recommender, RecommendOptions, ScoredItem, UserContext } from '../recommender.ts';
import { rankByScore } from '../baselines/rank.ts';
import { fitRanker, rankerArrays, rankerFromArrays, type RankerModel, type RankerOptions } from './ranker.ts';
import type { RankingExamples, ShortcutCatalog } from './types.ts';

class ShortcutsRanker implements Recommender {
  readonly kind = 'shortcuts-ranker';
  private catalog: ShortcutCatalog;

  constructor(
    private readonly ranker: RankerModel,
    private readonly manifest: Omit<ModelArtifact['manifest'], 'format' | 'sections' | 'payloadBytes' | 'itemIndex' | 'kind'>,
    catalog: ReadonlyMap<string, ItemMeta> = new Map(),
  ) {
    this.catalog = shortcutCatalog(catalog);
  }

  recommend(context: UserContext, k: number, options?: RecommendOptions): ScoredItem[] {
    const history = context.history ?? [];
    let candidates = shortcutCandidates(history, context.now, this.catalog);
    if (options?.candidates) candidates = candidates.filter((c) => options.candidates?.includes(c));
    if (candidates.length === 0) return [];
    const ctx = {
      now: context.now,
      localHour: context.localHour ?? new Date(context.now).getUTCHours(),
      weekday: context.weekday ?? weekdayOf(context.now),
    };
    const scores = this.ranker.score(shortcutFeatures(history, candidates, ctx, this.catalog), candidates.length);
    const byId = new Map(candidates.map((c, i) => [c, scores[i] as number]));
    return rankByScore(candidates, (id) => byId.get(id) ?? Number.NaN, k, options?.exclude ? { exclude: options.exclude } : {});
  }

  indexItems(_features: FeatureRows, items?: ReadonlyMap<string, ItemMeta>): number {
    if (items !== undefined) this.catalog = shortcutCatalog(new Map([...this.catalog.meta, ...items]));
    return 0;
  }

  knownItems(): readonly string[] {
    return [];
  }

  save(): ModelArtifact {
    // The catalog travels with the weights (type, show of each episode, publish time), so a loaded
    // ranker maps episodes to shows and sees new episodes without a separate catalog file.
    const ids = [...this.catalog.meta.keys()].sort();
    const row = new Map(ids.map((id, i) => [id, i]));
    const typeCode = new Uint8Array(ids.length);
    const showRow = new Int32Array(ids.length).fill(-1);
    const publishedAt = new Float64Array(ids.length).fill(Number.NaN);
    ids.forEach((id, i) => {
      const m = this.catalog.meta.get(id) as ItemMeta;
      typeCode[i] = m.type === undefined ? 255 : Math.max(0, ITEM_TYPES.indexOf(m.type as (typeof ITEM_TYPES)[number]));
      if (m.showId !== undefined) showRow[i] = row.get(m.showId) ?? -1;
      if (m.publishedAt !== undefined) publishedAt[i] = m.publishedAt;
    });
    return makeArtifact(
      { ...this.manifest, kind: this.kind, itemIndex: ids },
      { ...rankerArrays(this.ranker), typeCode, showRow, publishedAt },
    );
  }
}

function catalogFromSections(itemIndex: readonly string[], arrays: Record<string, unknown>): Map<string, ItemMeta> {
  const meta = new Map<string, ItemMeta>();
  const typeCode = arrays.typeCode as Uint8Array | undefined;
  const showRow = arrays.showRow as Int32Array | undefined;
  const publishedAt = arrays.publishedAt as Float64Array | undefined;
  if (!typeCode || !showRow || !publishedAt) return meta;
  itemIndex.forEach((id, i) => {
    const type = ITEM_TYPES[typeCode[i] as number];
    const show = showRow[i] as number;
    const published = publishedAt[i] as number;
    meta.set(id, {
      ...(type !== undefined ? { type } : {}),
      ...(show >= 0 ? { showId: itemIndex[show] as string } : {}),
      ...(Number.isNaN(published) ? {} : { publishedAt: published }),
    });
  });
  return meta;
}

export function fitShortcutsRanker(
  examples: RankingExamples,
  options: RankerOptions & {
    catalog?: ReadonlyMap<string, ItemMeta>;
    transformVersion?: string;
    snapshot?: string;
    cutoff?: number;
    /** Which users the examples come from (buildShelfData's exampleSample), recorded in the manifest. */
    sample?: object;
  },
): Recommender {
  const ranker = fitRanker(examples, options);
  const catalog = options.catalog ?? examples.catalog;
  return new ShortcutsRanker(
    ranker,
    {
      hyperparameters: {
        trees: options.trees ?? 80,
        depth: ranker.depth,
        bins: options.bins ?? 32,
        shrinkage: options.shrinkage ?? 0.1,
        minLeaf: options.minLeaf ?? 5,
        l2: options.l2 ?? 1,
        subsample: options.subsample ?? 1,
        validationShare: options.validationShare ?? 0.1,
        patience: options.patience ?? 10,
      },
      transformVersion: options.transformVersion ?? '',
      dataSnapshot: options.snapshot ?? '',
      trainedAt: options.cutoff ?? 0,
      seed: options.seed,
      extra: {
        featureNames: [...SHORTCUT_FEATURE_NAMES],
        groups: examples.groups.length - 1,
        training: ranker.training,
        ...(options.sample ? { sample: { ...options.sample } } : {}),
      },
    },
    catalog,
  );
}

export function loadShortcutsRanker(artifact: ModelArtifact): Recommender {
  const arrays = unpackSections(artifact);
  const names = artifact.manifest.extra.featureNames as string[] | undefined;
  if (names && names.join() !== SHORTCUT_FEATURE_NAMES.join())
    throw new ArtifactError(
      `shortcuts-ranker artifact was trained on features [${names.join(', ')}], this build computes [${SHORTCUT_FEATURE_NAMES.join(', ')}]`,
    );
  const { hyperparameters, transformVersion, dataSnapshot, trainedAt, seed, extra, itemIndex } = artifact.manifest;
  return new ShortcutsRanker(
    rankerFromArrays(arrays, SHORTCUT_FEATURE_NAMES.length, Number(hyperparameters.depth ?? 4)),
    { hyperparameters, transformVersion, dataSnapshot, trainedAt, seed, extra },
    catalogFromSections(itemIndex, arrays),
  );
}
