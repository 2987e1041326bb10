import { describe, expect, it } from 'vitest';
import { fillShelf, type ShelfPlan } from '../../../lib/core/assembly/assemble.ts';
import { DiversityConfigError, poolSize, rerankActive, rerankDiverse } from '../../../lib/core/assembly/rerank.ts';
import type { EvalSet } from '../../../lib/core/eval/eval-set.ts';
import { type EvalRun, evaluateRuns } from '../../../lib/core/eval/evaluate.ts';
import { externalRecommender } from '../../../lib/core/models/baselines/external.ts';
import type { ScoredItem } from '../../../lib/core/models/recommender.ts';

/** Items named by category letter: "a1" is in category a. Scores descend with the model's rank. */
const list = (...ids: string[]): ScoredItem[] => ids.map((itemId, r) => ({ itemId, score: 10 - r }));
const categoryOf = (id: string): string | undefined => (id.startsWith('x') ? undefined : id[0]);
const ids = (items: readonly ScoredItem[]): string[] => items.map((s) => s.itemId);
const MODEL = list('a1', 'a2', 'b1', 'a3', 'c1');

describe('rerankDiverse', () => {
  it('keeps the model order at strength 0 without a cap', () => {
    expect(rerankDiverse(MODEL, 3, categoryOf, { lambda: 0 })).toEqual(MODEL.slice(0, 3));
  });

  it.each([
    // Hand-computed with pool 5: relevance 1, .8, .6, .4, .2 and a penalty λ for a seen category.
    // λ = 0.1: second pick a2 (.9·.8 − .1 = .62) beats b1 (.9·.6 = .54); third b1 (.54) beats a3 (.26), c1 (.18).
    [0.1, ['a1', 'a2', 'b1']],
    // λ = 0.5: second pick b1 (.3) beats c1 (.1) and a2 (−.1); third c1 (.1) beats a2 (−.1).
    [0.5, ['a1', 'b1', 'c1']],
  ])('at strength %s picks by marginal relevance as hand-computed', (lambda, expected) => {
    expect(ids(rerankDiverse(MODEL, 3, categoryOf, { lambda, poolFactor: 2 }))).toEqual(expected);
  });

  it('keeps the model scores of the items it moves', () => {
    const out = rerankDiverse(MODEL, 3, categoryOf, { lambda: 0.5, poolFactor: 2 });
    expect(out[1]).toEqual({ itemId: 'b1', score: 8 });
  });

  it('caps each category, and uses capped items only when nothing else is left', () => {
    expect(ids(rerankDiverse(MODEL, 3, categoryOf, { lambda: 0, maxPerCategory: 1, poolFactor: 2 }))).toEqual(['a1', 'b1', 'c1']);
    expect(ids(rerankDiverse(MODEL, 5, categoryOf, { lambda: 0, maxPerCategory: 1 }))).toEqual(['a1', 'b1', 'c1', 'a2', 'a3']);
    expect(ids(rerankDiverse(MODEL, 4, categoryOf, { lambda: 0, maxPerCategory: 2 }))).toEqual(['a1', 'a2', 'b1', 'c1']);
  });

  it('treats items without a category as unlike anything, and never caps them', () => {
    const model = list('x1', 'x2', 'x3', 'a1');
    expect(ids(rerankDiverse(model, 3, categoryOf, { lambda: 0.9, maxPerCategory: 1 }))).toEqual(['x1', 'x2', 'x3']);
  });

  it('chooses only among the best poolFactor × k items', () => {
    const model = list('a1', 'a2', 'a3', 'a4', 'b1');
    expect(ids(rerankDiverse(model, 2, categoryOf, { lambda: 1, poolFactor: 2 }))).toEqual(['a1', 'a2']);
    expect(ids(rerankDiverse(model, 2, categoryOf, { lambda: 1, poolFactor: 3 }))).toEqual(['a1', 'b1']);
  });

  it('at full strength covers as many categories as the pool offers, on seeded random lists', () => {
    let s = 11;
    const rand = (n: number): number => {
      s = (s * 16807) % 2147483647;
      return s % n;
    };
    for (let t = 0; t < 50; t++) {
      const model = list(...Array.from({ length: 30 }, (_, i) => `${'abcdef'[rand(6)]}${i}`));
      const distinct = (items: readonly ScoredItem[]): number => new Set(items.map((x) => categoryOf(x.itemId))).size;
      const plain = model.slice(0, 10);
      const diverse = rerankDiverse(model, 10, categoryOf, { lambda: 1 });
      expect(distinct(diverse)).toBe(distinct(model));
      expect(distinct(diverse)).toBeGreaterThanOrEqual(distinct(plain));
      expect(new Set(ids(diverse)).size).toBe(10);
    }
  });

  it('returns fewer items only when the model gave fewer, and none for k <= 0', () => {
    expect(rerankDiverse(MODEL.slice(0, 2), 5, categoryOf, { lambda: 0.5 })).toHaveLength(2);
    expect(rerankDiverse(MODEL, 0, categoryOf, { lambda: 0.5 })).toEqual([]);
  });

  it.each([
    [{ lambda: 1.5 }, /lambda must be in \[0, 1\], got 1.5/],
    [{ lambda: 0.2, maxPerCategory: 0 }, /maxPerCategory must be an integer >= 1, got 0/],
    [{ lambda: 0.2, poolFactor: 0.5 }, /poolFactor must be a number >= 1, got 0.5/],
  ])('rejects the setting %j with DiversityConfigError', (config, message) => {
    expect(() => rerankDiverse(MODEL, 3, categoryOf, config)).toThrow(DiversityConfigError);
    expect(() => rerankDiverse(MODEL, 3, categoryOf, config)).toThrow(message);
  });
});

describe('poolSize and rerankActive', () => {
  it('asks for a pool only when the re-ranker is active', () => {
    expect(poolSize(10, undefined)).toBe(10);
    expect(poolSize(10, { lambda: 0 })).toBe(10);
    expect(poolSize(10, { lambda: 0.2 })).toBe(30);
    expect(poolSize(10, { lambda: 0, maxPerCategory: 2, poolFactor: 2 })).toBe(20);
    expect(rerankActive({ lambda: 0 })).toBe(false);
    expect(rerankActive({ lambda: 0, maxPerCategory: 3 })).toBe(true);
  });
});

describe('the re-ranker in evaluation and in shelf assembly', () => {
  // One user; the model's list is a1, a2, a3, b1, c1 (best first); relevant: a1 and b1.
  const modelList = ['a1', 'a2', 'a3', 'b1', 'c1'];
  const catalog = new Map(modelList.map((id) => [id, { type: 'show', categories: [id[0] as string] }]));
  const set: EvalSet = {
    shelf: 'podcasts',
    cases: [
      {
        context: { userId: 'u1', now: 0 },
        relevant: new Map([
          ['a1', 1],
          ['b1', 1],
        ]),
        exclude: new Set(),
        slices: {},
      },
    ],
    trainItemCounts: new Map(),
    catalog,
    evaluatedAt: 0,
  };
  const runs = (): EvalRun[] => [
    { name: 'candidate', role: 'candidate', recommender: externalRecommender(new Map([['u1', modelList]]), 'model') },
    { name: 'same-as-baseline', role: 'baseline', recommender: externalRecommender(new Map([['u1', modelList]]), 'model') },
  ];

  it('scores the re-ranked lists of the served roles and leaves baselines as they are', () => {
    const plain = evaluateRuns(set, runs(), { k: 3, resamples: 10 });
    const diverse = evaluateRuns(set, runs(), { k: 3, resamples: 10, diversity: { lambda: 0.5 } });
    const [candidate, baseline] = diverse.runs;
    // Plain top 3 is a1, a2, a3 (one category); re-ranked it is a1, b1, c1 (three), which finds b1 too.
    expect(plain.runs[0]?.beyond.diversity).toBe(0);
    expect(candidate?.beyond.diversity).toBe(1);
    expect(candidate?.metrics['recall@3']?.mean).toBe(1);
    expect(plain.runs[0]?.metrics['recall@3']?.mean).toBe(0.5);
    expect(baseline?.beyond.diversity).toBe(0);
  });

  it('re-ranks a shelf by its plan setting before the fresh overlay', () => {
    const plan: ShelfPlan = {
      shelf: 'podcasts',
      title: 'Podcasts',
      recommender: externalRecommender(new Map([['u1', modelList]]), 'model'),
      modelVersion: 'v1',
      variant: 'live',
      k: 3,
      diversity: { lambda: 0, maxPerCategory: 1 },
    };
    const view = { meta: (id: string) => catalog.get(id), title: (id: string) => id.toUpperCase() };
    const shelf = fillShelf(plan, { userId: 'u1', now: 0 }, new Set(), view);
    expect(shelf.items.map((i) => i.id)).toEqual(['a1', 'b1', 'c1']);
    const unchanged = fillShelf({ ...plan, diversity: { lambda: 0 } }, { userId: 'u1', now: 0 }, new Set(), view);
    expect(unchanged.items.map((i) => i.id)).toEqual(['a1', 'a2', 'a3']);
  });
});
