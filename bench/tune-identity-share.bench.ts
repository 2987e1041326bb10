/**
 * How much an entity's identity embedding weighs beside its metadata features
 * (HybridOptions.identityShare), chosen on generated tuning data only: the four public-like tuning
 * sets (bench/_public-like.ts tuningSets(), seeds 200-203: usual, sparse, flat and steep popularity,
 * with genres), never the models bench's set (seed 100). Two measures per set and loss:
 *
 * - warm: the public-like protocol (per-item stratified 75/25, items seen in training removed);
 * - held-out items: 20% of the items leave training entirely and are known by their genres only
 *   (heldOutItems), ranked among themselves; identity dropout 0.2, as `shelves train` sets it when
 *   the item features name items without interactions.
 *
 * Variants: LightFM's normalisation (identity weight 1 / (1 + genres), the default, kept) and fixed
 * identity shares. Result (seed 1, mean of the four sets, warm / held-out): WARP LightFM 0.4852 /
 * 0.1995, share 0.5 0.4827 / 0.2036; BPR LightFM 0.4846 / 0.1978, share 0.5 0.4920 / 0.1960, and
 * with seed 2 BPR 0.4820 / 0.1951 against 0.4818 / 0.1972: no variant better on both measures, the
 * order flips with the seed, so the default stays (model bytes change only for a measured gain). `npm run bench -- tune-identity-share`; BENCH_TUNE_SHARES=0.5,0.75 picks the shares,
 * BENCH_TUNE_LOSSES=warp,bpr the losses, BENCH_TUNE_SEED=1 the seed of the fits.
 */
import { fitHybrid, type HybridOptions } from '../lib/core/models/hybrid/index.ts';
import { heldOutItems, heldOutNdcg, publicLikeNdcg, tuningSets } from './_public-like.ts';

export default async function bench(): Promise<Record<string, number | string>> {
  const shares = (process.env.BENCH_TUNE_SHARES ?? '0.5,0.75').split(',').map(Number);
  const variants: [string, HybridOptions][] = [
    ['lightfm', { identityShare: 'lightfm' }],
    ...shares.map((s) => [`share${s}`, { identityShare: s }] as [string, HybridOptions]),
  ];
  const losses = (process.env.BENCH_TUNE_LOSSES ?? 'warp,bpr').split(',') as ('warp' | 'bpr')[];
  const seed = Number(process.env.BENCH_TUNE_SEED ?? '1');
  const figures: Record<string, number | string> = { seed };
  const sets = tuningSets();
  const sums = new Map<string, { warm: number; cold: number; n: number }>();
  for (const [kind, split] of sets) {
    const withGenres = { ...split.train, itemFeatures: split.itemFeatures };
    const held = heldOutItems(split);
    for (const loss of losses) {
      figures[`${kind}.${loss}.noFeatures.warm`] = Number(publicLikeNdcg(fitHybrid(split.train, { loss, seed }), split).toFixed(4));
      for (const [name, options] of variants) {
        const warm = publicLikeNdcg(fitHybrid(withGenres, { ...options, loss, seed }), split);
        const cold = heldOutNdcg(fitHybrid(held.train, { ...options, loss, seed, identityDropout: 0.2 }), held);
        figures[`${kind}.${loss}.${name}.warm`] = Number(warm.toFixed(4));
        figures[`${kind}.${loss}.${name}.heldOut`] = Number(cold.toFixed(4));
        const s = sums.get(`${loss}.${name}`) ?? { warm: 0, cold: 0, n: 0 };
        sums.set(`${loss}.${name}`, { warm: s.warm + warm, cold: s.cold + cold, n: s.n + 1 });
        process.stderr.write(`${kind} ${loss} ${name} warm ${warm.toFixed(4)} heldOut ${cold.toFixed(4)}\n`);
      }
    }
  }
  for (const [key, s] of sums) {
    figures[`${key}.meanWarm`] = Number((s.warm / s.n).toFixed(4));
    figures[`${key}.meanHeldOut`] = Number((s.cold / s.n).toFixed(4));
  }
  return figures;
}
