import { describe, expect, it } from 'vitest';
import { buildFeatureSpace, knownFeatures } from '../../../../lib/core/models/hybrid/features.ts';
import { InputError } from '../../../../lib/core/errors.ts';

describe('buildFeatureSpace with identityShare', () => {
  const rows = new Map<string, [string, number][]>([
    [
      'a',
      [
        ['genre:rock', 1],
        ['genre:pop', 3],
      ],
    ],
    ['c', [['genre:rock', 2]]],
  ]);
  const rowOf = (space: ReturnType<typeof buildFeatureSpace>, id: string): number[][] => {
    const r = space.ids.indexOf(id);
    const { ptr, feat, weight } = space.matrix;
    const got: number[][] = [];
    for (let p = ptr[r] as number; p < (ptr[r + 1] as number); p++) got.push([feat[p] as number, Number((weight[p] as number).toFixed(6))]);
    return got;
  };

  it('gives the identity the share and the features the rest in proportion to their values', () => {
    const space = buildFeatureSpace(new Set(['a', 'b']), rows, undefined, 0.5);
    // a: identity 0 at 0.5; pop (3) and rock (1) share 0.5 as 3:1.
    expect(rowOf(space, 'a')).toEqual([
      [0, 0.5],
      [2, 0.375],
      [3, 0.125],
    ]);
    // Identity only, and features only: unchanged by the share.
    expect(rowOf(space, 'b')).toEqual([[1, 1]]);
    expect(rowOf(space, 'c')).toEqual([[3, 1]]);
  });

  it('differs from LightFM normalisation, which gives the identity 1 / (1 + feature values)', () => {
    const space = buildFeatureSpace(new Set(['a', 'b']), rows);
    expect(rowOf(space, 'a')).toEqual([
      [0, 0.2],
      [2, 0.6],
      [3, 0.2],
    ]);
  });
});

describe('buildFeatureSpace', () => {
  const space = buildFeatureSpace(
    new Set(['b', 'a']),
    new Map([
      [
        'a',
        [
          ['genre:rock', 1],
          ['genre:pop', 3],
        ],
      ],
      [
        'c',
        [
          ['genre:rock', 2],
          ['genre:rock', 2],
        ],
      ],
    ]),
  );

  it('sorts ids and gives identity features only to ids seen in interactions', () => {
    expect(space.ids).toEqual(['a', 'b', 'c']);
    expect([...space.identity]).toEqual([0, 1, -1]);
    expect(space.metaNames).toEqual(['genre:pop', 'genre:rock']);
  });

  it.each([
    [
      'a',
      [
        [0, 0.2],
        [2, 0.6],
        [3, 0.2],
      ],
    ],
    ['b', [[1, 1]]],
    ['c', [[3, 1]]],
  ])('normalises the weights of row %s to sum 1: %j', (id, expected) => {
    const r = space.ids.indexOf(id);
    const { ptr, feat, weight } = space.matrix;
    const got = [];
    for (let p = ptr[r] as number; p < (ptr[r + 1] as number); p++) got.push([feat[p], Number((weight[p] as number).toFixed(6))]);
    expect(got).toEqual(expected);
  });

  it('rejects a non-finite feature value', () => {
    expect(() => buildFeatureSpace(new Set(['a']), new Map([['a', [['x', Number.NaN]]]]))).toThrow(InputError);
  });
});

describe('knownFeatures', () => {
  it('ignores unknown names and normalises over the known ones', () => {
    expect(
      knownFeatures(
        [
          ['x', 1],
          ['nope', 5],
          ['y', 3],
        ],
        new Map([
          ['x', 0],
          ['y', 1],
        ]),
      ),
    ).toEqual({ index: [0, 1], weight: [0.25, 0.75] });
  });

  it('returns nothing when no feature is known', () => {
    expect(knownFeatures([['nope', 1]], new Map())).toEqual({ index: [], weight: [] });
  });
});
