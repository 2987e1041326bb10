/**
 * How the hybrid scores items known only by their features (held out of training entirely):
 * HybridOptions.coldItems, chosen on validation data only: MovieLens 100k's inner split
 * (MOVIELENS_100K; heldOutItems of the 80/20 split of the training part) and the four generated
 * tuning sets (heldOutItems of tuningSets()), never the test split. Each fit (coldItems 'embeddings')
 * is scored under every variant, the least-squares map being post-processing of the same fit:
 *
 * - trained: the trained feature embeddings summed (LightFM's way; the map off);
 * - ls λ: the least-squares map of cold-items.ts at ridge λ (the default's is COLD_ITEMS_LAMBDA).
 *
 * Warm: publicLikeNdcg on the inner split with genres, the map off against the default (the map only
 * rewrites feature-only items, so warm figures move only through items without training interactions).
 * `npm run bench -- tune-cold-items`; BENCH_COLD_SEEDS=1,2,3, BENCH_COLD_DROPOUTS=0.2,0,
 * BENCH_COLD_GENERATED=1 (0: skip the generated sets), BENCH_COLD_LOSS=bpr (BPR fits), BENCH_COLD_PODCASTS=1 adds the Podcasts shelf's
 * validation window (NDCG and new-item recall, map off against the default), BENCH_COLD_TEST=1 reports the test split's
 * held-out items once (after the choice; never used to choose).
 */
import { fitHybrid, HybridRecommender, type HybridOptions, type HybridState } from '../lib/core/models/hybrid/index.ts';
import { type ColdItemOptions, withColdItems } from '../lib/core/models/hybrid/cold-items.ts';
import { evaluateRuns } from '../lib/core/eval/evaluate.ts';
import { SHELF_CONFIG } from '../lib/core/shelf-settings.ts';
import { movieLens100k } from './_movielens.ts';
import { defaultWorld, validationData } from './_world.ts';
import { heldOutItems, heldOutNdcg, publicLikeNdcg, tuningSets, type HeldOutItemsSplit, type PublicLikeSplit } from './_public-like.ts';

const LAMBDAS = (process.env.BENCH_COLD_LAMBDAS ?? '10,30').split(',').map(Number);
const BLENDS = (process.env.BENCH_COLD_BLENDS ?? '0,0.3,0.5,0.7').split(',').map(Number);
/**
 * Probes (BENCH_COLD_PROBES=probe,...) beside the λ × blend grid: each a `+`-joined list of map
 * options, e.g. `pairs=10+blend=0.3` (pairs=λ: feature pairs at that ridge; nopairs; lambda=, blend=,
 * mu=); `default` is the default. Probes measured and removed (user and item weights, split
 * calibration, confidence-weighted positives, per-fit choice on a slice of warm items): see
 * COLD_ITEMS_LAMBDA in cold-items.ts.
 */
function probeOptions(probe: string): ColdItemOptions {
  const o: Record<string, unknown> = {};
  for (const part of probe.split('+')) {
    const [key, value] = part.split('=');
    const x = Number(value);
    if (key === 'default') continue;
    else if (key === 'pairs') Object.assign(o, { pairs: true, lambdaPairs: x });
    else if (key === 'nopairs') o.pairs = false;
    else if (key === 'lambda') o.lambda = x;
    else if (key === 'blend') o.blend = x;
    else if (key === 'mu') o.mu = x;
    else throw new Error(`BENCH_COLD_PROBES: unknown part ${part} in ${probe}`);
  }
  return o as ColdItemOptions;
}
/** BENCH_COLD_LOSS=bpr: every fit with BPR (default WARP). */
const LOSS = process.env.BENCH_COLD_LOSS === 'bpr' ? 'bpr' : 'warp';
const probes = (process.env.BENCH_COLD_PROBES ?? '').split(',').filter((p) => p !== '');

export default async function bench(): Promise<Record<string, number | string>> {
  const seeds = (process.env.BENCH_COLD_SEEDS ?? '1,2,3').split(',').map(Number);
  const dropouts = (process.env.BENCH_COLD_DROPOUTS ?? '0.2,0').split(',').map(Number);
  const figures: Record<string, number | string> = {};
  const sums = new Map<string, number[]>();
  const record = (key: string, value: number): void => {
    figures[key] = Number(value.toFixed(4));
    process.stderr.write(`${key} ${value.toFixed(4)}\n`);
  };
  const scoreAll = (set: string, prefix: string, split: PublicLikeSplit, held: HeldOutItemsSplit, options: HybridOptions): void => {
    const t0 = performance.now();
    const model = fitHybrid(held.train, { ...options, coldItems: 'embeddings' });
    const fitted = performance.now() - t0;
    const state = model.currentState();
    const variants: [string, () => HybridState][] = [
      ['trained', () => state],
      ...LAMBDAS.flatMap((lambda) =>
        BLENDS.map(
          (blend) =>
            [
              `both${lambda}.blend${blend}`,
              () => withColdItems(state, split.itemFeatures, held.train.interactions, { lambda, space: 'both', blend }),
            ] as [string, () => HybridState],
        ),
      ),
      ...probes.map((probe): [string, () => HybridState] => {
        const options = probeOptions(probe);
        return [probe, () => withColdItems(state, split.itemFeatures, held.train.interactions, options)];
      }),
    ];
    for (const [name, variant] of variants) {
      const t1 = performance.now();
      const s = variant();
      const mapped = performance.now() - t1;
      const value = heldOutNdcg(new HybridRecommender(s), held);
      record(`${prefix}.${name}`, value);
      if (name !== 'trained') figures[`${prefix}.${name}.ms`] = Math.round(mapped);
      const key = `${set}.d${options.identityDropout}.${name}`;
      sums.set(key, [...(sums.get(key) ?? []), value]);
    }
    figures[`${prefix}.fitMs`] = Math.round(fitted);
  };
  const loaded = movieLens100k();
  // BENCH_COLD_PAIRS=1: every pair of an item's features as one more feature (a probe; not a default).
  const ml =
    loaded === undefined || process.env.BENCH_COLD_PAIRS !== '1'
      ? loaded
      : { test: withPairs(loaded.test), inner: withPairs(loaded.inner) };
  if (ml !== undefined) {
    const held = heldOutItems(ml.inner, 0.2, 7);
    for (const dropout of dropouts)
      for (const seed of seeds) scoreAll('ml', `ml.d${dropout}.s${seed}`, ml.inner, held, { loss: LOSS, seed, identityDropout: dropout });
    // Warm: the map off against the default, with genres, no item held out.
    const withGenres: PublicLikeSplit['train'] = { ...ml.inner.train, itemFeatures: ml.inner.itemFeatures };
    for (const seed of seeds.slice(0, 1)) {
      record(
        `ml.warm.s${seed}.trained`,
        publicLikeNdcg(fitHybrid(withGenres, { loss: LOSS, seed, identityDropout: 0.2, coldItems: 'embeddings' }), ml.inner),
      );
      record(`ml.warm.s${seed}.default`, publicLikeNdcg(fitHybrid(withGenres, { loss: LOSS, seed, identityDropout: 0.2 }), ml.inner));
    }
    if (process.env.BENCH_COLD_TEST === '1') {
      const heldTest = heldOutItems(ml.test, 0.2, 7);
      for (const seed of seeds) {
        record(`ml.test.s${seed}.default`, heldOutNdcg(fitHybrid(heldTest.train, { loss: LOSS, seed, identityDropout: 0.2 }), heldTest));
        record(
          `ml.test.s${seed}.trained`,
          heldOutNdcg(fitHybrid(heldTest.train, { loss: LOSS, seed, identityDropout: 0.2, coldItems: 'embeddings' }), heldTest),
        );
      }
    }
  } else process.stderr.write('MOVIELENS_100K unset: MovieLens skipped\n');
  if (process.env.BENCH_COLD_PODCASTS === '1') {
    // The Podcasts shelf's validation window (tune.bench.ts' protocol; never its test window), its
    // settings (dropout, epochs): NDCG@k and new-item recall@k, the map off against the default.
    const world = await defaultWorld();
    const { k, hyperparameters } = SHELF_CONFIG.podcasts;
    const data = validationData(world, 'podcasts', 'tune');
    for (const [name, coldItems] of [
      ['trained', 'embeddings'],
      ['default', 'least-squares'],
    ] as const) {
      const runs = seeds.slice(0, 2).map((seed) => {
        const model = fitHybrid(data.train, {
          seed,
          epochs: Number(hyperparameters.epochs ?? 40),
          identityDropout: Number(hyperparameters.identityDropout ?? 0),
          coldItems,
        });
        model.indexItems(data.itemFeatures);
        return { name: `seed${seed}`, role: 'candidate' as const, recommender: model };
      });
      const report = evaluateRuns(data.eval, runs, { k, resamples: 20 });
      report.runs.forEach((r, n) => {
        record(`podcasts.${name}.s${seeds[n]}.ndcg@${k}`, r.metrics[`ndcg@${k}`]?.mean ?? 0);
        record(`podcasts.${name}.s${seeds[n]}.newItemRecall@${k}`, r.beyond.newItemRecall ?? 0);
      });
    }
  }
  if (process.env.BENCH_COLD_GENERATED !== '0') {
    for (const [kind, split] of tuningSets())
      scoreAll('gen', `gen.${kind}`, split, heldOutItems(split), { loss: LOSS, seed: seeds[0] ?? 1, identityDropout: 0.2 });
  }
  for (const [key, list] of sums) record(`mean.${key}`, list.reduce((a, b) => a + b, 0) / list.length);
  return figures;
}

/** The split with each item's feature pairs added as features `pair:a+b`. */
function withPairs(split: PublicLikeSplit): PublicLikeSplit {
  const itemFeatures = new Map(
    [...split.itemFeatures].map(([id, fs]) => [
      id,
      [...fs, ...fs.flatMap(([a], k) => fs.slice(k + 1).map(([b]) => [`pair:${a}+${b}`, 1] as const))],
    ]),
  );
  return { ...split, itemFeatures };
}
