import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { TopK } from '../../../../lib/core/models/hybrid/top-k.ts';

function topK(scores: number[], k: number, tieRank?: (i: number) => number): number[] {
  const heap = new TopK(k, tieRank);
  scores.forEach((s, i) => {
    heap.push(s, i);
  });
  return heap.drain().map((e) => e.item);
}

describe('TopK', () => {
  it.each([
    [[0.1, 0.9, 0.5], 2, [1, 2]],
    [[0.1, 0.9, 0.5], 5, [1, 2, 0]],
    [[1, 1, 1, 1], 2, [0, 1]],
    [[3, 1, 3, 2], 3, [0, 2, 3]],
    [[], 3, []],
    [[1, 2], 0, []],
    [[Number.NaN, 1], 2, [1]],
  ])('keeps the best of %j for k = %i, ties by lower index: %j', (scores, k, expected) => {
    expect(topK(scores, k)).toEqual(expected);
  });

  it('breaks ties by the given rank instead of the index', () => {
    expect(topK([1, 1, 1], 2, (i) => [2, 0, 1][i] as number)).toEqual([1, 2]);
  });

  it('agrees with a full sort on any input', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -5, max: 5 }), { maxLength: 60 }), fc.integer({ min: 1, max: 20 }), (scores, k) => {
        const expected = scores
          .map((s, i) => [s, i] as const)
          .sort((a, b) => b[0] - a[0] || a[1] - b[1])
          .slice(0, k)
          .map(([, i]) => i);
        expect(topK(scores, k)).toEqual(expected);
      }),
    );
  });
});
