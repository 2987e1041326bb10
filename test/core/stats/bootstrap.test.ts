import { describe, expect, it } from 'vitest';
import { bootstrapMean, percentile, resampledMeans, resampleIndices, seededResampledMeans } from '../../../lib/core/stats/bootstrap.ts';
import { pairedComparison, pairedDifference } from '../../../lib/core/stats/paired.ts';
import { Rng } from '../../../lib/core/rng.ts';

const vec = (...xs: number[]) => Float64Array.from(xs);

describe('bootstrapMean', () => {
  it('repeats exactly with the same seed and moves with another', () => {
    const values = vec(0, 1, 0.5, 0.2, 0.9, 0, 0, 1, 0.3, 0.7);
    const a = bootstrapMean(values, resampleIndices(values.length, 500, 42));
    const b = bootstrapMean(values, resampleIndices(values.length, 500, 42));
    const c = bootstrapMean(values, resampleIndices(values.length, 500, 43));
    expect(a).toEqual(b);
    expect(c.lo === a.lo && c.hi === a.hi).toBe(false);
  });

  it('returns the plain mean as the point, inside its interval', () => {
    const values = vec(1, 2, 3, 4);
    const ci = bootstrapMean(values, resampleIndices(4, 200, 1));
    expect(ci.mean).toBe(2.5);
    expect(ci.lo).toBeLessThanOrEqual(2.5);
    expect(ci.hi).toBeGreaterThanOrEqual(2.5);
    expect(ci.lo).toBeGreaterThanOrEqual(1);
    expect(ci.hi).toBeLessThanOrEqual(4);
  });

  it.each([
    ['a constant vector', vec(0.4, 0.4, 0.4), { mean: 0.4, lo: 0.4, hi: 0.4 }],
    ['no users', vec(), { mean: 0, lo: 0, hi: 0 }],
  ])('gives a degenerate interval for %s', (_t, values, expected) => {
    const ci = bootstrapMean(values, resampleIndices(values.length, 100, 1));
    expect(ci.mean).toBeCloseTo(expected.mean, 12);
    expect(ci.lo).toBeCloseTo(expected.lo, 12);
    expect(ci.hi).toBeCloseTo(expected.hi, 12);
  });

  it('covers the true mean of a Bernoulli(0.3) population in about 95% of repeated samples', () => {
    const rng = new Rng(9);
    let covered = 0;
    const trials = 120;
    for (let t = 0; t < trials; t++) {
      const values = Float64Array.from({ length: 150 }, () => (rng.next() < 0.3 ? 1 : 0));
      const ci = bootstrapMean(values, resampleIndices(values.length, 300, t));
      if (ci.lo <= 0.3 && 0.3 <= ci.hi) covered++;
    }
    expect(covered / trials).toBeGreaterThan(0.88);
    expect(covered / trials).toBeLessThan(0.995);
  });
});

describe('percentile', () => {
  it.each([
    [0, 1],
    [0.5, 2.5],
    [1, 4],
    [0.25, 1.75],
  ])('interpolates the %f quantile of [1, 2, 3, 4]', (q, expected) => {
    expect(percentile(vec(1, 2, 3, 4), q)).toBeCloseTo(expected, 12);
  });
});

describe('resampledMeans', () => {
  it('gives every vector its mean in each resample, over the same users', () => {
    const samples = [Int32Array.of(0, 0, 2), Int32Array.of(1, 2, 2)];
    const [a, b] = resampledMeans([vec(3, 6, 9), vec(1, 1, 4)], samples);
    expect([...(a as Float64Array)]).toEqual([5, 8]);
    expect([...(b as Float64Array)]).toEqual([2, 3]);
  });

  it('drawn one resample at a time (seeded), equals the means over every resample drawn up front, bit for bit', () => {
    const rng = new Rng(5);
    // A dense vector and a sparse one (mostly zeros), to go through both paths.
    const dense = Float64Array.from({ length: 257 }, () => rng.next());
    const sparse = Float64Array.from({ length: 257 }, (_, i) => (i % 9 === 0 ? rng.next() : 0));
    const upFront = resampledMeans([dense, sparse], resampleIndices(257, 50, 11));
    const oneByOne = seededResampledMeans([dense, sparse], 50, 11);
    expect(oneByOne.map((v) => [...v])).toEqual(upFront.map((v) => [...v]));
    // Another seed draws other users.
    expect([...(seededResampledMeans([dense], 50, 12)[0] as Float64Array)]).not.toEqual([...(upFront[0] as Float64Array)]);
  });
});

describe('pairedComparison', () => {
  const samples = resampleIndices(6, 400, 5);
  it('gives a zero difference with a zero-width interval for identical runs', () => {
    const a = vec(0.1, 0.5, 0.9, 0.3, 0.0, 1);
    expect(pairedDifference(a, a, samples)).toEqual({ mean: 0, lo: 0, hi: 0 });
  });

  it('gives an exact interval when every user improves by the same amount, however noisy the users', () => {
    const b = vec(0.1, 0.5, 0.9, 0.3, 0.0, 0.8);
    const a = b.map((x) => x + 0.1);
    const d = pairedDifference(a, b, samples);
    expect(d.mean).toBeCloseTo(0.1, 12);
    expect(d.lo).toBeCloseTo(0.1, 12);
    expect(d.hi).toBeCloseTo(0.1, 12);
  });

  it('gives the relative lift (mean a − mean b) / mean b with an interval around it', () => {
    const b = vec(0.2, 0.4, 0.6, 0.2, 0.4, 0.6);
    const a = vec(0.3, 0.4, 0.9, 0.2, 0.6, 0.6);
    const { relativeLift } = pairedComparison(a, b, samples);
    expect(relativeLift?.mean).toBeCloseTo((0.5 - 0.4) / 0.4, 12);
    expect(relativeLift!.lo).toBeLessThanOrEqual(relativeLift!.mean);
    expect(relativeLift!.hi).toBeGreaterThanOrEqual(relativeLift!.mean);
  });

  it('has no relative lift over a run that scores 0', () => {
    expect(pairedComparison(vec(1, 0), vec(0, 0), resampleIndices(2, 50, 1)).relativeLift).toBeNull();
  });

  it('rejects vectors of different lengths', () => {
    expect(() => pairedComparison(vec(1), vec(1, 2), samples)).toThrow(/differ in length: 1 vs 2/);
  });
});
