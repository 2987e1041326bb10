import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { flagRepetition, gini, repetitionFigures, type RepetitionFigures } from '../../../lib/core/eval/repetition.ts';

describe('gini', () => {
  it.each([
    { values: [], expected: 0 },
    { values: [0, 0, 0], expected: 0 },
    { values: [5, 5, 5, 5], expected: 0 },
    // One of four takes everything: (2·4 − 4 − 1)·1 / (4·1) = 3/4 = 1 − 1/n.
    { values: [0, 0, 0, 1], expected: 0.75 },
    // Hand-computed: sorted 1,2,3 → (−2·1 + 0·2 + 2·3) / (3·6) = 4/18.
    { values: [3, 1, 2], expected: 4 / 18 },
  ])('gives $expected for $values', ({ values, expected }) => {
    expect(gini(values)).toBeCloseTo(expected, 12);
  });

  it('stays within [0, 1 − 1/n] and does not depend on order or scale', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 1, maxLength: 40 }), (values) => {
        const g = gini(values);
        expect(g).toBeGreaterThanOrEqual(0);
        expect(g).toBeLessThanOrEqual(1 - 1 / values.length + 1e-12);
        expect(gini([...values].reverse())).toBeCloseTo(g, 12);
        expect(gini(values.map((v) => v * 3))).toBeCloseTo(g, 12);
      }),
    );
  });
});

describe('repetitionFigures', () => {
  it('measures everyone seeing the same list as fully repetitive', () => {
    const lists = Array.from({ length: 5 }, () => ['a', 'b', 'c']);
    expect(repetitionFigures(lists)).toEqual({
      profiles: 5,
      topItem: 'a',
      sameTopShare: 1,
      distinctItems: 3,
      gini: 0,
      personalization: 0,
    });
  });

  it('measures disjoint lists as fully personal', () => {
    const f = repetitionFigures([
      ['a', 'b'],
      ['c', 'd'],
      ['e', 'f'],
    ]);
    expect(f.personalization).toBe(1);
    expect(f.distinctItems).toBe(6);
    expect(f.sameTopShare).toBeCloseTo(1 / 3, 12);
    expect(f.topItem).toBe('a'); // a tie of first items goes to the smaller id
  });

  it('counts never-shown catalog items as zero exposure', () => {
    const lists = [['a'], ['a'], ['b']];
    expect(repetitionFigures(lists).gini).toBeCloseTo((-1 * 1 + 1 * 2) / (2 * 3), 12);
    // Four items, two never shown: sorted 0,0,1,2 → (−3·0 −1·0 + 1·1 + 3·2) / (4·3) = 7/12.
    expect(repetitionFigures(lists, { catalogSize: 4 }).gini).toBeCloseTo(7 / 12, 12);
  });

  it('gives zeros for no lists or only empty ones', () => {
    expect(repetitionFigures([])).toMatchObject({ profiles: 0, topItem: null, sameTopShare: 0, distinctItems: 0, gini: 0 });
    expect(repetitionFigures([[], []])).toMatchObject({ profiles: 2, topItem: null, sameTopShare: 0, personalization: 0 });
  });
});

describe('flagRepetition', () => {
  const figures = (personalization: number): RepetitionFigures => ({
    profiles: 10,
    topItem: 'a',
    sameTopShare: 0.5,
    distinctItems: 10,
    gini: 0.3,
    personalization,
  });

  it('flags a model whose personalization is within the gain of popularity', () => {
    const verdict = flagRepetition(figures(0.12), { name: 'popularity', figures: figures(0.1) });
    expect(verdict.flagged).toBe(true);
    expect(verdict.reason).toMatch(/as repetitive as popularity: personalization 0\.120 against popularity's 0\.100/);
  });

  it('flags popularity compared with itself', () => {
    expect(flagRepetition(figures(0.3), { name: 'popularity', figures: figures(0.3) }).flagged).toBe(true);
  });

  it('does not flag a model that adds at least the gain', () => {
    const verdict = flagRepetition(figures(0.6), { name: 'popularity', figures: figures(0.1) });
    expect(verdict).toMatchObject({ flagged: false, reference: 'popularity' });
    expect(flagRepetition(figures(0.2), { name: 'popularity', figures: figures(0.1) }, 0.1).flagged).toBe(false);
  });

  it('does not judge a shelf without a popularity reference, and says so', () => {
    expect(flagRepetition(figures(0), null)).toEqual({
      flagged: false,
      reference: null,
      reason: expect.stringMatching(/no popularity baseline/),
    });
  });
});
