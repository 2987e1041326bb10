/**
 * `npm run bench -- tune-validation`: how early stopping validates, chosen on validation data only.
 * Variants: which of a validation user's items are held out (HybridOptions.validationHoldout: the most
 * recent, or a seeded random sample) and whether the model is then refit on all positives for the
 * best epoch count (HybridOptions.refit: false, or 'auto'), for WARP and BPR, with item features;
 * then, on today's default, early stopping's patience (p5), the exact best epoch instead of the last
 * within 1% of it (tol0: HybridOptions.validationTolerance 0) and WARP's maxSampled (ms20/30/50); then
 * the validation metric's cut-off (k10 / k20: HybridOptions.validationCutoff; `warp` and `bpr` alone
 * are the defaults).
 * Data: the simulator shelves' validation windows (Podcasts, Playlists: a temporal protocol, the
 * pipeline's), the four generated tuning sets (per-item random splits) and, when MOVIELENS_100K names
 * the ml-100k folder (MOVIELENS_SMALL the ml-latest-small one), MovieLens' inner split (80/20 of its
 * training part; never its test split).
 *
 * Env: BENCH_TV_SEEDS (default 1,2,3), BENCH_TV_PARTS (default podcasts,playlists,generated,movielens),
 * BENCH_TV_VARIANTS (names below; default all), BENCH_TV_EPOCHS (generated and MovieLens cap, default 40).
 */
import type { Shelf } from '../lib/core/contract.ts';
import { evaluateRuns } from '../lib/core/eval/evaluate.ts';
import { fitHybrid, type HybridOptions } from '../lib/core/models/hybrid/index.ts';
import type { HybridRecommender } from '../lib/core/models/hybrid/model.ts';
import { SHELF_CONFIG, shelfHybridSettings } from '../lib/core/shelf-settings.ts';
import { publicDatasets } from './_movielens.ts';
import { publicLikeNdcg, tuningSets } from './_public-like.ts';
import { defaultWorld, validationData } from './_world.ts';

const SEEDS = (process.env.BENCH_TV_SEEDS ?? '1,2,3').split(',').map(Number);
const PARTS = (process.env.BENCH_TV_PARTS ?? 'podcasts,playlists,generated,movielens').split(',');
const CAP = Number(process.env.BENCH_TV_EPOCHS ?? 40);

const VARIANTS: Record<string, HybridOptions> = {
  'warp.recent': { loss: 'warp', validationHoldout: 'recent', refit: false },
  'warp.recent.refit': { loss: 'warp', validationHoldout: 'recent', refit: 'auto' },
  'warp.random': { loss: 'warp', validationHoldout: 'random', refit: false },
  'warp.random.refit': { loss: 'warp', validationHoldout: 'random', refit: 'auto' },
  'bpr.recent': { loss: 'bpr', validationHoldout: 'recent', refit: false },
  'bpr.recent.refit': { loss: 'bpr', validationHoldout: 'recent', refit: 'auto' },
  'bpr.random': { loss: 'bpr', validationHoldout: 'random', refit: false },
  'bpr.random.refit': { loss: 'bpr', validationHoldout: 'random', refit: 'auto' },
  // Patience and WARP's negative sampling on today's default (random holdout, refit).
  'warp.p5': { loss: 'warp', patience: 5 },
  'warp.ms20': { loss: 'warp', maxSampled: 20 },
  'warp.p5.ms20': { loss: 'warp', patience: 5, maxSampled: 20 },
  'bpr.p5': { loss: 'bpr', patience: 5 },
  'warp.tol0': { loss: 'warp', validationTolerance: 0 },
  'warp.p5.tol0': { loss: 'warp', patience: 5, validationTolerance: 0 },
  'warp.ms20.tol0': { loss: 'warp', maxSampled: 20, validationTolerance: 0 },
  'bpr.tol0': { loss: 'bpr', validationTolerance: 0 },
  'warp.ms30': { loss: 'warp', maxSampled: 30 },
  'warp.ms50': { loss: 'warp', maxSampled: 50 },
  // The validation metric's cut-off (HybridOptions.validationCutoff), session 8: today's defaults
  // (NDCG@50; WARP within 1% of the best, BPR the best itself) against the earlier NDCG@10 ones.
  warp: { loss: 'warp' },
  bpr: { loss: 'bpr' },
  'warp.k10': { loss: 'warp', validationCutoff: 10 },
  'bpr.k10.tol1': { loss: 'bpr', validationCutoff: 10, validationTolerance: 0.01 },
  'warp.k20': { loss: 'warp', validationCutoff: 20 },
  'bpr.k20': { loss: 'bpr', validationCutoff: 20 },
  'bpr.tol1': { loss: 'bpr', validationTolerance: 0.01 },
  // Negatives by catalog size (negativesFor) against the earlier fixed 10 / 5.
  'warp.ms10': { loss: 'warp', maxSampled: 10 },
  'bpr.neg5': { loss: 'bpr', bprNegatives: 5 },
  // Shelves only: the shelf's own settings (shelfHybridSettings), with its pinned early stopping
  // (patience 3, the best epoch, NDCG@10), or with the model's (shelf.modelStopping), or the model's
  // NDCG@50 alone (shelf.k50).
  shelf: {},
  'shelf.modelStopping': {},
  'shelf.k50': { validationCutoff: 50 },
};

/** The options a variant trains a shelf with: `shelf*` variants start from the shelf's own settings. */
function shelfVariant(shelf: Shelf, name: string): HybridOptions {
  if (!name.startsWith('shelf')) return VARIANTS[name] as HybridOptions;
  const own: HybridOptions = shelfHybridSettings(shelf);
  if (name === 'shelf.modelStopping') {
    const { patience: _p, validationTolerance: _t, validationCutoff: _c, ...rest } = own;
    return rest;
  }
  return { ...own, ...VARIANTS[name] };
}

const training = (m: HybridRecommender): { bestEpoch: number; refitEpochs?: number } =>
  m.save().manifest.extra.training as { bestEpoch: number; refitEpochs?: number };

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

export default async function bench(): Promise<Record<string, number | string>> {
  const figures: Record<string, number | string> = {};
  const picked = process.env.BENCH_TV_VARIANTS?.split(',');
  const names = Object.keys(VARIANTS).filter((n) => picked === undefined || picked.includes(n));
  const log = (line: string): void => {
    process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
  };
  const record = (part: string, name: string, values: number[], epochs: string): void => {
    figures[`${part}.${name}`] = Number(mean(values).toFixed(4));
    figures[`${part}.${name}.perSeed`] = `${values.map((x) => x.toFixed(4)).join(' / ')} (best/refit epochs ${epochs})`;
    log(`${part} ${name} ${mean(values).toFixed(4)} [${values.map((x) => x.toFixed(4)).join(' ')}] epochs ${epochs}`);
  };
  const epochsOf = (m: HybridRecommender): string => {
    const t = training(m);
    return `${t.bestEpoch}${t.refitEpochs !== undefined ? 'r' : ''}`;
  };

  const world = PARTS.includes('podcasts') || PARTS.includes('playlists') ? await defaultWorld() : undefined;
  for (const shelf of ['podcasts', 'playlists'] as Shelf[]) {
    if (world === undefined || !PARTS.includes(shelf)) continue;
    const { k, hyperparameters } = SHELF_CONFIG[shelf];
    const data = validationData(world, shelf, 'tune');
    for (const name of names) {
      const models = SEEDS.map((seed) =>
        fitHybrid(data.train, {
          ...shelfVariant(shelf, name),
          seed,
          epochs: Number(hyperparameters.epochs ?? 40),
          identityDropout: Number(hyperparameters.identityDropout ?? 0),
        }),
      );
      for (const m of models) if (data.itemFeatures !== undefined) m.indexItems(data.itemFeatures);
      const report = evaluateRuns(
        data.eval,
        models.map((recommender, s) => ({ name: `seed${SEEDS[s]}`, role: 'candidate' as const, recommender })),
        { k, resamples: 20 },
      );
      record(
        shelf,
        name,
        report.runs.map((r) => r.metrics[`ndcg@${k}`]?.mean ?? 0),
        models.map(epochsOf).join(','),
      );
    }
  }
  if (PARTS.includes('generated')) {
    const sets = tuningSets();
    for (const name of names) {
      const values: number[] = [];
      const epochs: string[] = [];
      for (const [, split] of sets)
        for (const seed of SEEDS.slice(0, 2)) {
          const m = fitHybrid({ ...split.train, itemFeatures: split.itemFeatures }, { ...VARIANTS[name], seed, epochs: CAP });
          values.push(publicLikeNdcg(m, split));
          epochs.push(epochsOf(m));
        }
      record('generated', name, values, epochs.join(','));
    }
  }
  const datasets = PARTS.includes('movielens') ? publicDatasets() : [];
  for (const { prefix, sets } of datasets) {
    const inner = sets.inner;
    for (const name of names) {
      const models = SEEDS.map((seed) =>
        fitHybrid({ ...inner.train, itemFeatures: inner.itemFeatures }, { ...VARIANTS[name], seed, epochs: CAP }),
      );
      record(
        `${prefix}.inner`,
        name,
        models.map((m) => publicLikeNdcg(m, inner)),
        models.map(epochsOf).join(','),
      );
    }
  }
  if (datasets.length === 0)
    figures['movielens.inner'] = 'skipped (set MOVIELENS_100K to the ml-100k folder, MOVIELENS_SMALL to ml-latest-small)';
  return figures;
}
