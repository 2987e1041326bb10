import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildFeatureSpace, compareIds, knownFeatures, sortIds } from '../../../../lib/core/models/hybrid/features.ts';
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

/** The plain way: sort the distinct ids with compareIds, then look each one up. */
function referenceSort(ids: readonly string[]): { sorted: string[]; rank: number[] } {
  const sorted = [...new Set(ids)].sort(compareIds);
  const at = new Map(sorted.map((id, k) => [id, k]));
  return { sorted, rank: ids.map((id) => at.get(id) as number) };
}

describe('sortIds', () => {
  const check = (ids: readonly string[]): void => {
    const { sorted, rank } = sortIds(ids);
    expect({ sorted, rank: [...rank] }).toEqual(referenceSort(ids));
  };

  it('orders prefix-and-digit ids exactly as their strings compare (u1 < u10 < u2, leading zeros, 15 digits)', () => {
    check(['u2', 'u10', 'u1', 'u01', 'u001', 'u0', 'u9', 'u100', 'u099', 'u999999999999999', 'u999999999999998', 'u1000']);
    check(['42', '7', '0042', '007', '100', '1', '0']);
    // Repeats get one position.
    check(['i3', 'i1', 'i3', 'i20', 'i1']);
  });

  it('falls back to comparing strings when the ids are not one prefix and digits', () => {
    check(['u2', 'v1', 'u10']); // two prefixes
    check(['u2', 'u1x', 'u10']); // a letter after the digits
    check(['u', 'u1', 'u0']); // an id with no digits
    check(['u1234567890123456', 'u2']); // 16 digits: over what a double holds exactly in base 11
    check(['é1', 'é10', 'é2', 'e3', '😀1', 'ü']); // non-ASCII, surrogate pairs
    check([]);
  });

  it('agrees with the plain sort on generated ids of every kind', () => {
    const digits = fc.stringMatching(/^[0-9]{1,16}$/);
    const prefixed = fc
      .tuple(fc.constantFrom('', 'u', 'item-', 'é'), fc.array(digits, { maxLength: 40 }))
      .map(([p, ds]) => ds.map((d) => p + d));
    const anything = fc.array(fc.string({ maxLength: 6 }), { maxLength: 40 });
    fc.assert(
      fc.property(fc.oneof(prefixed, anything), (ids) => {
        check(ids);
      }),
      { numRuns: 400 },
    );
  });
});

describe('buildFeatureSpace inputRows', () => {
  it("gives each interaction id its row among sorted ids that hold more ids (the feature rows')", () => {
    const rows = new Map<string, [string, number][]>([
      ['u0', [['genre:rock', 1]]],
      ['u2', [['genre:jazz', 1]]],
    ]);
    const space = buildFeatureSpace(['u3', 'u10', 'u1'], rows);
    expect(space.ids).toEqual(['u0', 'u1', 'u10', 'u2', 'u3']);
    expect([...space.inputRows]).toEqual([4, 2, 1]);
  });

  it('is each id of a Set, in its order, found in ids', () => {
    const given = new Set(['b7', 'a', 'b10', 'z']);
    const space = buildFeatureSpace(given, undefined);
    expect([...space.inputRows]).toEqual([...given].map((id) => space.ids.indexOf(id)));
  });
});

describe('buildFeatureSpace from a list of ids', () => {
  it('builds the same space from the list as from a Set of it, with and without feature rows', () => {
    const ids = ['u20', 'u3', 'u100', 'u1'];
    const rows = new Map<string, [string, number][]>([
      ['u3', [['genre:rock', 2]]],
      ['u7', [['genre:pop', 1]]],
    ]);
    for (const featureRows of [undefined, rows]) {
      for (const share of [undefined, 0.5]) {
        const fromList = buildFeatureSpace(ids, featureRows, undefined, share);
        const fromSet = buildFeatureSpace(new Set(ids), featureRows, undefined, share);
        expect(fromList).toEqual(fromSet);
      }
    }
    const plain = buildFeatureSpace(ids, undefined);
    expect(plain.ids).toEqual(['u1', 'u100', 'u20', 'u3']);
    expect([...plain.identity]).toEqual([0, 1, 2, 3]);
    expect([...plain.matrix.ptr]).toEqual([0, 1, 2, 3, 4]);
    expect([...plain.matrix.feat]).toEqual([0, 1, 2, 3]);
    expect([...plain.matrix.weight]).toEqual([1, 1, 1, 1]);
    const withRows = buildFeatureSpace(ids, rows);
    // u7 is known only from its features: a row, no identity feature.
    expect(withRows.ids).toEqual(['u1', 'u100', 'u20', 'u3', 'u7']);
    expect([...withRows.identity]).toEqual([0, 1, 2, 3, -1]);
  });
});
