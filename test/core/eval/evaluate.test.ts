import { describe, expect, it } from 'vitest';
import { InputError } from '../../../lib/core/errors.ts';
import type { EvalSet } from '../../../lib/core/eval/eval-set.ts';
import { evaluatePredictions, evaluateRuns, scoreLists, type EvalRun } from '../../../lib/core/eval/evaluate.ts';
import type { ModelArtifact } from '../../../lib/core/models/artifact.ts';
import type { RecommendOptions, Recommender, UserContext } from '../../../lib/core/models/recommender.ts';

/** Returns a fixed ranking per user, minus excluded items and items outside the candidates; records its calls. */
class FixedLists implements Recommender {
  readonly kind = 'fixed';
  readonly calls: { context: UserContext; k: number; options: RecommendOptions | undefined }[] = [];
  constructor(private readonly lists: Readonly<Record<string, string[]>>) {}
  recommend(context: UserContext, k: number, options?: RecommendOptions) {
    this.calls.push({ context, k, options });
    const allowed = options?.candidates ? new Set(options.candidates) : undefined;
    return (this.lists[context.userId] ?? [])
      .filter((i) => !options?.exclude?.has(i) && (allowed === undefined || allowed.has(i)))
      .slice(0, k)
      .map((itemId, r) => ({ itemId, score: -r }));
  }
  knownItems() {
    return [];
  }
  save(): ModelArtifact {
    throw new Error('not needed');
  }
}

const NOW = Date.UTC(2026, 10, 1);
const set: EvalSet = {
  shelf: 'podcasts',
  cases: [
    {
      context: { userId: 'u1', now: NOW },
      relevant: new Map([['a', 1]]),
      exclude: new Set(['seen']),
      slices: { userType: 'new', country: 'SE' },
    },
    {
      context: { userId: 'u2', now: NOW },
      relevant: new Map([['b', 1]]),
      exclude: new Set(),
      slices: { userType: 'established', country: 'SE' },
    },
    {
      context: { userId: 'u3', now: NOW },
      relevant: new Map([['c', 1]]),
      exclude: new Set(),
      slices: { userType: 'established', country: 'DE' },
    },
    { context: { userId: 'u4', now: NOW }, relevant: new Map(), exclude: new Set(), slices: { userType: 'new', country: 'DE' } },
  ],
  candidates: ['a', 'b', 'c', 'd', 'seen'],
  trainItemCounts: new Map([
    ['a', 10],
    ['b', 5],
    ['d', 1],
  ]),
  catalog: new Map([
    ['a', { categories: ['news'], publishedAt: NOW - 2 * 86_400_000 }],
    ['b', { categories: ['news'], publishedAt: NOW - 90 * 86_400_000 }],
    ['c', { categories: ['comedy'], publishedAt: NOW - 1 * 86_400_000 }],
    ['d', { categories: ['sport'], publishedAt: NOW - 400 * 86_400_000 }],
  ]),
  evaluatedAt: NOW,
};

function runs() {
  const model = new FixedLists({ u1: ['seen', 'a', 'd'], u2: ['b', 'd'], u3: ['c', 'zz-not-candidate'], u4: ['a'] });
  const pop = new FixedLists({ u1: ['d', 'a'], u2: ['d', 'a'], u3: ['d', 'a'], u4: ['d', 'a'] });
  const list: EvalRun[] = [
    { name: 'model', role: 'candidate', recommender: model },
    { name: 'popularity', role: 'baseline', recommender: pop },
  ];
  return { model, pop, list };
}

describe('evaluateRuns', () => {
  it('asks every run with the same context, exclusions and candidates, for k items', () => {
    const { model, pop, list } = runs();
    evaluateRuns(set, list, { k: 2, resamples: 50 });
    expect(model.calls.map((c) => c.context.userId)).toEqual(['u1', 'u2', 'u3']);
    expect(model.calls.map((c) => [c.context, c.k, c.options])).toEqual(pop.calls.map((c) => [c.context, c.k, c.options]));
    expect(model.calls[0]?.options).toEqual({ exclude: new Set(['seen']), candidates: set.candidates });
  });

  it('scores users with a relevant item and counts the others', () => {
    const report = evaluateRuns(set, runs().list, { k: 2, resamples: 50 });
    expect(report.users).toBe(3);
    expect(report.usersWithoutRelevant).toBe(1);
    const model = report.runs[0]!;
    // u1 gets [a, d] (seen is excluded): hit at rank 1; u2 [b, d]: hit at 1; u3 [c]: hit at 1.
    expect(model.metrics['hitrate@2']?.mean).toBe(1);
    expect(model.metrics['ndcg@2']?.mean).toBe(1);
    expect(model.metrics['precision@2']?.mean).toBeCloseTo(1 / 2, 12);
    const pop = report.runs[1]!;
    // popularity gets [d, a] for everyone: only u1 has a hit, at rank 2.
    expect(pop.metrics['ndcg@2']?.mean).toBeCloseTo(1 / Math.log2(3) / 3, 12);
  });

  it('reports every metric per slice value with its user count', () => {
    const model = evaluateRuns(set, runs().list, { k: 2, resamples: 50 }).runs[1]!;
    expect(model.slices).toEqual({
      country: {
        DE: { users: 1, metrics: expect.objectContaining({ 'hitrate@2': 0 }) },
        SE: { users: 2, metrics: expect.objectContaining({ 'hitrate@2': 0.5 }) },
      },
      userType: {
        established: { users: 2, metrics: expect.objectContaining({ 'hitrate@2': 0 }) },
        new: { users: 1, metrics: expect.objectContaining({ 'hitrate@2': 1 }) },
      },
    });
  });

  it('computes beyond-accuracy metrics from the lists, the catalog and the training counts', () => {
    const model = evaluateRuns(set, runs().list, { k: 2, resamples: 50, freshnessDays: 7 }).runs[0]!;
    // Lists: [a, d], [b, d], [c] over 5 candidates.
    expect(model.beyond.coverage).toBeCloseTo(4 / 5, 12);
    expect(model.beyond.freshness).toBeCloseTo(2 / 5, 12); // a and c are fresh
    expect(model.beyond.diversity).toBe(1); // news-sport, news-sport
    expect(model.beyond.newItemRecall).toBe(1); // c never occurs in training and is found
    expect(model.beyond.newItemRelevant).toBe(1);
  });

  it('compares the candidate with each other run on every metric, with a paired interval and lift', () => {
    const report = evaluateRuns(set, runs().list, { k: 2, resamples: 200 });
    expect(report.comparisons).toHaveLength(6);
    const ndcg = report.comparisons.find((c) => c.metric === 'ndcg@2')!;
    expect(ndcg).toMatchObject({ candidate: 'model', against: 'popularity', role: 'baseline' });
    expect(ndcg.difference.mean).toBeCloseTo(1 - 1 / Math.log2(3) / 3, 12);
    expect(ndcg.relativeLift).toBeCloseTo((1 - 1 / Math.log2(3) / 3) / (1 / Math.log2(3) / 3), 10);
    expect(ndcg.difference.lo).toBeLessThanOrEqual(ndcg.difference.mean);
  });

  it('gives the same report for the same seed', () => {
    const a = evaluateRuns(set, runs().list, { k: 2, seed: 3, resamples: 100 });
    const b = evaluateRuns(set, runs().list, { k: 2, seed: 3, resamples: 100 });
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
  });

  it('rejects a recommender that returns an item twice, naming the run, the user and the item', () => {
    const broken = new FixedLists({ u1: ['a', 'a'] });
    expect(() => evaluateRuns(set, [{ name: 'broken', role: 'candidate', recommender: broken }], { k: 3, resamples: 10 })).toThrow(
      InputError,
    );
    expect(() => evaluateRuns(set, [{ name: 'broken', role: 'candidate', recommender: broken }], { k: 3, resamples: 10 })).toThrow(
      /broken's list for user u1 names item "a" twice/,
    );
  });
});

describe('evaluatePredictions', () => {
  const truth = new Map([
    ['u2', new Map([['b', 1]])],
    [
      'u1',
      new Map([
        ['a', 2],
        ['x', 1],
      ]),
    ],
    ['u0', new Map<string, number>()],
  ]);

  it('scores lists given per user; a user without a list counts 0; the first run is the candidate', () => {
    const report = evaluatePredictions(
      truth,
      [
        { name: 'm', lists: new Map([['u1', ['a', 'x']]]) },
        {
          name: 'p',
          lists: new Map([
            ['u1', ['x']],
            ['u2', ['b']],
            ['u9', ['b']],
          ]),
        },
      ],
      { k: 2, resamples: 50 },
    );
    expect(report.users).toBe(2);
    expect(report.usersWithoutRelevant).toBe(1);
    expect(report.runs.map((r) => [r.name, r.role, r.usersWithoutPrediction])).toEqual([
      ['m', 'candidate', 1],
      ['p', 'baseline', 0],
    ]);
    expect(report.runs[0]?.metrics['ndcg@2']?.mean).toBeCloseTo(0.5, 12);
    expect(report.runs[0]?.metrics['recall@2']?.mean).toBeCloseTo(0.5, 12);
  });

  it('does not depend on the order users appear in', () => {
    const lists = new Map([
      ['u1', ['a']],
      ['u2', ['z']],
    ]);
    const reversed = new Map([...lists].reverse());
    const a = evaluatePredictions(truth, [{ name: 'm', lists }], { k: 2, resamples: 80 });
    const b = evaluatePredictions(new Map([...truth].reverse()), [{ name: 'm', lists: reversed }], { k: 2, resamples: 80 });
    expect(a).toEqual(b);
  });

  it('adds embedding diversity when item vectors are supplied', () => {
    const vectors = new Map([
      ['a', Float32Array.of(1, 0)],
      ['x', Float32Array.of(0, 1)],
    ]);
    const report = evaluatePredictions(truth, [{ name: 'm', lists: new Map([['u1', ['a', 'x']]]) }], {
      k: 2,
      resamples: 10,
      itemVectors: (i) => vectors.get(i),
    });
    expect(report.runs[0]?.beyond.embeddingDiversity).toBeCloseTo(1, 6);
  });
});

describe('scoreLists at scale', () => {
  // Its speed is a benchmark's business (npm run bench), not a timed unit test's: this checks the result at that size.
  it('scores 5k users × 10 runs with 1000 resamples: every paired comparison, every interval around its mean', () => {
    const users = 5_000;
    const items = Array.from({ length: 500 }, (_, i) => `i${i}`);
    const relevant = Array.from(
      { length: users },
      (_, u) =>
        new Map([
          [items[(u * 7) % 500] as string, 1],
          [items[(u * 13) % 500] as string, 1],
        ]),
    );
    const runsInput = Array.from({ length: 10 }, (_, r) => ({
      name: `run${r}`,
      role: r === 0 ? ('candidate' as const) : ('baseline' as const),
      kind: 'synthetic',
      lists: Array.from({ length: users }, (_, u) => Array.from({ length: 10 }, (_, j) => items[(u * (r + 3) + j * 11) % 500] as string)),
    }));
    const report = scoreLists(
      {
        shelf: 'x',
        userIds: relevant.map((_, u) => `u${u}`),
        relevant,
        slices: relevant.map((_, u) => ({ bucket: String(u % 4) })),
        runs: runsInput,
        catalog: new Map(),
        catalogSize: 500,
        trainItemCounts: new Map(),
        evaluatedAt: 0,
      },
      { k: 10, resamples: 1000 },
    );
    expect(report.comparisons).toHaveLength(9 * 6);
    for (const run of report.runs)
      for (const m of Object.values(run.metrics)) {
        expect(m.lo).toBeLessThanOrEqual(m.mean);
        expect(m.hi).toBeGreaterThanOrEqual(m.mean);
      }
  }, 60_000);
});
