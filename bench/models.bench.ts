/**
 * Model quality on the default simulated world, every shelf's candidate against its dummy models, on
 * the pipeline's own protocol (temporal split, same users, candidates and exclusions): the figures the
 * models issue asks for: each shelf's candidate and baselines (EASE with and without user features),
 * the hybrid's WARP and BPR with and without features over seeds 1-3 (mean, range, per seed), the
 * same on the generated public-like set, and the Podcasts diversity trade-off curve. Quality, not
 * speed: no timing here is asserted anywhere.
 */
import type { Shelf } from '../lib/core/contract.ts';
import { evaluateRuns } from '../lib/core/eval/evaluate.ts';
import { buildShelfData } from '../lib/core/transforms/protocol.ts';
import { BASELINES_BY_SHELF, fitBaseline, STRONG_BASELINES_BY_SHELF } from '../lib/core/models/fit.ts';
import { fitEase } from '../lib/core/models/ease/index.ts';
import { fitHybrid } from '../lib/core/models/hybrid/index.ts';
import type { Recommender } from '../lib/core/models/recommender.ts';
import { fitShortcutsRanker } from '../lib/core/models/shortcuts/model.ts';
import { SHELF_CONFIG, shelfHybridSettings } from '../lib/core/shelf-settings.ts';
import { movieLensSpread, publicLikeSpread, shelfSpread } from './_seed-spread.ts';
import diversityCurve from './diversity.bench.ts';
import { defaultWorld } from './_world.ts';

const DAY = 86_400_000;

export default async function bench(): Promise<Record<string, number | string>> {
  const figures: Record<string, number | string> = {};
  const world = await defaultWorld();
  const { manifest, events, catalog, users } = world;
  for (const shelf of ['podcasts', 'playlists', 'shortcuts'] as Shelf[]) {
    const testDays = SHELF_CONFIG[shelf].testDays;
    const data = buildShelfData(shelf, {
      events,
      catalog,
      users,
      cutoff: Date.parse(manifest.end) - testDays * DAY,
      testDays,
      snapshot: 'bench',
    });
    let candidate: Recommender;
    if (shelf === 'shortcuts') candidate = fitShortcutsRanker(data.shortcutExamples!, { seed: 7 });
    else
      candidate = fitHybrid(data.train, {
        epochs: 40,
        seed: 7,
        ...shelfHybridSettings(shelf),
      });
    const runs = [
      { name: 'candidate', role: 'candidate' as const, recommender: candidate },
      ...[...BASELINES_BY_SHELF[shelf], ...STRONG_BASELINES_BY_SHELF[shelf]].map((b) => ({
        name: b,
        role: 'baseline' as const,
        recommender: fitBaseline(b, data.train, 7),
      })),
    ];
    // EASE (a baseline of both shelves, with user-feature columns) is deterministic: one row, no seed
    // spread; beside it the same model without user features, to show what the features add.
    if (shelf !== 'shortcuts')
      runs.push({ name: 'ease-no-user-features', role: 'baseline', recommender: fitEase(data.train, { userFeatures: false }) });
    for (const r of runs) r.recommender.indexItems?.(data.itemFeatures, data.train.items);
    // Spread over seeds 1-3 of the hybrid variants (WARP/BPR, with/without features): issue 15.5.
    if (shelf !== 'shortcuts') Object.assign(figures, shelfSpread(shelf, data));
    const report = evaluateRuns(data.eval, runs, { k: 10, resamples: 500 });
    figures[`${shelf}.users`] = report.users;
    for (const r of report.runs) {
      figures[`${shelf}.${r.name}.ndcg@10`] = Number((r.metrics['ndcg@10']?.mean ?? 0).toFixed(4));
      figures[`${shelf}.${r.name}.recall@10`] = Number((r.metrics['recall@10']?.mean ?? 0).toFixed(4));
      if (shelf === 'podcasts') figures[`${shelf}.${r.name}.newItemRecall@10`] = Number((r.beyond.newItemRecall ?? 0).toFixed(4));
    }
    const best = report.runs
      .filter((r) => r.role === 'baseline')
      .sort((a, b) => (b.metrics['ndcg@10']?.mean ?? 0) - (a.metrics['ndcg@10']?.mean ?? 0))[0];
    const c = report.runs[0]?.metrics['ndcg@10']?.mean ?? 0;
    figures[`${shelf}.liftOverBestBaseline`] =
      `${(((c - (best?.metrics['ndcg@10']?.mean ?? 0)) / (best?.metrics['ndcg@10']?.mean || 1)) * 100).toFixed(1)}% over ${best?.name}`;
  }
  // The generated public-like set (MovieLens-100k-like protocol), seeds 1-3 per variant.
  Object.assign(figures, publicLikeSpread());
  Object.assign(figures, movieLensSpread());
  // The diversity trade-off curve of the Podcasts shelf (bench/diversity.bench.ts), on the same world;
  // BENCH_MODELS_DIVERSITY=0 leaves it out (`npm run bench -- diversity` runs it alone).
  if (process.env.BENCH_MODELS_DIVERSITY !== '0')
    for (const [key, value] of Object.entries(await diversityCurve(world))) figures[`podcasts.diversity.${key}`] = value;
  return figures;
}
