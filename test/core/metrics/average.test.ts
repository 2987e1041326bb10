import { describe, expect, it } from 'vitest';
import { InputError } from '../../../lib/core/errors.ts';
import { meanAccuracyAtK } from '../../../lib/core/metrics/average.ts';

const truth = new Map([
  ['u1', new Map([['a', 1]])],
  ['u2', new Map([['b', 1]])],
  ['u3', new Map<string, number>()],
  ['u4', new Map([['c', 0]])],
]);

describe('meanAccuracyAtK', () => {
  it('averages over users with at least one relevant item and counts users without a prediction as 0', () => {
    const result = meanAccuracyAtK(
      new Map([
        ['u1', ['a']],
        ['u3', ['z']],
      ]),
      truth,
      1,
    );
    expect(result.users).toBe(2);
    expect(result.usersWithoutPrediction).toBe(1);
    expect(result.usersWithoutRelevant).toBe(2);
    expect(result.metrics['hitrate@1']).toBe(0.5);
    expect(result.metrics['ndcg@1']).toBe(0.5);
  });

  it('names every accuracy metric at k', () => {
    expect(Object.keys(meanAccuracyAtK(new Map(), truth, 3).metrics)).toEqual([
      'ndcg@3',
      'precision@3',
      'recall@3',
      'map@3',
      'mrr@3',
      'hitrate@3',
    ]);
  });

  it('scores 0 everywhere when no user has a relevant item', () => {
    const result = meanAccuracyAtK(new Map([['u3', ['a']]]), new Map([['u3', new Map<string, number>()]]), 2);
    expect(result.users).toBe(0);
    expect(Object.values(result.metrics).every((v) => v === 0)).toBe(true);
  });

  it('rejects a list naming an item twice, naming the user and the item', () => {
    expect(() => meanAccuracyAtK(new Map([['u2', ['b', 'x', 'b']]]), truth, 3)).toThrow(InputError);
    expect(() => meanAccuracyAtK(new Map([['u2', ['b', 'x', 'b']]]), truth, 3)).toThrow(/user u2 names item "b" twice/);
  });
});
