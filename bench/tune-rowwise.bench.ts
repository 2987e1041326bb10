/**
 * Row-wise Adagrad (HybridOptions.optimizer 'adagrad-rowwise': one accumulator per feature row) against
 * the per-dimension Adagrad the defaults were tuned with: the quality it costs or not, and whether it
 * wants another learning rate, chosen on validation data only:
 *
 * - the four generated tuning sets (bench/_public-like.ts tuningSets(), seeds 200-203; never the
 *   models bench's set, seed 100), default epochs (20) and early stopping;
 * - the Podcasts and Playlists shelves' validation windows (bench/_world.ts validationData; never the
 *   test window the models bench reports), the shelves' settings (shelfHybridSettings: identity
 *   dropout with features, identity share) and 40 epochs;
 * - part `heldOut` (not in the default parts): the tuning sets' held-out-items protocol (20% of the
 *   items known only by their genres; identity dropout 0.2), WARP and BPR with features.
 *
 * For WARP and BPR, with and without features (the tuning sets have item features only; the shelves
 * both sides), seeds 1-3 (BENCH_RW_SEEDS), mean NDCG@10 per variant: `adagrad` (the default),
 * `rowwise` (the same learning rate) and `rowwise.lrX` (the default learning rate times X); on request
 * `adagrad.lrX` (per-dimension Adagrad at X times its rate, a reference).
 *
 * `npm run bench -- tune-rowwise`; BENCH_RW_VARIANTS=name,name (default: adagrad, rowwise and rowwise.lrX), BENCH_RW_PARTS=
 * generated,podcasts,playlists, BENCH_RW_LOSSES=warp,bpr, BENCH_RW_FEATURES=with,without.
 */
import type { Shelf } from '../lib/core/contract.ts';
import { evaluateRuns } from '../lib/core/eval/evaluate.ts';
import { defaultLearningRate, fitHybrid, type HybridOptimizer, type HybridOptions } from '../lib/core/models/hybrid/fit.ts';
import type { HybridRecommender } from '../lib/core/models/hybrid/model.ts';
import type { TrainingData } from '../lib/core/models/recommender.ts';
import { SHELF_CONFIG, shelfHybridSettings } from '../lib/core/shelf-settings.ts';
import { heldOutItems, heldOutNdcg, publicLikeNdcg, tuningSets } from './_public-like.ts';
import { defaultWorld, validationData } from './_world.ts';

const list = (name: string, fallback: string): string[] => (process.env[name] ?? fallback).split(',').filter((x) => x !== '');
const SEEDS = list('BENCH_RW_SEEDS', '1,2,3').map(Number);

/** The variants: an optimizer and a multiplier of the default learning rate. */
const VARIANTS: Record<string, { readonly optimizer: HybridOptimizer; readonly rate: number }> = {
  adagrad: { optimizer: 'adagrad', rate: 1 },
  rowwise: { optimizer: 'adagrad-rowwise', rate: 1 },
  'rowwise.lr0.7': { optimizer: 'adagrad-rowwise', rate: 0.7 },
  'rowwise.lr1.5': { optimizer: 'adagrad-rowwise', rate: 1.5 },
  'rowwise.lr2': { optimizer: 'adagrad-rowwise', rate: 2 },
  // References: whether a higher rate helps per-dimension Adagrad as much (then it is about the rate,
  // not the optimizer). Not in the default list.
  'adagrad.lr1.5': { optimizer: 'adagrad', rate: 1.5 },
  'adagrad.lr2': { optimizer: 'adagrad', rate: 2 },
};
const DEFAULT_VARIANTS = 'adagrad,rowwise,rowwise.lr0.7,rowwise.lr1.5,rowwise.lr2';

const withoutFeatures = (data: TrainingData): TrainingData => ({ ...data, itemFeatures: undefined, userFeatures: undefined });

const epochsRun = (m: HybridRecommender): number => (m.save().manifest.extra.training as { epochsRun: number }).epochsRun;

/** The options of one variant for one loss, on data with or without metadata features. */
function optionsOf(name: string, loss: 'warp' | 'bpr', features: boolean): HybridOptions {
  const v = VARIANTS[name];
  if (v === undefined) throw new RangeError(`variant ${name}, expected one of ${Object.keys(VARIANTS).join(', ')}`);
  // The default rate of per-dimension Adagrad (the one the defaults were tuned for), scaled.
  return { loss, optimizer: v.optimizer, learningRate: defaultLearningRate({ loss, optimizer: 'adagrad' }, features) * v.rate };
}

export default async function bench(): Promise<Record<string, number | string>> {
  const figures: Record<string, number | string> = {};
  const parts = list('BENCH_RW_PARTS', 'generated,podcasts,playlists');
  const names = list('BENCH_RW_VARIANTS', DEFAULT_VARIANTS);
  const losses = list('BENCH_RW_LOSSES', 'warp,bpr') as ('warp' | 'bpr')[];
  const featureSides = list('BENCH_RW_FEATURES', 'with,without').map((f) => f === 'with');
  const log = (line: string): void => {
    process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
  };
  /** table[part][loss/features][variant] = mean NDCG@10 (mean epochs run). */
  const table = new Map<string, Map<string, Map<string, string>>>();
  const cell = (part: string, row: string, name: string, value: string): void => {
    const rows = table.get(part) ?? new Map<string, Map<string, string>>();
    table.set(part, rows);
    const cells = rows.get(row) ?? new Map<string, string>();
    rows.set(row, cells);
    cells.set(name, value);
  };
  const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

  if (parts.includes('generated')) {
    const sets = tuningSets();
    for (const loss of losses)
      for (const features of featureSides)
        for (const name of names) {
          const values: number[] = [];
          const epochs: number[] = [];
          for (const [kind, split] of sets) {
            const train = features ? { ...split.train, itemFeatures: split.itemFeatures } : split.train;
            for (const seed of SEEDS) {
              const model = fitHybrid(train, { ...optionsOf(name, loss, features), seed });
              const ndcg = publicLikeNdcg(model, split);
              figures[`generated.${kind}.${loss}.${features ? 'features' : 'bare'}.${name}.seed${seed}`] = Number(ndcg.toFixed(4));
              values.push(ndcg);
              epochs.push(epochsRun(model));
            }
          }
          const row = `${loss} ${features ? 'with' : 'without'} features`;
          figures[`generated.${loss}.${features ? 'features' : 'bare'}.${name}.meanNdcg@10`] = Number(mean(values).toFixed(4));
          cell('generated (4 tuning sets)', row, name, `${mean(values).toFixed(4)} (${mean(epochs).toFixed(1)} ep)`);
          log(`generated ${row} ${name} ${mean(values).toFixed(4)} epochs ${mean(epochs).toFixed(1)}`);
        }
  }

  // Items known only by their features: what the metadata embeddings (rows shared by many items, whose
  // one row-wise accumulator sums every item's updates) learn on their own.
  if (parts.includes('heldOut')) {
    const held = tuningSets().map(([kind, split]) => [kind, heldOutItems(split)] as const);
    for (const loss of losses)
      for (const name of names) {
        const values: number[] = [];
        for (const [kind, split] of held)
          for (const seed of SEEDS) {
            const model = fitHybrid(split.train, { ...optionsOf(name, loss, true), seed, identityDropout: 0.2 });
            const ndcg = heldOutNdcg(model, split);
            figures[`heldOut.${kind}.${loss}.${name}.seed${seed}`] = Number(ndcg.toFixed(4));
            values.push(ndcg);
          }
        figures[`heldOut.${loss}.${name}.meanNdcg@10`] = Number(mean(values).toFixed(4));
        cell('held-out items (4 tuning sets, genres only)', `${loss} with features, dropout 0.2`, name, mean(values).toFixed(4));
        log(`heldOut ${loss} ${name} ${mean(values).toFixed(4)}`);
      }
  }

  const shelves = (['podcasts', 'playlists'] as Shelf[]).filter((s) => parts.includes(s));
  const world = shelves.length > 0 ? await defaultWorld() : undefined;
  for (const shelf of shelves) {
    if (world === undefined) break;
    const data = validationData(world, shelf, 'tune-rowwise');
    const k = SHELF_CONFIG[shelf].k;
    const { identityDropout, ...share } = shelfHybridSettings(shelf);
    figures[`${shelf}.validation.users`] = data.eval.cases.length;
    for (const loss of losses)
      for (const features of featureSides)
        for (const name of names) {
          const epochs: number[] = [];
          const runs = SEEDS.map((seed) => {
            const model = fitHybrid(features ? data.train : withoutFeatures(data.train), {
              ...optionsOf(name, loss, features),
              ...share,
              seed,
              epochs: 40,
              identityDropout: features ? identityDropout : 0,
            });
            if (features) model.indexItems(data.itemFeatures);
            epochs.push(epochsRun(model));
            return { name: `seed${seed}`, role: 'candidate' as const, recommender: model };
          });
          const report = evaluateRuns(data.eval, runs, { k, resamples: 20 });
          const values = report.runs.map((r) => r.metrics[`ndcg@${k}`]?.mean ?? 0);
          const row = `${loss} ${features ? 'with' : 'without'} features`;
          const key = `${shelf}.${loss}.${features ? 'features' : 'bare'}.${name}`;
          figures[`${key}.ndcg@${k}`] = Number(mean(values).toFixed(4));
          figures[`${key}.perSeed`] = values.map((x) => x.toFixed(4)).join(' / ');
          cell(`${shelf} (validation window)`, row, name, `${mean(values).toFixed(4)} (${mean(epochs).toFixed(1)} ep)`);
          log(`${shelf} ${row} ${name} ${mean(values).toFixed(4)} (${figures[`${key}.perSeed`]}) epochs ${mean(epochs).toFixed(1)}`);
        }
  }

  // The table: per part, a row per loss and features, a column per variant.
  const lines: string[] = [];
  for (const [part, rows] of table) {
    lines.push('', `${part}: mean NDCG@10 over seeds ${SEEDS.join(', ')} (mean epochs run)`, '');
    lines.push(`| | ${names.join(' | ')} |`, `|---|${names.map(() => '---').join('|')}|`);
    for (const [row, cells] of rows) lines.push(`| ${row} | ${names.map((n) => cells.get(n) ?? '').join(' | ')} |`);
  }
  process.stderr.write(`${lines.join('\n')}\n`);
  return figures;
}
