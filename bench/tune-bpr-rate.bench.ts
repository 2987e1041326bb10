/**
 * BPR's default learning rate on data without metadata features (lib/core/models/hybrid/fit.ts,
 * BPR_RATE_WITHOUT_FEATURES), chosen on generated tuning data only: the public-like sets of
 * tune.bench.ts (seeds 200-203: usual, sparse, flat and steep popularity) without their genres, seeds
 * 1 and 2, never the models bench's set (seed 100). The rule of the other rates: the rate with the
 * best mean NDCG@10 over every (set, seed). WARP at its default rate is reported beside it.
 *
 * Why a rate of its own: BPR's 0.1 was chosen with genres, where an item's identity embedding weighs
 * 1/(1 + genres) in its representation; without features every step lands on the identity whole.
 *
 * `npm run bench -- tune-bpr-rate`.
 */
import { fitHybrid, type HybridOptions } from '../lib/core/models/hybrid/index.ts';
import { publicLikeNdcg, tuningSets } from './_public-like.ts';

const RATES = [0.05, 0.07, 0.1];
const SEEDS = [1, 2];

export default async function bench(): Promise<Record<string, number | string>> {
  const figures: Record<string, number | string> = {};
  const sets = tuningSets();
  const meanOf = (name: string, options: HybridOptions): number => {
    let total = 0;
    for (const [kind, split] of sets)
      for (const seed of SEEDS) {
        const ndcg = publicLikeNdcg(fitHybrid(split.train, { ...options, seed }), split);
        figures[`${kind}.${name}.seed${seed}.ndcg@10`] = Number(ndcg.toFixed(4));
        total += ndcg;
      }
    const mean = total / (sets.length * SEEDS.length);
    figures[`${name}.meanNdcg@10`] = Number(mean.toFixed(4));
    return mean;
  };
  let best = { rate: 0, mean: -1 };
  for (const learningRate of RATES) {
    const mean = meanOf(`bpr.lr${learningRate}`, { loss: 'bpr', learningRate });
    if (mean > best.mean) best = { rate: learningRate, mean };
  }
  meanOf('warp.default', { loss: 'warp' });
  figures['bpr.chosenLearningRateWithoutFeatures'] = best.rate;
  return figures;
}
