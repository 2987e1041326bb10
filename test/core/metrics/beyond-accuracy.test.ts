import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  catalogCoverage,
  categoryDiversity,
  embeddingDiversity,
  freshness,
  newItemRecall,
  novelty,
  personalization,
} from '../../../lib/core/metrics/beyond-accuracy.ts';
import type { ItemMeta } from '../../../lib/core/models/recommender.ts';

const DAY = 86_400_000;
const catalog = new Map<string, ItemMeta>([
  ['a', { categories: ['rock', 'pop'], publishedAt: 100 * DAY }],
  ['b', { categories: ['rock'], publishedAt: 95 * DAY }],
  ['c', { categories: ['jazz'], publishedAt: 50 * DAY }],
  ['d', { categories: ['pop', 'rock'] }],
]);

describe('catalogCoverage', () => {
  it.each([
    [
      'distinct recommended over catalog size',
      [
        ['a', 'b'],
        ['b', 'c'],
      ],
      4,
      3 / 4,
    ],
    ['no lists', [], 4, 0],
    ['an empty catalog', [['a']], 0, 0],
    ['more distinct items than the catalog holds (capped)', [['a', 'x', 'y']], 2, 1],
  ])('gives %s', (_t, lists, size, expected) => {
    expect(catalogCoverage(lists, size)).toBe(expected);
  });
});

describe('categoryDiversity', () => {
  it.each([
    ['primary', [['a', 'b', 'c']], 2 / 3], // a-b same primary (rock), a-c and b-c differ
    [
      'primary',
      [
        ['a', 'b'],
        ['a', 'c'],
      ],
      (0 + 1) / 2,
    ],
    ['jaccard', [['a', 'b']], 1 - 1 / 2], // {rock, pop} vs {rock}
    ['jaccard', [['a', 'd']], 0], // same set in another order
    ['jaccard', [['b', 'c']], 1],
  ] as const)('mode %s of %j', (mode, lists, expected) => {
    expect(categoryDiversity(lists, catalog, { mode })).toBeCloseTo(expected, 12);
  });

  it('skips lists with fewer than two items and gives 0 without pairs', () => {
    expect(categoryDiversity([['a'], ['a', 'c']], catalog)).toBe(1);
    expect(categoryDiversity([['a'], []], catalog)).toBe(0);
  });
});

describe('embeddingDiversity', () => {
  const vectors = new Map([
    ['x', Float32Array.of(1, 0)],
    ['y', Float32Array.of(0, 1)],
    ['z', Float32Array.of(2, 0)],
  ]);
  it.each([
    ['orthogonal vectors', [['x', 'y']], 1],
    ['parallel vectors', [['x', 'z']], 0],
    ['items without a vector are skipped', [['x', 'nope', 'y']], 1],
    ['three items: 1 − mean(0, 1, 0)', [['x', 'y', 'z']], 1 - 1 / 3],
  ])('scores %s', (_t, lists, expected) => {
    expect(embeddingDiversity(lists, (i) => vectors.get(i))).toBeCloseTo(expected, 6);
  });
});

describe('novelty', () => {
  it('is the mean −log2 of the add-one smoothed share of training interactions', () => {
    // total 6 + catalog 4 = 10: p(a) = 6/10 (5 + 1), p(new) = 1/10.
    const counts = new Map([
      ['a', 5],
      ['b', 1],
    ]);
    expect(novelty([['a', 'new']], counts, 4)).toBeCloseTo((-Math.log2(0.6) - Math.log2(0.1)) / 2, 12);
  });
  it('makes an unseen item the most novel, and finite', () => {
    const counts = new Map([
      ['a', 5],
      ['b', 1],
    ]);
    const unseen = novelty([['zz']], counts, 4);
    expect(Number.isFinite(unseen)).toBe(true);
    expect(unseen).toBeGreaterThan(novelty([['b']], counts, 4));
  });
  it('gives 0 for no items', () => expect(novelty([], new Map(), 3)).toBe(0));
});

describe('personalization', () => {
  it.each([
    [
      'everyone gets the same list',
      [
        ['a', 'b'],
        ['a', 'b'],
        ['b', 'a'],
      ],
      0,
    ],
    ['no two users share an item', [['a'], ['b'], ['c']], 1],
    [
      'one shared item of three',
      [
        ['a', 'b'],
        ['b', 'c'],
      ],
      1 - 1 / 3,
    ],
    ['a single user', [['a']], 0],
  ])('scores %s exactly when every pair fits in the sample', (_t, lists, expected) => {
    expect(personalization(lists, 100)).toBeCloseTo(expected, 12);
  });

  it('samples pairs with a seed: the same seed repeats the value, the estimate is close to the exact one', () => {
    const lists = Array.from({ length: 200 }, (_, u) => [`i${u % 7}`, `j${u % 3}`]);
    const exact = personalization(lists, 1e9);
    expect(personalization(lists, 500, 3)).toBe(personalization(lists, 500, 3));
    expect(personalization(lists, 5000, 3)).toBeCloseTo(exact, 1);
  });
});

describe('freshness', () => {
  it.each([
    [7, [['a', 'b', 'c', 'd']], 2 / 4], // a (0 days) and b (5 days) are within a week; c is old, d has no date
    [3, [['a', 'b']], 1 / 2],
    [7, [], 0],
  ])('within %d days of the evaluation time: %j', (days, lists, expected) => {
    expect(freshness(lists, catalog, 100 * DAY, days)).toBe(expected);
  });
});

describe('newItemRecall', () => {
  it('is recall over relevant items absent from training, with their count', () => {
    const counts = new Map([['a', 3]]);
    const relevant = [
      new Map([
        ['a', 1],
        ['n1', 1],
      ]),
      new Map([
        ['n2', 2],
        ['n3', 0],
      ]),
    ];
    expect(newItemRecall([['n1', 'a'], ['x']], relevant, counts, 2)).toEqual({ value: 1 / 2, items: 2 });
    expect(newItemRecall([['n1']], [new Map([['a', 1]])], counts, 2)).toEqual({ value: 0, items: 0 });
  });
});

describe('properties', () => {
  const item = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f');
  const lists = fc.array(fc.uniqueArray(item, { maxLength: 5 }), { maxLength: 8 });
  it('coverage, diversity, personalization and freshness lie in [0, 1]', () => {
    fc.assert(
      fc.property(lists, (ls) =>
        [
          catalogCoverage(ls, 6),
          categoryDiversity(ls, catalog),
          categoryDiversity(ls, catalog, { mode: 'jaccard' }),
          personalization(ls, 50, 1),
          freshness(ls, catalog, 100 * DAY, 7),
        ].every((v) => v >= 0 && v <= 1),
      ),
    );
  });
  it('novelty is never negative', () => {
    fc.assert(
      fc.property(
        lists,
        (ls) =>
          novelty(
            ls,
            new Map([
              ['a', 3],
              ['b', 1],
            ]),
            6,
          ) >= 0,
      ),
    );
  });
});
