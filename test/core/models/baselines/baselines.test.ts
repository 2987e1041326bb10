import { describe, expect, it } from 'vitest';
import { manifestJson, type ModelArtifact } from '../../../../lib/core/models/artifact.ts';
import { externalRecommender } from '../../../../lib/core/models/baselines/external.ts';
import { fitMostFrequent } from '../../../../lib/core/models/baselines/most-frequent.ts';
import { fitMostRecent } from '../../../../lib/core/models/baselines/most-recent.ts';
import { fitNewest } from '../../../../lib/core/models/baselines/newest.ts';
import { fitOwnHistory } from '../../../../lib/core/models/baselines/own-history.ts';
import { fitPopularity, fitRecentPopularity } from '../../../../lib/core/models/baselines/popularity.ts';
import { fitSegmentPopularity } from '../../../../lib/core/models/baselines/popularity-segment.ts';
import { fitRandom } from '../../../../lib/core/models/baselines/random.ts';
import { BASELINES_BY_SHELF, fitBaseline } from '../../../../lib/core/models/fit.ts';
import { loadRecommender, MODEL_KINDS } from '../../../../lib/core/models/load.ts';
import type { HistoryEvent, Recommender, TrainingData, UserContext } from '../../../../lib/core/models/recommender.ts';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const C = Date.parse('2026-10-08T00:00:00Z');

/** Popularity with half-life 14 days: a = 2·0.5^(1/14) ≈ 1.95, b = 1, c = 4·0.5 = 2, d = 1 (ties b by id). */
const data: TrainingData = {
  interactions: [
    { userId: 'u1', itemId: 'a', ts: C - DAY, weight: 1 },
    { userId: 'u2', itemId: 'a', ts: C - DAY, weight: 1 },
    { userId: 'u1', itemId: 'b', ts: C, weight: 1 },
    { userId: 'u3', itemId: 'c', ts: C - 14 * DAY, weight: 4 },
    { userId: 'u3', itemId: 'd', ts: C, weight: 1 },
  ],
  items: new Map([
    ['a', { type: 'show', publishedAt: C - 300 * DAY }],
    ['b', { type: 'show', publishedAt: C - 300 * DAY }],
    ['c', { type: 'show', publishedAt: C - 300 * DAY }],
    ['d', { type: 'show', publishedAt: C - 2 * DAY }],
    ['ep1', { type: 'episode', showId: 'x' }],
  ]),
  users: new Map([
    ['u1', { country: 'SE', onboardingGenres: ['jazz'] }],
    ['u2', { country: 'US' }],
    ['u3', { country: 'SE' }],
  ]),
  cutoff: C,
  snapshot: 'baselines-test',
  transformVersion: 'test',
};
const bytes = (artifact: ModelArtifact) => manifestJson(artifact.manifest) + Buffer.from(artifact.payload).toString('base64');
const anyone: UserContext = { userId: 'someone', now: C };
const ids = (model: Recommender, context: UserContext, k = 10, options = {}) => model.recommend(context, k, options).map((s) => s.itemId);

/** A history where x is played most, z most recently: x×3, y, z. */
const listen = (itemId: string, hoursAgo: number): HistoryEvent => ({
  itemId,
  ts: C - hoursAgo * HOUR,
  eventType: 'play',
  msPlayed: 60_000,
  progress: 0.5,
  localHour: 8,
});
const history: HistoryEvent[] = [listen('x', 50), listen('x', 30), listen('x', 10), listen('y', 4), listen('ep1', 2), listen('z', 1)];
const withHistory: UserContext = { userId: 'u9', now: C, history };

const fitted: Readonly<Record<string, Recommender>> = {
  popularity: fitPopularity(data),
  'recent-popularity': fitRecentPopularity(data),
  newest: fitNewest(data),
  'popularity-segment': fitSegmentPopularity(data),
  random: fitRandom(data, { seed: 7 }),
  'most-recent': fitOwnHistory('most-recent', data),
  'most-frequent': fitOwnHistory('most-frequent', data),
  external: externalRecommender(new Map([['u1', ['c', 'a', 'b']]]), 'editors'),
};
const contexts: readonly UserContext[] = [anyone, withHistory, { userId: 'u1', now: C, meta: { country: 'US' } }];

describe('popularity', () => {
  it('ranks by time-decayed interaction weight, ties by item id', () => {
    const scores = fitted.popularity?.recommend(anyone, 10) ?? [];
    expect(scores.map((s) => s.itemId)).toEqual(['c', 'a', 'b', 'd']);
    expect(scores[0]?.score).toBeCloseTo(2, 10);
    expect(scores[1]?.score).toBeCloseTo(2 * 0.5 ** (1 / 14), 10);
  });

  it('leaves out excluded items and ranks only the given candidates', () => {
    expect(ids(fitted.popularity as Recommender, anyone, 10, { exclude: new Set(['c']) })).toEqual(['a', 'b', 'd']);
    expect(ids(fitted.popularity as Recommender, anyone, 10, { candidates: ['d', 'b', 'new'] })).toEqual(['b', 'd', 'new']);
    expect(ids(fitted.popularity as Recommender, anyone, 2)).toEqual(['c', 'a']);
    expect(ids(fitted.popularity as Recommender, anyone, 0)).toEqual([]);
  });

  it('puts items published within the window first in recent-popularity', () => {
    // Half-life 7 days: a = 2·0.5^(1/7) ≈ 1.81, b = 1, c = 4·0.5² = 1 (ties b by id), d = 1 plus the freshness bonus.
    expect(ids(fitted['recent-popularity'] as Recommender, anyone)).toEqual(['d', 'a', 'b', 'c']);
  });
});

describe('newest', () => {
  it('ranks the items published by the cut-off newest first, ties by id, without undated items', () => {
    expect(ids(fitted.newest as Recommender, anyone)).toEqual(['d', 'a', 'b', 'c']);
    expect(ids(fitted.newest as Recommender, anyone, 2, { exclude: new Set(['d']) })).toEqual(['a', 'b']);
  });

  it('takes items published later through indexItems, and ranks only known candidates', () => {
    const model = fitNewest(data);
    const later = new Map([...(data.items ?? [])].concat([['e', { type: 'show', publishedAt: C + DAY }]]));
    expect(
      model.indexItems?.(
        new Map([
          ['e', []],
          ['a', []],
          ['unknown', []],
        ]),
        later,
      ),
    ).toBe(1);
    expect(ids(model, anyone, 3)).toEqual(['e', 'd', 'a']);
    expect(ids(model, anyone, 10, { candidates: ['c', 'nope', 'e'] })).toEqual(['e', 'c']);
    expect(ids(loadRecommender(model.save()), anyone, 3)).toEqual(['e', 'd', 'a']);
  });
});

describe('popularity-segment', () => {
  it("ranks the segment's favourite above the global favourite", () => {
    expect(ids(fitted['popularity-segment'] as Recommender, { userId: 'new', now: C, meta: { country: 'US' } })).toEqual([
      'a',
      'c',
      'b',
      'd',
    ]);
  });

  it('backs off to global popularity for a user without a known segment', () => {
    expect(ids(fitted['popularity-segment'] as Recommender, { userId: 'new', now: C, meta: { country: 'BR' } })).toEqual([
      'c',
      'a',
      'b',
      'd',
    ]);
    expect(ids(fitted['popularity-segment'] as Recommender, anyone)).toEqual(['c', 'a', 'b', 'd']);
  });
});

describe('own-history baselines', () => {
  it('ranks the most recent items first, episodes as their show', () => {
    expect(ids(fitted['most-recent'] as Recommender, withHistory)).toEqual(['z', 'x', 'y']);
  });

  it('ranks the most played items first, recency breaking ties', () => {
    expect(ids(fitted['most-frequent'] as Recommender, withHistory)).toEqual(['x', 'z', 'y']);
  });

  it('recommends nothing to a user without history or training interactions', () => {
    expect(ids(fitted['most-recent'] as Recommender, anyone)).toEqual([]);
  });

  it.each([
    ['most-recent', 'u1', ['b', 'a']],
    ['most-recent', 'u3', ['d', 'c']],
    ['most-frequent', 'u3', ['c', 'd']],
    ['most-frequent', 'u1', ['b', 'a']],
  ])("falls back to %s of %s's training interactions when the request has no history", (kind, userId, expected) => {
    const model = fitted[kind] as Recommender;
    expect(ids(model, { userId, now: C })).toEqual(expected);
    expect(ids(loadRecommender(model.save()), { userId, now: C, history: [] })).toEqual(expected);
    expect(ids(model, { userId, now: C }, 10, { candidates: [expected[1] as string, 'zz'] })).toEqual([expected[1]]);
    expect(ids(model, { userId, now: C }, 10, { exclude: new Set([expected[0] as string]) })).toEqual([expected[1]]);
  });

  it('is what fitMostRecent and fitMostFrequent build', () => {
    expect(bytes(fitMostRecent(data).save())).toBe(bytes((fitted['most-recent'] as Recommender).save()));
    expect(bytes(fitMostFrequent(data).save())).toBe(bytes((fitted['most-frequent'] as Recommender).save()));
  });
});

describe('random', () => {
  it('gives each user a fixed permutation of the training items that depends on the seed', () => {
    const model = fitted.random as Recommender;
    expect(ids(model, anyone).sort()).toEqual(['a', 'b', 'c', 'd']);
    expect(ids(model, anyone)).toEqual(ids(fitRandom(data, { seed: 7 }), anyone));
    const orders = new Set(Array.from({ length: 20 }, (_, s) => ids(fitRandom(data, { seed: s }), anyone).join()));
    expect(orders.size).toBeGreaterThan(5);
  });
});

describe('external', () => {
  it("serves a user's own list in order, without excluded items; unknown users get nothing", () => {
    const model = fitted.external as Recommender;
    expect(ids(model, { userId: 'u1', now: C }, 10, { exclude: new Set(['a']) })).toEqual(['c', 'b']);
    expect(ids(model, anyone)).toEqual([]);
  });
});

describe('save and load', () => {
  it.each(Object.keys(fitted))('loads %s back into a recommender with the same kind and recommendations', (kind) => {
    const model = fitted[kind] as Recommender;
    const loaded = loadRecommender(model.save());
    expect(loaded.kind).toBe(kind);
    for (const context of contexts) expect(loaded.recommend(context, 10)).toEqual(model.recommend(context, 10));
    expect(bytes(loaded.save())).toBe(bytes(model.save()));
  });

  it.each([...new Set(Object.values(BASELINES_BY_SHELF).flat())])('fits %s to identical bytes twice', (name) => {
    expect(bytes(fitBaseline(name, data, 3).save())).toBe(bytes(fitBaseline(name, data, 3).save()));
  });

  it('names every known kind when asked to load an unknown one', () => {
    const artifact = fitted.popularity?.save() as ModelArtifact;
    expect(() => loadRecommender({ ...artifact, manifest: { ...artifact.manifest, kind: 'nope' } })).toThrow(
      /unknown model kind "nope"; known kinds: .*popularity/,
    );
    expect(MODEL_KINDS).toEqual(expect.arrayContaining([...Object.keys(fitted), 'shortcuts-ranker', 'hybrid-warp']));
  });
});
