import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../../lib/core/errors.ts';
import {
  assertNoDuplicates,
  dcgAtK,
  hitRateAtK,
  mapAtK,
  mrrAtK,
  ndcgAtK,
  precisionAtK,
  recallAtK,
} from '../../../lib/core/metrics/ranking.ts';

const binary = (...items: string[]) => new Map(items.map((i) => [i, 1]));

describe('ndcgAtK', () => {
  it('reproduces the Wikipedia worked example (graded relevance, log2): 0.785', () => {
    // Retrieved d1..d6 with grades 3,2,3,0,1,2; d7 (3) and d8 (2) are relevant but not retrieved.
    const relevant = new Map([
      ['d1', 3],
      ['d2', 2],
      ['d3', 3],
      ['d4', 0],
      ['d5', 1],
      ['d6', 2],
      ['d7', 3],
      ['d8', 2],
    ]);
    const ranked = ['d1', 'd2', 'd3', 'd4', 'd5', 'd6'];
    expect(dcgAtK(ranked, relevant, 6)).toBeCloseTo(6.861, 3);
    expect(ndcgAtK(ranked, relevant, 6)).toBeCloseTo(0.785, 3);
  });

  it.each([
    ['a perfect ranking', ['a', 'b', 'x'], binary('a', 'b'), 1],
    ['no hits', ['x', 'y'], binary('a'), 0],
    ['an empty list', [], binary('a'), 0],
    ['a user without relevant items', ['a'], binary(), 0],
    ['one hit at rank 2 of one relevant', ['x', 'a'], binary('a'), 1 / Math.log2(3)],
  ])('scores %s', (_title, ranked, relevant, expected) => {
    expect(ndcgAtK(ranked, relevant, 10)).toBeCloseTo(expected, 10);
  });

  it('scores graded relevance by hand: [b, a] against {a: 3, b: 1} at k = 2', () => {
    // DCG = 1/log2(2) + 3/log2(3); IDCG = 3/log2(2) + 1/log2(3).
    const relevant = new Map([
      ['a', 3],
      ['b', 1],
    ]);
    expect(ndcgAtK(['b', 'a'], relevant, 2)).toBeCloseTo((1 + 3 / Math.log2(3)) / (3 + 1 / Math.log2(3)), 12);
  });

  it('gives equal scores to rankings that only swap items of equal grade (ties)', () => {
    const relevant = new Map([
      ['a', 2],
      ['b', 2],
      ['c', 1],
    ]);
    expect(ndcgAtK(['a', 'b', 'c'], relevant, 3)).toBe(1);
    expect(ndcgAtK(['b', 'a', 'c'], relevant, 3)).toBe(1);
  });

  it('scores a list shorter than k against the ideal cut at k', () => {
    // Three relevant, one predicted hit at rank 1, k = 5: 1 / (1 + 1/log2 3 + 1/log2 4).
    expect(ndcgAtK(['a'], binary('a', 'b', 'c'), 5)).toBeCloseTo(1 / (1 + 1 / Math.log2(3) + 0.5), 12);
  });

  it('cuts both the list and the ideal at k', () => {
    // Two relevant, k = 1: ideal DCG@1 = 1; a hit at rank 1 scores 1.
    expect(ndcgAtK(['a', 'b'], binary('a', 'b'), 1)).toBe(1);
    expect(ndcgAtK(['x', 'a'], binary('a', 'b'), 1)).toBe(0);
  });
});

describe('precision, recall, MAP, MRR, hit rate', () => {
  const relevant = binary('a', 'c', 'e');
  const ranked = ['a', 'b', 'c', 'd'];
  it.each([
    ['precision@4 = hits / k', precisionAtK(ranked, relevant, 4), 2 / 4],
    ['precision@10 divides by k even when the list is shorter', precisionAtK(ranked, relevant, 10), 2 / 10],
    ['recall@4 = hits / relevant', recallAtK(ranked, relevant, 4), 2 / 3],
    ['map@4 = (1/1 + 2/3) / min(4, 3)', mapAtK(ranked, relevant, 4), (1 + 2 / 3) / 3],
    ['map@2 divides by min(k, relevant) = 2', mapAtK(ranked, relevant, 2), 1 / 2],
    ['mrr@4 = 1 / first hit rank', mrrAtK(['x', 'c'], relevant, 4), 1 / 2],
    ['hitrate@1 without a hit in the top 1', hitRateAtK(['x', 'a'], relevant, 1), 0],
    ['hitrate@2 with a hit', hitRateAtK(['x', 'a'], relevant, 2), 1],
    ['precision@3 of an empty list', precisionAtK([], relevant, 3), 0],
    ['recall@3 for a user without relevant items', recallAtK(['a'], binary(), 3), 0],
    ['map@3 for a user without relevant items', mapAtK(['a'], binary(), 3), 0],
    ['mrr@3 of an empty list', mrrAtK([], relevant, 3), 0],
    ['map@5 with fewer than k predictions: (1/2) / min(5, 3)', mapAtK(['x', 'a'], relevant, 5), 1 / 2 / 3],
  ])('%s', (_title, value, expected) => {
    expect(value).toBeCloseTo(expected, 10);
  });

  it('ignores items graded 0 as relevant', () => {
    expect(
      recallAtK(
        ['a'],
        new Map([
          ['a', 1],
          ['b', 0],
        ]),
        10,
      ),
    ).toBe(1);
  });
});

describe('duplicates', () => {
  it('rejects a list that names an item twice, naming the item', () => {
    expect(() => assertNoDuplicates(['a', 'b', 'a'], 'run X for user u1')).toThrow(InputError);
    expect(() => assertNoDuplicates(['a', 'b', 'a'], 'run X for user u1')).toThrow(/"a" twice/);
  });
});

describe('properties', () => {
  const item = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h');
  const list = fc.uniqueArray(item, { maxLength: 8 });
  const relevance = fc.dictionary(item, fc.integer({ min: 0, max: 3 })).map((d) => new Map(Object.entries(d)));
  const k = fc.integer({ min: 1, max: 10 });
  const metrics = [ndcgAtK, precisionAtK, recallAtK, mapAtK, mrrAtK, hitRateAtK];

  it('every metric lies in [0, 1]', () => {
    fc.assert(
      fc.property(list, relevance, k, (ranked, rel, kk) =>
        metrics.every((m) => {
          const v = m(ranked, rel, kk);
          return v >= 0 && v <= 1 + 1e-12;
        }),
      ),
    );
  });

  it('a ranking of exactly the relevant items, best grade first, scores 1 on NDCG, recall, MAP, MRR and hit rate', () => {
    fc.assert(
      fc.property(relevance, (rel) => {
        const ranked = [...rel]
          .filter(([, g]) => g > 0)
          .sort((a, b) => b[1] - a[1])
          .map(([i]) => i);
        if (ranked.length === 0) return true;
        const kk = ranked.length;
        return [ndcgAtK, recallAtK, mapAtK, mrrAtK, hitRateAtK].every((m) => Math.abs(m(ranked, rel, kk) - 1) < 1e-12);
      }),
    );
  });

  it('a ranking without hits scores 0 on every metric', () => {
    fc.assert(fc.property(relevance, k, (rel, kk) => metrics.every((m) => m(['zz1', 'zz2', 'zz3'], rel, kk) === 0)));
  });
});
