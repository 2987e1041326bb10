/**
 * Paired comparison of two runs over the SAME users: the per-user difference a − b with its bootstrap
 * interval, and the relative lift (mean a − mean b) / mean b with its interval, both computed on the
 * same resamples. Resamples whose baseline mean is 0 have no defined lift and are left out of the
 * lift's interval; when the baseline's own mean is 0 the lift is null.
 */
import { mean, percentileInterval, resampledMeans, type Interval } from './bootstrap.ts';

export interface PairedComparison {
  /** a − b per user, averaged, with its interval. */
  readonly difference: Interval;
  /** (mean a − mean b) / mean b with its interval; null when mean b is 0. */
  readonly relativeLift: Interval | null;
}

/** Compares from per-resample means already computed (see resampledMeans): the evaluator's fast path. */
export function comparePairedMeans(
  meanA: number,
  meanB: number,
  resampledA: Float64Array,
  resampledB: Float64Array,
  alpha = 0.05,
): PairedComparison {
  const b = resampledA.length;
  const diff = new Float64Array(b);
  const lift: number[] = [];
  for (let i = 0; i < b; i++) {
    const x = resampledA[i] as number;
    const y = resampledB[i] as number;
    diff[i] = x - y;
    if (y !== 0) lift.push((x - y) / y);
  }
  return {
    difference: percentileInterval(meanA - meanB, diff, alpha),
    relativeLift: meanB === 0 ? null : percentileInterval((meanA - meanB) / meanB, Float64Array.from(lift), alpha),
  };
}

/** Paired comparison of per-user vectors a and b (same users, same order) over the given resamples. */
export function pairedComparison(a: Float64Array, b: Float64Array, samples: readonly Int32Array[], alpha = 0.05): PairedComparison {
  if (a.length !== b.length) throw new RangeError(`paired vectors differ in length: ${a.length} vs ${b.length}`);
  const [ra, rb] = resampledMeans([a, b], samples) as [Float64Array, Float64Array];
  return comparePairedMeans(mean(a), mean(b), ra, rb, alpha);
}

/** Paired difference a − b per user, with its bootstrap interval. */
export function pairedDifference(a: Float64Array, b: Float64Array, samples: readonly Int32Array[], alpha = 0.05): Interval {
  return pairedComparison(a, b, samples, alpha).difference;
}
