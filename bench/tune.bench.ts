/**
 * Choosing the hybrid's identity dropout without looking at test data: on the default world, the
 * evaluation cut-off's data is cut off, and a validation window of the same length just before it
 * plays the test window (train before cutoff - testDays, validate on [cutoff - testDays, cutoff)).
 * Each setting is fitted with three seeds; the rule: among settings whose mean NDCG@10 is within 2%
 * of the best mean, take the one with the highest mean new-item recall@10 (ties: the smaller
 * dropout). The chosen values are the shelves' defaults in lib/core/shelf-settings.ts.
 *
 * The hybrid's default learning rate per loss (lib/core/models/hybrid/fit.ts) is chosen the same way
 * on generated data of several kinds, never the models bench's set: public-like sets (bench/_public-like.ts)
 * with seeds of their own, at the usual density and skew, sparser (40 interactions per user), and with
 * flatter and steeper popularity; the rule: the rate with the best mean NDCG@10 over the kinds. BPR's
 * rate and its negatives per positive (HybridOptions.bprNegatives) are chosen as a pair on the same
 * sets, by the same rule.
 */
import type { Shelf } from '../lib/core/contract.ts';
import { evaluateRuns } from '../lib/core/eval/evaluate.ts';
import { fitHybrid } from '../lib/core/models/hybrid/index.ts';
import { SHELF_CONFIG } from '../lib/core/shelf-settings.ts';
import { publicLikeNdcg, tuningSets } from './_public-like.ts';
import { defaultWorld, validationData } from './_world.ts';

const GRID = [0, 0.1, 0.2, 0.4];
const SEEDS = [1, 2, 3];

const RATES = [0.05, 0.1, 0.15, 0.2];

/** WARP's learning rate, chosen on generated tuning sets (seeds 200+, not the models bench's 100). */
export function tuneLearningRates(figures: Record<string, number | string>): void {
  const sets = tuningSets();
  // BPR's rate is chosen together with its negatives per positive (tuneBprNegatives).
  for (const loss of ['warp'] as const) {
    const means = RATES.map((learningRate) => {
      let total = 0;
      for (const [kind, split] of sets) {
        const ndcg = publicLikeNdcg(
          fitHybrid({ ...split.train, itemFeatures: split.itemFeatures }, { loss, learningRate, seed: 1 }),
          split,
        );
        figures[`generated.${kind}.${loss}.lr${learningRate}.ndcg@10`] = Number(ndcg.toFixed(4));
        total += ndcg;
      }
      return total / sets.length;
    });
    const best = means.indexOf(Math.max(...means));
    figures[`generated.${loss}.chosenLearningRate`] = RATES[best] as number;
  }
}

const BPR_NEGATIVES = [1, 3, 5, 10];
const BPR_RATES = [0.05, 0.1, 0.15];

/**
 * BPR's negatives per positive and learning rate, chosen together on the same generated tuning sets
 * (the more negatives, the harder the chosen one and the larger its gradient, so the best rate moves
 * with the count); the rule: the pair with the best mean NDCG@10 over the kinds.
 */
export function tuneBprNegatives(figures: Record<string, number | string>): void {
  const sets = tuningSets();
  let best = { mean: -1, bprNegatives: 0, learningRate: 0 };
  for (const bprNegatives of BPR_NEGATIVES)
    for (const learningRate of BPR_RATES) {
      let total = 0;
      for (const [kind, split] of sets) {
        const ndcg = publicLikeNdcg(
          fitHybrid({ ...split.train, itemFeatures: split.itemFeatures }, { loss: 'bpr', bprNegatives, learningRate, seed: 1 }),
          split,
        );
        figures[`generated.${kind}.bpr.negatives${bprNegatives}.lr${learningRate}.ndcg@10`] = Number(ndcg.toFixed(4));
        total += ndcg;
      }
      const mean = total / sets.length;
      figures[`generated.bpr.negatives${bprNegatives}.lr${learningRate}.meanNdcg@10`] = Number(mean.toFixed(4));
      if (mean > best.mean) best = { mean, bprNegatives, learningRate };
    }
  figures['generated.bpr.chosenNegatives'] = best.bprNegatives;
  figures['generated.bpr.chosenLearningRate'] = best.learningRate;
}

export default async function bench(): Promise<Record<string, number | string>> {
  const world = await defaultWorld();
  const figures: Record<string, number | string> = {};
  if (process.env.BENCH_TUNE_RATES !== '0') tuneLearningRates(figures);
  if (process.env.BENCH_TUNE_BPR !== '0') tuneBprNegatives(figures);
  for (const shelf of ['podcasts', 'playlists'] as Shelf[]) {
    const { k } = SHELF_CONFIG[shelf];
    const data = validationData(world, shelf, 'tune');
    const results: { dropout: number; ndcg: number; newItemRecall: number }[] = [];
    for (const dropout of GRID) {
      const runs = SEEDS.map((seed) => {
        const model = fitHybrid(data.train, { epochs: 40, seed, identityDropout: dropout });
        model.indexItems(data.itemFeatures);
        return { name: `seed${seed}`, role: 'candidate' as const, recommender: model };
      });
      const report = evaluateRuns(data.eval, runs, { k, resamples: 50 });
      const mean = (f: (r: (typeof report.runs)[number]) => number): number =>
        report.runs.reduce((s, r) => s + f(r), 0) / report.runs.length;
      const ndcg = mean((r) => r.metrics[`ndcg@${k}`]?.mean ?? 0);
      const newItemRecall = mean((r) => r.beyond.newItemRecall ?? 0);
      results.push({ dropout, ndcg, newItemRecall });
      figures[`${shelf}.validation.dropout${dropout}.ndcg@${k}`] = Number(ndcg.toFixed(4));
      figures[`${shelf}.validation.dropout${dropout}.newItemRecall@${k}`] = Number(newItemRecall.toFixed(4));
    }
    const bestNdcg = Math.max(...results.map((r) => r.ndcg));
    const chosen = results
      .filter((r) => r.ndcg >= 0.98 * bestNdcg)
      .sort((a, b) => b.newItemRecall - a.newItemRecall || a.dropout - b.dropout)[0];
    figures[`${shelf}.validation.users`] = data.eval.cases.length;
    figures[`${shelf}.chosenIdentityDropout`] = chosen?.dropout ?? 0;
    figures[`${shelf}.configuredIdentityDropout`] = Number(SHELF_CONFIG[shelf].hyperparameters.identityDropout ?? 0);
  }
  return figures;
}
