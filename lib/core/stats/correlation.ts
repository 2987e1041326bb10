/**
 * Rank correlations between two measurements of the same units (here: model variants measured
 * offline and online), with percentile-bootstrap intervals.
 *
 * - `spearman`: Pearson's r of the ranks, ties given their average rank (range −1..1).
 * - `kendallTauB`: (C − D) / sqrt((C + D + Tx)(C + D + Ty)) over all pairs, where Tx counts pairs tied
 *   only in x and Ty pairs tied only in y (range −1..1; O(n²), meant for tens of units).
 * - `bootstrapCorrelation`: resamples the UNITS (pairs (x_i, y_i)) with replacement. For the
 *   offline/online study the unit is the model variant: the question is whether ranking models by an
 *   offline metric orders them as online play does, so the uncertainty that matters is which models
 *   happened to be compared. (Each variant's own measurement noise is reported beside it, as its
 *   interval over users.) A resample whose x or y is constant has no defined correlation: it is left
 *   out and counted (`undefinedResamples`).
 *
 * Both statistics are NaN when fewer than 2 units are given or either side is constant.
 */
import { InputError } from '../errors.ts';
import { Rng } from '../rng.ts';
import { percentile } from './bootstrap.ts';

export type CorrelationMethod = 'spearman' | 'kendall';

/** 1-based ranks, ties sharing their average rank (the "fractional ranking" Spearman uses). */
export function averageRanks(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => (values[a] as number) - (values[b] as number));
  const ranks = new Float64Array(n);
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && values[order[j + 1] as number] === values[order[i] as number]) j++;
    const rank = (i + j) / 2 + 1;
    for (let t = i; t <= j; t++) ranks[order[t] as number] = rank;
    i = j + 1;
  }
  return ranks;
}

/** Pearson's product-moment correlation; NaN for fewer than 2 values or a constant side. */
export function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number {
  checkPaired(x, y);
  const n = x.length;
  if (n < 2) return Number.NaN;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i] as number;
    my += y[i] as number;
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = (x[i] as number) - mx;
    const dy = (y[i] as number) - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return sxx === 0 || syy === 0 ? Number.NaN : sxy / Math.sqrt(sxx * syy);
}

/** Spearman's rank correlation (Pearson of average ranks, so ties are handled exactly). */
export function spearman(x: ArrayLike<number>, y: ArrayLike<number>): number {
  checkPaired(x, y);
  return pearson(averageRanks(x), averageRanks(y));
}

/** Kendall's tau-b (tie-corrected); NaN for fewer than 2 values or a constant side. */
export function kendallTauB(x: ArrayLike<number>, y: ArrayLike<number>): number {
  checkPaired(x, y);
  const n = x.length;
  let concordant = 0;
  let discordant = 0;
  let tiedXOnly = 0;
  let tiedYOnly = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const dx = Math.sign((x[j] as number) - (x[i] as number));
      const dy = Math.sign((y[j] as number) - (y[i] as number));
      if (dx === 0 && dy === 0) continue;
      if (dx === 0) tiedXOnly++;
      else if (dy === 0) tiedYOnly++;
      else if (dx === dy) concordant++;
      else discordant++;
    }
  }
  const denominator = Math.sqrt((concordant + discordant + tiedXOnly) * (concordant + discordant + tiedYOnly));
  return denominator === 0 ? Number.NaN : (concordant - discordant) / denominator;
}

/** The correlation by name. */
export function correlation(method: CorrelationMethod, x: ArrayLike<number>, y: ArrayLike<number>): number {
  return method === 'spearman' ? spearman(x, y) : kendallTauB(x, y);
}

export interface CorrelationInterval {
  readonly method: CorrelationMethod;
  /** The statistic on all units. */
  readonly value: number;
  readonly lo: number;
  readonly hi: number;
  readonly units: number;
  readonly resamples: number;
  /** Resamples left out because one side was constant in them. */
  readonly undefinedResamples: number;
}

export interface BootstrapCorrelationOptions {
  /** Default 2000. */
  readonly resamples?: number;
  /** Default 7. */
  readonly seed?: number;
  /** Default 0.05 (95% interval). */
  readonly alpha?: number;
}

/** Unit indices drawn with replacement, `resamples` times (seeded). */
export function resampleUnits(n: number, resamples: number, seed: number): Int32Array[] {
  const rng = new Rng(seed).fork('correlation-bootstrap');
  return Array.from({ length: resamples }, () => {
    const idx = new Int32Array(n);
    for (let i = 0; i < n; i++) idx[i] = rng.int(n);
    return idx;
  });
}

/** The statistic in every resample (NaN where undefined), aligned with `samples`. */
export function resampledCorrelations(
  method: CorrelationMethod,
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  samples: readonly Int32Array[],
): Float64Array {
  checkPaired(x, y);
  return Float64Array.from(samples, (idx) =>
    correlation(
      method,
      Float64Array.from(idx, (i) => x[i] as number),
      Float64Array.from(idx, (i) => y[i] as number),
    ),
  );
}

/** The correlation with its percentile-bootstrap interval over units. */
export function bootstrapCorrelation(
  method: CorrelationMethod,
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  options: BootstrapCorrelationOptions = {},
): CorrelationInterval {
  const resamples = options.resamples ?? 2000;
  const samples = resampleUnits(x.length, resamples, options.seed ?? 7);
  return intervalOf(method, correlation(method, x, y), resampledCorrelations(method, x, y, samples), options.alpha ?? 0.05, x.length);
}

function intervalOf(method: CorrelationMethod, value: number, resampled: Float64Array, alpha: number, units: number): CorrelationInterval {
  const defined = resampled.filter((v) => !Number.isNaN(v)).sort();
  return {
    method,
    value,
    lo: defined.length === 0 ? Number.NaN : percentile(defined, alpha / 2),
    hi: defined.length === 0 ? Number.NaN : percentile(defined, 1 - alpha / 2),
    units,
    resamples: resampled.length,
    undefinedResamples: resampled.length - defined.length,
  };
}

export interface PredictorScore {
  readonly predictor: string;
  readonly correlation: CorrelationInterval;
}

export interface PredictorRanking {
  /** Every predictor, the highest correlation with the outcome first (ties: name order). */
  readonly ranked: readonly PredictorScore[];
  /** Predictors whose correlation equals the best's exactly (they order the units the same way), best included. */
  readonly tiedWithBest: readonly string[];
  /**
   * The best predictor's correlation minus the runner-up's (the first predictor not tied with it),
   * over the SAME resamples of units (paired), with its interval; null when there is no such
   * predictor. An interval above 0 says the best one is better beyond the noise of which units were sampled.
   */
  readonly marginOverRunnerUp: { readonly runnerUp: string; readonly value: number; readonly lo: number; readonly hi: number } | null;
}

/**
 * Ranks candidate predictors (e.g. offline metrics) by their correlation with one outcome (e.g. online
 * play rate) over the same units, each with its bootstrap interval, and the paired margin of the best.
 */
export function rankPredictors(
  method: CorrelationMethod,
  predictors: Readonly<Record<string, ArrayLike<number>>>,
  outcome: ArrayLike<number>,
  options: BootstrapCorrelationOptions = {},
): PredictorRanking {
  const resamples = options.resamples ?? 2000;
  const alpha = options.alpha ?? 0.05;
  const samples = resampleUnits(outcome.length, resamples, options.seed ?? 7);
  const scored = Object.entries(predictors).map(([predictor, values]) => {
    const resampled = resampledCorrelations(method, values, outcome, samples);
    return {
      predictor,
      resampled,
      correlation: intervalOf(method, correlation(method, values, outcome), Float64Array.from(resampled), alpha, outcome.length),
    };
  });
  const key = (v: number): number => (Number.isNaN(v) ? -Infinity : v);
  scored.sort((a, b) => key(b.correlation.value) - key(a.correlation.value) || (a.predictor < b.predictor ? -1 : 1));
  const best = scored[0];
  const tied = scored.filter((p) => best !== undefined && p.correlation.value === best.correlation.value).map((p) => p.predictor);
  const second = scored.find((p) => !tied.includes(p.predictor));
  let margin: PredictorRanking['marginOverRunnerUp'] = null;
  if (best !== undefined && second !== undefined) {
    const diffs = Float64Array.from(best.resampled, (v, b) => v - (second.resampled[b] as number))
      .filter((v) => !Number.isNaN(v))
      .sort();
    margin = {
      runnerUp: second.predictor,
      value: best.correlation.value - second.correlation.value,
      lo: diffs.length === 0 ? Number.NaN : percentile(diffs, alpha / 2),
      hi: diffs.length === 0 ? Number.NaN : percentile(diffs, 1 - alpha / 2),
    };
  }
  return {
    ranked: scored.map(({ predictor, correlation: c }) => ({ predictor, correlation: c })),
    tiedWithBest: tied,
    marginOverRunnerUp: margin,
  };
}

function checkPaired(x: ArrayLike<number>, y: ArrayLike<number>): void {
  if (x.length !== y.length)
    throw new InputError(`correlation needs paired values: got ${x.length} x values and ${y.length} y values; expected equal lengths`);
}
