import { describe, expect, it } from 'vitest';
import { averageRanks, bootstrapCorrelation, kendallTauB, pearson, rankPredictors, spearman } from '../../../lib/core/stats/correlation.ts';
import { InputError } from '../../../lib/core/errors.ts';

describe('averageRanks', () => {
  it('gives tied values their average 1-based rank', () => {
    expect(Array.from(averageRanks([10, 20, 20, 5]))).toEqual([2, 3.5, 3.5, 1]);
  });
});

describe('spearman', () => {
  it('is 1 for any increasing relation and -1 for any decreasing one', () => {
    expect(spearman([1, 2, 3, 4], [1, 8, 27, 64])).toBeCloseTo(1, 12);
    expect(spearman([1, 2, 3, 4], [9, 4, 1, 0])).toBeCloseTo(-1, 12);
  });

  it("reproduces Wikipedia's worked example (IQ vs hours of TV): -29/165", () => {
    const iq = [106, 100, 86, 101, 99, 103, 97, 113, 112, 110];
    const tv = [7, 27, 2, 50, 28, 29, 20, 12, 6, 17];
    expect(spearman(iq, tv)).toBeCloseTo(-29 / 165, 12);
  });

  it('handles ties as Pearson of average ranks (hand-computed)', () => {
    // ranks x: [1, 2.5, 2.5, 4]; ranks y: [1, 2, 3, 4] -> r = 4.5 / sqrt(4.5 * 5)
    expect(spearman([1, 2, 2, 3], [10, 20, 30, 40])).toBeCloseTo(4.5 / Math.sqrt(4.5 * 5), 12);
  });

  it('is NaN when one side is constant or there is one unit', () => {
    expect(spearman([1, 1, 1], [1, 2, 3])).toBeNaN();
    expect(spearman([1], [2])).toBeNaN();
  });

  it('refuses unpaired input, naming both lengths', () => {
    expect(() => spearman([1, 2], [1])).toThrow(InputError);
    expect(() => spearman([1, 2], [1])).toThrow(/2 x values and 1 y values/);
  });
});

describe('kendallTauB', () => {
  it("reproduces SciPy's documented example with ties: -0.4714", () => {
    // C = 2, D = 6, one pair tied in x only, one in both: -4 / sqrt(9 * 8).
    expect(kendallTauB([12, 2, 1, 12, 2], [1, 4, 7, 1, 0])).toBeCloseTo(-0.47140452079103173, 12);
  });

  it('counts concordant minus discordant pairs over all pairs without ties (hand-computed)', () => {
    // pairs of [1,2,3,4] vs [1,3,2,4]: one discordant (2,3) of 6 -> (5 - 1) / 6
    expect(kendallTauB([1, 2, 3, 4], [1, 3, 2, 4])).toBeCloseTo(4 / 6, 12);
  });

  it('is ±1 for monotone relations and NaN for a constant side', () => {
    expect(kendallTauB([1, 2, 3], [3, 5, 9])).toBe(1);
    expect(kendallTauB([1, 2, 3], [3, 2, 1])).toBe(-1);
    expect(kendallTauB([1, 2, 3], [4, 4, 4])).toBeNaN();
  });
});

describe('pearson', () => {
  it('matches a hand-computed value', () => {
    // x = [1,2,3], y = [2,4,5]: sxy = 3, sxx = 2, syy = 4.6667 -> 3 / sqrt(9.3333)
    expect(pearson([1, 2, 3], [2, 4, 5])).toBeCloseTo(3 / Math.sqrt(2 * (14 / 3)), 12);
  });
});

describe('bootstrapCorrelation', () => {
  const x = [0.01, 0.05, 0.08, 0.1, 0.12, 0.15, 0.2, 0.22, 0.3];
  const y = [0.02, 0.04, 0.07, 0.06, 0.11, 0.1, 0.16, 0.18, 0.21];

  it('returns the statistic on all units inside its interval, the same for the same seed', () => {
    const a = bootstrapCorrelation('spearman', x, y, { resamples: 500, seed: 3 });
    const b = bootstrapCorrelation('spearman', x, y, { resamples: 500, seed: 3 });
    expect(a).toEqual(b);
    expect(a.value).toBeCloseTo(spearman(x, y), 12);
    expect(a.lo).toBeLessThanOrEqual(a.value);
    expect(a.hi).toBeGreaterThanOrEqual(a.value);
    expect(a.hi).toBeLessThanOrEqual(1);
    expect(a.units).toBe(9);
  });

  it('is wide for unrelated measurements and narrow for a strong relation', () => {
    const noise = [0.3, 0.1, 0.25, 0.05, 0.2, 0.15, 0.02, 0.28, 0.12];
    const strong = bootstrapCorrelation('kendall', x, y, { resamples: 500 });
    const weak = bootstrapCorrelation('kendall', x, noise, { resamples: 500 });
    expect(strong.lo).toBeGreaterThan(0.5);
    expect(weak.lo).toBeLessThan(0);
    expect(weak.hi - weak.lo).toBeGreaterThan(strong.hi - strong.lo);
  });

  it('leaves out and counts resamples where one side is constant', () => {
    const r = bootstrapCorrelation('spearman', [1, 2], [1, 2], { resamples: 200 });
    // Two units: about half the resamples draw the same unit twice.
    expect(r.undefinedResamples).toBeGreaterThan(50);
    expect(r.undefinedResamples).toBeLessThan(150);
    expect(r.lo).toBe(1);
  });
});

describe('rankPredictors', () => {
  it('ranks the predictor that orders units like the outcome first, with a paired margin', () => {
    const outcome = [1, 2, 3, 4, 5, 6, 7, 8];
    const ranking = rankPredictors(
      'spearman',
      { good: [1, 2, 3, 4, 5, 6, 8, 7], bad: [8, 1, 7, 2, 6, 3, 5, 4], middling: [2, 1, 4, 3, 6, 5, 8, 7] },
      outcome,
      { resamples: 400 },
    );
    expect(ranking.ranked.map((r) => r.predictor)).toEqual(['good', 'middling', 'bad']);
    expect(ranking.marginOverRunnerUp?.value).toBeCloseTo(
      (ranking.ranked[0]?.correlation.value ?? 0) - (ranking.ranked[1]?.correlation.value ?? 0),
      12,
    );
    expect(ranking.marginOverRunnerUp?.lo).toBeLessThanOrEqual(ranking.marginOverRunnerUp?.hi ?? 0);
  });

  it('names predictors that order the units identically as tied, and measures the margin over the next distinct one', () => {
    const outcome = [1, 2, 3, 4, 5, 6];
    const ranking = rankPredictors('spearman', { a: [1, 2, 3, 4, 6, 5], b: [10, 20, 30, 40, 60, 50], c: [2, 1, 4, 3, 6, 5] }, outcome, {
      resamples: 200,
    });
    expect(ranking.tiedWithBest).toEqual(['a', 'b']);
    expect(ranking.marginOverRunnerUp?.runnerUp).toBe('c');
    expect(ranking.marginOverRunnerUp?.value).toBeGreaterThan(0);
  });

  it('has no margin with a single predictor', () => {
    expect(rankPredictors('kendall', { only: [1, 2, 3] }, [1, 2, 3]).marginOverRunnerUp).toBeNull();
  });
});
