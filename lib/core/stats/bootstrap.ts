/**
 * Percentile bootstrap over users. The same resampled user indices serve every run and metric, so
 * differences between runs are paired: the interval of a difference is the interval of the per-user
 * difference, which is far tighter than comparing two separate intervals.
 */
import { Rng } from '../rng.ts';

export interface Interval {
  readonly mean: number;
  readonly lo: number;
  readonly hi: number;
}

/** `resamples` × n user indices drawn with replacement (seeded). */
export function resampleIndices(n: number, resamples: number, seed: number): Int32Array[] {
  const rng = new Rng(seed).fork('bootstrap');
  return Array.from({ length: resamples }, () => {
    const idx = new Int32Array(n);
    for (let i = 0; i < n; i++) idx[i] = rng.int(n);
    return idx;
  });
}

function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return (sorted[lo] as number) + ((sorted[hi] as number) - (sorted[lo] as number)) * (pos - lo);
}

/** Mean of `values` with its (1 − alpha) percentile-bootstrap interval over the given resamples. */
export function bootstrapMean(values: Float64Array, samples: readonly Int32Array[], alpha = 0.05): Interval {
  const n = values.length;
  if (n === 0) return { mean: 0, lo: 0, hi: 0 };
  let mean = 0;
  for (let i = 0; i < n; i++) mean += values[i] as number;
  mean /= n;
  const means = new Float64Array(samples.length);
  samples.forEach((idx, b) => {
    let s = 0;
    for (let i = 0; i < idx.length; i++) s += values[idx[i] as number] as number;
    means[b] = s / idx.length;
  });
  means.sort();
  return { mean, lo: percentile(means, alpha / 2), hi: percentile(means, 1 - alpha / 2) };
}

/** Paired difference a − b per user, with its bootstrap interval. */
export function pairedDifference(a: Float64Array, b: Float64Array, samples: readonly Int32Array[], alpha = 0.05): Interval {
  const diff = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) diff[i] = (a[i] as number) - (b[i] as number);
  return bootstrapMean(diff, samples, alpha);
}
