/**
 * The hybrid's minimum epochs before early stopping may stop (HybridOptions.minEpochs), chosen on
 * generated tuning data only: the public-like sets of tune.bench.ts (seeds 200-203: usual density,
 * sparse 40 per user, flat and steep popularity), with their genres and without, never the models
 * bench's set (seed 100) nor the shelves' test windows.
 *
 * Each candidate is fitted with both losses at their default rates and at a low rate, where the
 * early plateau stops runs (BPR 0.05; WARP 0.02), over two seeds. The rule: among the candidates that
 * cost no default setting (each loss at its default rate, with and without genres) more than 0.5% of
 * its mean NDCG@10 without a minimum, the one with the best mean NDCG@10 over every (set, features,
 * loss and rate, seed); a larger minimum is taken only when it beats a smaller one by at least 0.001
 * (it costs epochs). Why the constraint: a guard for low rates must not cost what users get by
 * default; running past the plateau also lets early stopping pick a later epoch whose validation is
 * higher by noise (BPR at its default rate without genres: 0.4507 with no minimum, 0.4418 with 12).
 * Also reported per candidate: the worst run (the plateau's victims) and the mean epochs run (the cost).
 *
 * A fit with minimum M is the fit with minimum 1 whenever that one ran at least M epochs (the same
 * steps, and stopping is the only difference), so only the runs that stopped earlier are fitted again.
 *
 * `npm run bench -- tune-min-epochs`; BENCH_MIN_EPOCHS_SEEDS (default "1,2").
 */
import { fitHybrid } from '../lib/core/models/hybrid/index.ts';
import type { HybridRecommender } from '../lib/core/models/hybrid/model.ts';
import { publicLikeNdcg, tuningSets } from './_public-like.ts';

const CANDIDATES = [1, 5, 8, 12];
const SETTINGS = [
  { loss: 'bpr', learningRate: 0.05 },
  { loss: 'bpr', learningRate: 0.1 },
  { loss: 'warp', learningRate: 0.02 },
  { loss: 'warp', learningRate: 0.05 },
] as const;

const epochsRun = (m: HybridRecommender): number => (m.save().manifest.extra.training as { epochsRun: number }).epochsRun;

export default async function bench(): Promise<Record<string, number | string>> {
  const seeds = (process.env.BENCH_MIN_EPOCHS_SEEDS ?? '1,2').split(',').map(Number);
  const figures: Record<string, number | string> = {};
  const sets = tuningSets();
  const runs: { setting: string; isDefault: boolean; minEpochs: number; ndcg: number; epochs: number }[] = [];
  for (const [kind, split] of sets)
    for (const features of [true, false])
      for (const { loss, learningRate } of SETTINGS)
        for (const seed of seeds) {
          const data = features ? { ...split.train, itemFeatures: split.itemFeatures } : split.train;
          const setting = `${features ? 'genres' : 'none'}.${loss}.lr${learningRate}`;
          const isDefault = learningRate === (loss === 'warp' ? 0.05 : 0.1);
          let reference: { ndcg: number; epochs: number } | undefined;
          for (const minEpochs of CANDIDATES) {
            // Same steps as the minimum-1 fit while it ran: only fit again when it stopped before minEpochs.
            if (reference === undefined || reference.epochs < minEpochs) {
              const model = fitHybrid(data, { loss, learningRate, seed, minEpochs });
              reference = { ndcg: publicLikeNdcg(model, split), epochs: epochsRun(model) };
            }
            runs.push({ setting, isDefault, minEpochs, ...reference });
            figures[`${kind}.${setting}.seed${seed}.min${minEpochs}.ndcg@10`] = Number(reference.ndcg.toFixed(4));
            figures[`${kind}.${setting}.seed${seed}.min${minEpochs}.epochsRun`] = reference.epochs;
          }
        }
  const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  const defaults = [...new Set(runs.filter((r) => r.isDefault).map((r) => r.setting))];
  const settingMean = (setting: string, minEpochs: number): number =>
    mean(runs.filter((r) => r.setting === setting && r.minEpochs === minEpochs).map((r) => r.ndcg));
  let chosen: { minEpochs: number; mean: number } | undefined;
  for (const minEpochs of CANDIDATES) {
    const mine = runs.filter((r) => r.minEpochs === minEpochs);
    const m = mean(mine.map((r) => r.ndcg));
    figures[`min${minEpochs}.meanNdcg@10`] = Number(m.toFixed(4));
    figures[`min${minEpochs}.worstNdcg@10`] = Number(Math.min(...mine.map((r) => r.ndcg)).toFixed(4));
    figures[`min${minEpochs}.meanEpochsRun`] = Number(mean(mine.map((r) => r.epochs)).toFixed(2));
    let admissible = true;
    for (const setting of defaults) {
      const change = settingMean(setting, minEpochs) / settingMean(setting, CANDIDATES[0] as number) - 1;
      figures[`min${minEpochs}.${setting}.change`] = Number(change.toFixed(4));
      if (change < -0.005) admissible = false;
    }
    figures[`min${minEpochs}.admissible`] = admissible ? 1 : 0;
    if (admissible && (chosen === undefined || m >= chosen.mean + 0.001)) chosen = { minEpochs, mean: m };
  }
  figures.chosenMinEpochs = chosen?.minEpochs ?? 1;
  return figures;
}
