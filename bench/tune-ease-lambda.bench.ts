/**
 * `npm run bench -- tune-ease-lambda`: would the shelves' EASE gain from lambda 'auto'? The shelves
 * fit EASE as a strong baseline (lib/core/models/fit.ts: fitEase(train) with the fixed λ of
 * EASE_DEFAULTS, 100). For each shelf that has one (Podcasts, Playlists), on the shelf's validation
 * window of the default world (bench/_world.ts validationData: before the evaluation cut-off, never
 * the test window): which λ lambda 'auto' chooses on the shelf's training data, how long the fixed
 * and the auto fit take (PAIRS alternating pairs, fixed then auto, every time reported), and NDCG@k
 * on the window (evaluateRuns, the tune benches' evaluation; 1,000 resamples, with auto's paired
 * difference to each other run) for the fixed λ, for 'auto' and, for reference, for every λ of
 * EASE_LAMBDA_GRID fixed (the best of which 'auto' could at most reach).
 *
 * Session 8 (2 cores, shared): 'auto' chose λ 100, the fixed one, on both shelves of the default
 * world (NDCG@10 the same: Podcasts 0.3025, Playlists 0.4657; 25 / 400 / 1600 fixed 0.3012 / 0.2906 /
 * 0.2402 and 0.4649 / 0.4560 / 0.4056) for 0.15-0.30 s against 0.03-0.24 s; also on worlds of seed
 * 7 and 99, and of 20,000 and 60,000 listeners (Podcasts 2,540 items: fixed 4.7 s, auto 11.2 s).
 * The one window that preferred another λ (Playlists at 60,000 listeners: 400, +0.0031 paired,
 * interval 0.0017..0.0046) 'auto' did not find: its split holds out random items, not the last days.
 *
 * Env: BENCH_EASE_LAMBDA_PAIRS (default 3), BENCH_EASE_LAMBDA_SHELVES (default podcasts,playlists).
 */
import type { Shelf } from '../lib/core/contract.ts';
import { evaluateRuns } from '../lib/core/eval/evaluate.ts';
import { EASE_DEFAULTS, EASE_LAMBDA_GRID, type EaseRecommender, fitEase } from '../lib/core/models/ease/index.ts';
import { STRONG_BASELINES_BY_SHELF } from '../lib/core/models/fit.ts';
import { SHELF_CONFIG } from '../lib/core/shelf-settings.ts';
import { defaultWorld, type LoadedWorld, validationData } from './_world.ts';

const PAIRS = Number(process.env.BENCH_EASE_LAMBDA_PAIRS ?? 3);
const SHELVES = (process.env.BENCH_EASE_LAMBDA_SHELVES ?? 'podcasts,playlists').split(',') as Shelf[];

function timed<T>(run: () => T): [T, number] {
  const start = process.hrtime.bigint();
  const value = run();
  return [value, Number(process.hrtime.bigint() - start) / 1e9];
}

export default async function bench(): Promise<Record<string, number | string>> {
  return easeLambdaFigures(await defaultWorld(), SHELVES, PAIRS);
}

/** The figures above for any loaded world (a scratch script can pass a larger or reseeded one). */
export function easeLambdaFigures(world: LoadedWorld, shelves: readonly Shelf[], pairs: number): Record<string, number | string> {
  const figures: Record<string, number | string> = { pairs, fixedLambda: EASE_DEFAULTS.lambda };
  for (const shelf of shelves) {
    if (!STRONG_BASELINES_BY_SHELF[shelf].includes('ease')) continue;
    const { k } = SHELF_CONFIG[shelf];
    const data = validationData(world, shelf, 'tune');
    const fixedSeconds: number[] = [];
    const autoSeconds: number[] = [];
    let fixed: EaseRecommender | undefined;
    let auto: EaseRecommender | undefined;
    for (let pair = 0; pair < pairs; pair++) {
      let seconds: number;
      [fixed, seconds] = timed(() => fitEase(data.train));
      fixedSeconds.push(seconds);
      [auto, seconds] = timed(() => fitEase(data.train, { lambda: 'auto' }));
      autoSeconds.push(seconds);
      process.stdout.write(
        `  ${shelf} pair ${pair + 1}: fixed ${fixedSeconds.at(-1)?.toFixed(3)} s, auto ${autoSeconds.at(-1)?.toFixed(3)} s\n`,
      );
    }
    if (fixed === undefined || auto === undefined) continue;
    const grid = EASE_LAMBDA_GRID.map((lambda) => ({ name: `lambda${lambda}`, recommender: fitEase(data.train, { lambda }) }));
    // 'auto' is the candidate, so the report carries its paired difference against each other run.
    const runs = [
      { name: 'auto', role: 'candidate' as const, recommender: auto },
      { name: 'fixed', role: 'baseline' as const, recommender: fixed },
      ...grid.map((r) => ({ ...r, role: 'baseline' as const })),
    ];
    const report = evaluateRuns(data.eval, runs, { k });
    const hp = auto.state.hyperparameters;
    const p = `${shelf}.`;
    figures[`${p}items`] = auto.state.itemIds.length;
    figures[`${p}featureColumns`] = auto.state.featureNames.length;
    figures[`${p}trainingUsers`] = auto.state.userIds.length;
    figures[`${p}evalUsers`] = data.eval.cases.length;
    figures[`${p}autoLambda`] = hp.lambda as number;
    figures[`${p}autoSearch`] = JSON.stringify(hp.lambdaSearch);
    figures[`${p}fixed.seconds`] = fixedSeconds.map((s) => s.toFixed(3)).join(' ');
    figures[`${p}auto.seconds`] = autoSeconds.map((s) => s.toFixed(3)).join(' ');
    const f4 = (v: number): string => v.toFixed(4);
    for (const run of report.runs) {
      const metric = run.metrics[`ndcg@${k}`];
      if (metric !== undefined) figures[`${p}ndcg@${k}.${run.name}`] = `${f4(metric.mean)} (${f4(metric.lo)}..${f4(metric.hi)})`;
    }
    for (const c of report.comparisons)
      if (c.metric === `ndcg@${k}`)
        figures[`${p}autoMinus.${c.against}`] = `${f4(c.difference.mean)} (${f4(c.difference.lo)}..${f4(c.difference.hi)})`;
  }
  return figures;
}
