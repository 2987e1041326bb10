/**
 * Spread across seeds for the models bench (issue 15.5): each hybrid variant (WARP, BPR; with and
 * without features) fitted with seeds 1, 2, 3 and reported as mean and range of NDCG@10, on the
 * simulator's shelves (the pipeline's protocol) and on the generated public-like set
 * (bench/_public-like.ts: per-item stratified 75/25 split, seen items removed). EASE, deterministic,
 * is one figure beside them. Per seed too, with whether features helped on every seed and how far
 * BPR is behind WARP.
 */
import type { Shelf } from '../lib/core/contract.ts';
import { evaluateRuns } from '../lib/core/eval/evaluate.ts';
import { fitEase } from '../lib/core/models/ease/index.ts';
import { fitHybrid, type HybridOptions } from '../lib/core/models/hybrid/index.ts';
import type { TrainingData } from '../lib/core/models/recommender.ts';
import { SHELF_CONFIG, shelfHybridSettings } from '../lib/core/shelf-settings.ts';
import type { ShelfData } from '../lib/core/transforms/protocol.ts';
import { publicDatasets } from './_movielens.ts';
import { heldOutItems, heldOutNdcg, publicLike, publicLikeNdcg } from './_public-like.ts';

export const SEEDS = [1, 2, 3] as const;

/** "mean (min–max)" of a list, 4 decimals. */
export function spread(values: readonly number[]): string {
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  return `${mean.toFixed(4)} (${Math.min(...values).toFixed(4)}-${Math.max(...values).toFixed(4)})`;
}

const VARIANTS = [
  ['warp', true],
  ['warp', false],
  ['bpr', true],
  ['bpr', false],
] as const;

const withoutFeatures = (data: TrainingData, features: boolean): TrainingData =>
  features ? data : { ...data, itemFeatures: undefined, userFeatures: undefined };

/** The values per seed, 4 decimals, "a / b / c". */
export function perSeed(values: readonly number[]): string {
  return values.map((v) => v.toFixed(4)).join(' / ');
}

/**
 * Whether features helped on every seed: "yes" or the seeds where the variant with features scored
 * below the one without (issue 15: features must help where they carry signal, on every seed).
 */
function featuresHelp(withFeatures: readonly number[], without: readonly number[]): string {
  const worse = SEEDS.filter((_, s) => (withFeatures[s] as number) < (without[s] as number));
  return worse.length === 0 ? 'yes' : `no (seeds ${worse.join(', ')})`;
}

/** Mean and range over seeds of each hybrid variant on one simulator shelf. */
export function shelfSpread(shelf: Shelf, data: ShelfData): Record<string, string> {
  const figures: Record<string, string> = {};
  const k = SHELF_CONFIG[shelf].k;
  // The shelf's settings apply to every variant, except its identity share, which is the choice for its
  // algorithm (WARP, LightFM's weights): BPR keeps its own default share (BPR_IDENTITY_SHARE).
  const { identityDropout: dropout, identityShare, ...share } = shelfHybridSettings(shelf);
  const bySeed: Record<string, number[]> = {};
  // With the shelf's identity dropout (Podcasts: 0.2, for its new shows) and, beside it, features
  // without dropout: the comparison of features with no features is then not mixed with dropout's cost.
  const variants: (readonly ['warp' | 'bpr', boolean, number])[] = VARIANTS.map(([loss, features]) => [
    loss,
    features,
    features ? dropout : 0,
  ]);
  if (dropout > 0) variants.push(['warp', true, 0], ['bpr', true, 0]);
  for (const [loss, features, identityDropout] of variants) {
    const runs = SEEDS.map((seed) => {
      const options: HybridOptions = {
        loss,
        seed,
        epochs: 40,
        identityDropout,
        ...share,
        ...(loss === 'warp' && identityShare !== undefined ? { identityShare } : {}),
      };
      const model = fitHybrid(withoutFeatures(data.train, features), options);
      if (features) model.indexItems(data.itemFeatures);
      return { name: `seed${seed}`, role: 'candidate' as const, recommender: model };
    });
    const report = evaluateRuns(data.eval, runs, { k, resamples: 20 });
    const values = report.runs.map((r) => r.metrics[`ndcg@${k}`]?.mean ?? 0);
    const name = `hybrid-${loss}${features ? '' : '-no-features'}${features && identityDropout === 0 && dropout > 0 ? '-no-dropout' : ''}`;
    bySeed[name] = values;
    figures[`${shelf}.seeds.${name}.ndcg@${k}`] = spread(values);
    figures[`${shelf}.seeds.${name}.perSeed`] = perSeed(values);
  }
  for (const loss of ['warp', 'bpr']) {
    figures[`${shelf}.seeds.hybrid-${loss}.featuresHelpOnEverySeed`] = featuresHelp(
      bySeed[`hybrid-${loss}`] ?? [],
      bySeed[`hybrid-${loss}-no-features`] ?? [],
    );
    if (dropout > 0)
      figures[`${shelf}.seeds.hybrid-${loss}-no-dropout.featuresHelpOnEverySeed`] = featuresHelp(
        bySeed[`hybrid-${loss}-no-dropout`] ?? [],
        bySeed[`hybrid-${loss}-no-features`] ?? [],
      );
  }
  figures[`${shelf}.seeds.bprBehindWarp`] = behind(bySeed['hybrid-bpr'] ?? [], bySeed['hybrid-warp'] ?? []);
  return figures;
}

/** Mean and range over seeds on the generated public-like set, with EASE and popularity for scale. */
export function publicLikeSpread(): Record<string, string | number> {
  const split = publicLike({ seed: 100 });
  const figures: Record<string, string | number> = {
    'publicLike.trainInteractions': split.train.interactions.length,
    'publicLike.testUsers': split.test.size,
    'publicLike.ease.ndcg@10': Number(publicLikeNdcg(fitEase(split.train), split).toFixed(4)),
  };
  const bySeed: Record<string, number[]> = {};
  for (const [loss, features] of VARIANTS) {
    const values = SEEDS.map((seed) =>
      publicLikeNdcg(fitHybrid(features ? { ...split.train, itemFeatures: split.itemFeatures } : split.train, { loss, seed }), split),
    );
    const name = `hybrid-${loss}${features ? '' : '-no-features'}`;
    bySeed[name] = values;
    figures[`publicLike.seeds.${name}.ndcg@10`] = spread(values);
    figures[`publicLike.seeds.${name}.perSeed`] = perSeed(values);
  }
  for (const loss of ['warp', 'bpr'])
    figures[`publicLike.seeds.hybrid-${loss}.featuresHelpOnEverySeed`] = featuresHelp(
      bySeed[`hybrid-${loss}`] ?? [],
      bySeed[`hybrid-${loss}-no-features`] ?? [],
    );
  figures['publicLike.seeds.bprBehindWarp'] = behind(bySeed['hybrid-bpr'] ?? [], bySeed['hybrid-warp'] ?? []);
  return figures;
}

/**
 * The public datasets' test splits (bench/_movielens.ts: MovieLens 100k when MOVIELENS_100K is set,
 * MovieLens latest-small when MOVIELENS_SMALL is). On 100k, the issue's targets —
 * the hybrid at or above 0.46 (LightFM with genres) on every seed, the best model at or above 0.47,
 * held-out items at or above 0.19 — with the defaults of `shelves train` (EASE: lambda 'auto'; hybrid
 * on held-out items: identity dropout 0.2, as when --item-features names items without interactions).
 * Reported only: nothing is chosen on this split.
 */
export function movieLensSpread(): Record<string, string | number> {
  const datasets = publicDatasets();
  if (datasets.length === 0) return { movielens: 'skipped (set MOVIELENS_100K to the ml-100k folder, MOVIELENS_SMALL to ml-latest-small)' };
  const figures: Record<string, string | number> = {};
  for (const { prefix, sets } of datasets) {
    const split = sets.test;
    figures[`${prefix}.trainInteractions`] = split.train.interactions.length;
    figures[`${prefix}.testUsers`] = split.test.size;
    figures[`${prefix}.ease.lambda100.ndcg@10`] = Number(publicLikeNdcg(fitEase(split.train, { lambda: 100 }), split).toFixed(4));
    const auto = fitEase(split.train, { lambda: 'auto' });
    figures[`${prefix}.ease.auto.ndcg@10`] = Number(publicLikeNdcg(auto, split).toFixed(4));
    figures[`${prefix}.ease.auto.lambda`] = Number(auto.save().manifest.hyperparameters.lambda);
    for (const [loss, features] of VARIANTS) {
      const values = SEEDS.map((seed) =>
        publicLikeNdcg(fitHybrid(features ? { ...split.train, itemFeatures: split.itemFeatures } : split.train, { loss, seed }), split),
      );
      const name = `hybrid-${loss}${features ? '' : '-no-features'}`;
      figures[`${prefix}.seeds.${name}.ndcg@10`] = spread(values);
      figures[`${prefix}.seeds.${name}.perSeed`] = perSeed(values);
    }
    const held = heldOutItems(split, 0.2, 7);
    for (const loss of ['warp', 'bpr'] as const) {
      const values = SEEDS.map((seed) => heldOutNdcg(fitHybrid(held.train, { loss, seed, identityDropout: 0.2 }), held));
      figures[`${prefix}.heldOutItems.hybrid-${loss}.ndcg@10`] = spread(values);
      figures[`${prefix}.heldOutItems.hybrid-${loss}.perSeed`] = perSeed(values);
    }
  }
  return figures;
}

/** How far BPR's mean is below WARP's, in percent of WARP's ("-1.2%" = 1.2% behind). */
function behind(bpr: readonly number[], warp: readonly number[]): string {
  const mean = (v: readonly number[]): number => v.reduce((a, b) => a + b, 0) / Math.max(1, v.length);
  return `${(((mean(bpr) - mean(warp)) / (mean(warp) || 1)) * 100).toFixed(1)}%`;
}
