/**
 * A pairwise logistic ranker (RankNet with a linear scorer) on standardized features. For each group
 * and each (positive, negative) pair it minimizes log(1 + exp(-(s_pos - s_neg))) + l2·|w|² by SGD in a
 * seeded order, so the same examples and seed give the same weights.
 */
import { Rng } from '../../rng.ts';
import type { RankingExamples } from './types.ts';

export interface RankerOptions {
  readonly seed: number;
  /** Passes over the pairs; default 8. */
  readonly epochs?: number;
  /** Default 0.05. */
  readonly learningRate?: number;
  /** Default 1e-4. */
  readonly l2?: number;
}

export interface LinearRanker {
  readonly mean: Float32Array;
  readonly scale: Float32Array;
  readonly weights: Float32Array;
}

/** Fits the ranker; groups without both a positive and a negative teach nothing and are skipped. */
export function fitRanker(examples: RankingExamples, options: RankerOptions): LinearRanker {
  const f = examples.featureNames.length;
  const rows = examples.labels.length;
  const mean = new Float32Array(f);
  const scale = new Float32Array(f).fill(1);
  for (let r = 0; r < rows; r++) for (let j = 0; j < f; j++) mean[j]! += (examples.features[r * f + j] as number) / Math.max(1, rows);
  const variance = new Float64Array(f);
  for (let r = 0; r < rows; r++)
    for (let j = 0; j < f; j++) {
      const d = (examples.features[r * f + j] as number) - (mean[j] as number);
      variance[j]! += (d * d) / Math.max(1, rows);
    }
  for (let j = 0; j < f; j++) scale[j] = (variance[j] as number) > 1e-12 ? 1 / Math.sqrt(variance[j] as number) : 0;

  const pairs: number[] = [];
  for (let g = 0; g + 1 < examples.groups.length; g++) {
    const from = examples.groups[g] as number;
    const to = examples.groups[g + 1] as number;
    for (let p = from; p < to; p++) {
      if ((examples.labels[p] as number) <= 0) continue;
      for (let n = from; n < to; n++) if ((examples.labels[n] as number) < (examples.labels[p] as number)) pairs.push(p, n);
    }
  }
  const weights = new Float32Array(f);
  const rng = new Rng(options.seed).fork('ranker');
  const order = Array.from({ length: pairs.length / 2 }, (_, i) => i);
  const lr0 = options.learningRate ?? 0.05;
  const l2 = options.l2 ?? 1e-4;
  const diff = new Float32Array(f);
  const epochs = options.epochs ?? 8;
  for (let epoch = 0; epoch < epochs; epoch++) {
    rng.shuffle(order);
    const lr = lr0 / (1 + epoch);
    for (const k of order) {
      const p = pairs[2 * k] as number;
      const n = pairs[2 * k + 1] as number;
      let margin = 0;
      for (let j = 0; j < f; j++) {
        const d = ((examples.features[p * f + j] as number) - (examples.features[n * f + j] as number)) * (scale[j] as number);
        diff[j] = d;
        margin += (weights[j] as number) * d;
      }
      const g = 1 / (1 + Math.exp(margin)); // -dLoss/dmargin
      for (let j = 0; j < f; j++) weights[j] = (weights[j] as number) + lr * (g * (diff[j] as number) - l2 * (weights[j] as number));
    }
  }
  return { mean, scale, weights };
}

/** Scores `rows` feature rows (row-major, featureNames.length wide). */
export function scoreRows(ranker: LinearRanker, features: Float32Array, rows: number): Float32Array {
  const f = ranker.weights.length;
  const out = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let j = 0; j < f; j++) s += (ranker.weights[j] as number) * ((features[r * f + j] as number) - (ranker.mean[j] as number)) * (ranker.scale[j] as number);
    out[r] = s;
  }
  return out;
}
