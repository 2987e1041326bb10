/**
 * `shortcuts-ranker`: ranks the user's own recent items (the Shortcuts candidates) with the learned
 * pairwise ranker over the shared Shortcuts features. The catalog (item types, episodes' shows and
 * publish times) is given by indexItems, as serving refreshes it; the artifact holds only weights.
 */
import { SHORTCUT_FEATURE_NAMES, shortcutCandidates, shortcutCatalog, shortcutFeatures, weekdayOf } from '../../features/shortcuts.ts';
import { makeArtifact, unpackSections, type ModelArtifact } from '../artifact.ts';
import type { FeatureRows, ItemMeta, Recommender, RecommendOptions, ScoredItem, UserContext } from '../recommender.ts';
import { rankByScore } from '../baselines/rank.ts';
import { fitRanker, scoreRows, type LinearRanker, type RankerOptions } from './ranker.ts';
import type { RankingExamples, ShortcutCatalog } from './types.ts';

class ShortcutsRanker implements Recommender {
  readonly kind = 'shortcuts-ranker';
  private catalog: ShortcutCatalog;

  constructor(
    private readonly ranker: LinearRanker,
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
    const ctx = { now: context.now, localHour: context.localHour ?? new Date(context.now).getUTCHours(), weekday: context.weekday ?? weekdayOf(context.now) };
    const scores = scoreRows(this.ranker, shortcutFeatures(history, candidates, ctx, this.catalog), candidates.length);
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
    return makeArtifact({ ...this.manifest, kind: this.kind, itemIndex: [] }, { mean: this.ranker.mean, scale: this.ranker.scale, weights: this.ranker.weights });
  }
}

export function fitShortcutsRanker(
  examples: RankingExamples,
  options: RankerOptions & { catalog?: ReadonlyMap<string, ItemMeta>; transformVersion?: string; snapshot?: string; cutoff?: number },
): Recommender {
  const ranker = fitRanker(examples, options);
  return new ShortcutsRanker(
    ranker,
    {
      hyperparameters: { epochs: options.epochs ?? 8, learningRate: options.learningRate ?? 0.05, l2: options.l2 ?? 1e-4 },
      transformVersion: options.transformVersion ?? '',
      dataSnapshot: options.snapshot ?? '',
      trainedAt: options.cutoff ?? 0,
      seed: options.seed,
      extra: { featureNames: [...SHORTCUT_FEATURE_NAMES], groups: examples.groups.length - 1 },
    },
    options.catalog,
  );
}

export function loadShortcutsRanker(artifact: ModelArtifact): Recommender {
  const arrays = unpackSections(artifact);
  const names = artifact.manifest.extra.featureNames as string[] | undefined;
  if (names && names.join() !== SHORTCUT_FEATURE_NAMES.join()) throw new Error(`shortcuts-ranker artifact was trained on features [${names.join(', ')}], this build computes [${SHORTCUT_FEATURE_NAMES.join(', ')}]`);
  const { hyperparameters, transformVersion, dataSnapshot, trainedAt, seed, extra } = artifact.manifest;
  return new ShortcutsRanker({ mean: arrays.mean as Float32Array, scale: arrays.scale as Float32Array, weights: arrays.weights as Float32Array }, { hyperparameters, transformVersion, dataSnapshot, trainedAt, seed, extra });
}
