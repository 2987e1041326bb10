import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  assembleHome,
  DEFAULT_OVERLAY,
  fillShelf,
  freshWeight,
  rankFresh,
  whyFor,
  type CatalogView,
  type ShelfPlan,
} from '../../../lib/core/assembly/assemble.ts';
import { decideCanary, twoProportionZ, wilson, type ArmStats } from '../../../lib/core/gate/canary.ts';
import { chooseVariant, variantBucket } from '../../../lib/core/assembly/variant.ts';
import { DataQualityError } from '../../../lib/core/errors.ts';
import type {
  HistoryEvent,
  ItemMeta,
  Recommender,
  RecommendOptions,
  ScoredItem,
  UserContext,
} from '../../../lib/core/models/recommender.ts';

const DAY = 86_400_000;
const NOW = Date.parse('2026-10-01T00:00:00Z');

/** A recommender that ranks a fixed list (a test double of the model interface). */
function fixed(order: string[], kind = 'fixed'): Recommender {
  return {
    kind,
    knownItems: () => order,
    save: () => {
      throw new Error('not needed');
    },
    recommend: (_c, k, o: RecommendOptions = {}): ScoredItem[] =>
      order
        .filter((i) => !o.exclude?.has(i) && (!o.candidates || o.candidates.includes(i)))
        .slice(0, k)
        .map((itemId, n) => ({ itemId, score: 1 - n / 100 })),
  };
}

/** A recommender whose ranking throws, as a corrupt model would. */
const broken: Recommender = {
  ...fixed([]),
  kind: 'broken',
  recommend: () => {
    throw new Error('NaN in user vector');
  },
};

const old = { type: 'show', categories: ['news'], publishedAt: NOW - 100 * DAY };
const meta = new Map<string, ItemMeta>([
  ...['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map((id) => [id, old] as const),
  ['fresh1', { type: 'show', categories: ['tech'], publishedAt: NOW - 1 * DAY }],
  ['fresh2', { type: 'show', categories: ['tech'], publishedAt: NOW - 2 * DAY }],
  ['fresh3', { type: 'show', categories: ['tech'], publishedAt: NOW - 3 * DAY }],
  ['old-fresh', { type: 'show', categories: ['tech'], publishedAt: NOW - 30 * DAY }],
  ['ep1', { type: 'episode', categories: ['news'], publishedAt: NOW - 100 * DAY, showId: 'a' }],
]);
const view: CatalogView = { meta: (id) => meta.get(id), title: (id) => `title ${id}` };
const plan = (shelf: string, order: string[], extra: Partial<ShelfPlan> = {}): ShelfPlan => ({
  shelf,
  title: shelf,
  recommender: fixed(order),
  modelVersion: `${shelf}-v1`,
  variant: 'live',
  k: 4,
  ...extra,
});
const ctx: UserContext = { userId: 'u', now: NOW };
const listen = (itemId: string, localHour: number): HistoryEvent => ({
  itemId,
  ts: NOW - DAY,
  eventType: 'play',
  msPlayed: 60_000,
  progress: 0.5,
  localHour,
});

describe('chooseVariant', () => {
  it('keeps a user in the same arm', () => {
    expect(chooseVariant('u1', 'podcasts', 0.2, 's')).toBe(chooseVariant('u1', 'podcasts', 0.2, 's'));
  });

  it.each([0.01, 0.1, 0.2, 0.5])('gives the canary about its weight %f of users', (weight) => {
    const canary = Array.from({ length: 20_000 }, (_, i) => chooseVariant(`u-${String(i).padStart(7, '0')}`, 'podcasts', weight)).filter(
      (v) => v === 'canary',
    ).length;
    expect(Math.abs(canary / 20_000 - weight)).toBeLessThan(0.01);
  });

  it.each([
    [0, 'live'],
    [-1, 'live'],
    [Number.NaN, 'live'],
    [1, 'canary'],
  ] as const)('serves weight %f as %s for everyone', (weight, variant) => {
    expect(new Set(Array.from({ length: 100 }, (_, i) => chooseVariant(`u${i}`, 'playlists', weight)))).toEqual(new Set([variant]));
  });

  it('only moves live users into the canary when its weight grows', () => {
    const users = Array.from({ length: 2000 }, (_, i) => `u${i}`);
    const at10 = users.filter((u) => chooseVariant(u, 'podcasts', 0.1) === 'canary');
    const at30 = new Set(users.filter((u) => chooseVariant(u, 'podcasts', 0.3) === 'canary'));
    expect(at10.every((u) => at30.has(u))).toBe(true);
  });

  it('assigns arms independently per shelf', () => {
    const users = Array.from({ length: 10_000 }, (_, i) => `u${i}`);
    const both = users.filter(
      (u) => chooseVariant(u, 'podcasts', 0.5) === 'canary' && chooseVariant(u, 'playlists', 0.5) === 'canary',
    ).length;
    expect(both / users.length).toBeGreaterThan(0.23);
    expect(both / users.length).toBeLessThan(0.27);
    expect(variantBucket('u1', 'podcasts')).not.toBe(variantBucket('u1', 'playlists'));
  });
});

describe('assembleHome', () => {
  it('keeps the shelf order and never shows an item on two shelves', () => {
    const shelves = assembleHome(
      [plan('shortcuts', ['a', 'b']), plan('podcasts', ['a', 'c', 'd', 'b', 'e']), plan('playlists', ['c', 'f'])],
      ctx,
      view,
    );
    expect(shelves.map((s) => s.shelf)).toEqual(['shortcuts', 'podcasts', 'playlists']);
    expect(shelves.map((s) => s.items.map((i) => i.id))).toEqual([['a', 'b'], ['c', 'd', 'e'], ['f']]);
  });

  it('does not give a fresh item already shown on an earlier shelf', () => {
    const [, podcasts] = assembleHome(
      [plan('shortcuts', ['fresh1']), plan('podcasts', ['a', 'b', 'c', 'd'], { freshItems: ['fresh1'] })],
      ctx,
      view,
    );
    expect(podcasts?.items.map((i) => i.id)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('gives fresh items at most the configured slots, at positions 3 and 6, marked new', () => {
    const [shelf] = assembleHome(
      [plan('podcasts', ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'], { k: 8, freshItems: ['fresh1', 'fresh2', 'fresh3'] })],
      ctx,
      view,
    );
    const ids = shelf?.items.map((i) => i.id) ?? [];
    expect(ids).toHaveLength(8);
    expect(ids.filter((id) => id.startsWith('fresh'))).toHaveLength(DEFAULT_OVERLAY.maxSlots);
    expect([ids[2], ids[5]].every((id) => id?.startsWith('fresh'))).toBe(true);
    expect(shelf?.items.filter((i) => i.isNew).map((i) => i.id)).toEqual([ids[2], ids[5]]);
  });

  it.each([
    ['no slots', { maxSlots: 0 }, []],
    ['one slot', { maxSlots: 1 }, ['fresh1']],
    ['an age cut-off of 2 days', { maxSlots: 3, maxAgeDays: 2 }, ['fresh1', 'fresh2']],
  ])('respects %s', (_name, over, expected) => {
    const [shelf] = assembleHome(
      [plan('podcasts', ['a', 'b', 'c', 'd', 'e', 'f'], { k: 6, freshItems: ['fresh1', 'fresh2', 'fresh3', 'old-fresh'] })],
      ctx,
      view,
      { ...DEFAULT_OVERLAY, exploration: 0, ...over },
    );
    expect(
      shelf?.items
        .map((i) => i.id)
        .filter((id) => id.includes('fresh'))
        .sort(),
    ).toEqual(expected);
  });

  it('gives the same shelves for the same seed', () => {
    const plans = [plan('podcasts', ['a', 'b', 'c'], { freshItems: ['fresh1', 'fresh2', 'fresh3'] })];
    expect(assembleHome(plans, ctx, view, DEFAULT_OVERLAY, 42)).toEqual(assembleHome(plans, ctx, view, DEFAULT_OVERLAY, 42));
  });

  it('explores: with exploration only, the seed decides which fresh item gets the slot', () => {
    const winners = new Set(
      Array.from(
        { length: 40 },
        (_, seed) =>
          assembleHome(
            [plan('podcasts', ['a', 'b'], { freshItems: ['fresh1', 'fresh2'], recommender: fixed(['a', 'b']) })],
            ctx,
            view,
            { ...DEFAULT_OVERLAY, maxSlots: 1, halfLifeDays: 1e9, exploration: 1 },
            seed,
          )[0]?.items.find((i) => i.isNew)?.id,
      ),
    );
    expect(winners).toEqual(new Set(['fresh1', 'fresh2']));
  });

  it('serves the fallback and says why when the model throws while ranking', () => {
    const [shelf] = assembleHome(
      [plan('podcasts', [], { recommender: broken, fallback: { recommender: fixed(['c', 'd']), modelVersion: 'heuristic:popularity' } })],
      ctx,
      view,
    );
    expect(shelf).toMatchObject({
      variant: 'fallback',
      modelVersion: 'heuristic:popularity',
      fallbackReason: 'model podcasts-v1 failed while ranking: NaN in user vector',
    });
    expect(shelf?.items.map((i) => i.id)).toEqual(['c', 'd']);
  });

  it('serves an empty shelf, not an error, when the model throws and there is no fallback', () => {
    const shelves = assembleHome([plan('shortcuts', ['a']), plan('podcasts', [], { recommender: broken })], ctx, view);
    expect(shelves[1]).toMatchObject({ variant: 'fallback', items: [] });
    expect(shelves[0]?.items.map((i) => i.id)).toEqual(['a']);
  });
});

describe('fresh ranking', () => {
  it('halves the weight every half-life and stops at the cut-off', () => {
    expect(freshWeight(0, DEFAULT_OVERLAY)).toBe(1);
    expect(freshWeight(3, DEFAULT_OVERLAY)).toBeCloseTo(0.5, 10);
    expect(freshWeight(6, DEFAULT_OVERLAY)).toBeCloseTo(0.25, 10);
    expect(freshWeight(14, DEFAULT_OVERLAY)).toBeGreaterThan(0);
    expect(freshWeight(14.01, DEFAULT_OVERLAY)).toBe(0);
    expect(freshWeight(-1, DEFAULT_OVERLAY)).toBe(0);
  });

  it('scores weight × relevance without exploration (hand-computed)', () => {
    // fresh2 ranked first of 2 by the model: relevance 1, age 2 days: 0.5^(2/3) = 0.62996; fresh1: relevance 0.5, age 1 day: 0.5 × 0.5^(1/3) = 0.39685.
    const ranked = rankFresh(
      ['fresh1', 'fresh2'],
      [
        { itemId: 'fresh2', score: 3 },
        { itemId: 'fresh1', score: 1 },
      ],
      NOW,
      view,
      { ...DEFAULT_OVERLAY, exploration: 0 },
      0,
    );
    expect(ranked.map((r) => r.itemId)).toEqual(['fresh2', 'fresh1']);
    expect(ranked[0]?.score).toBeCloseTo(0.62996, 4);
    expect(ranked[1]?.score).toBeCloseTo(0.39685, 4);
  });
});

describe('why an item is shown', () => {
  it.each([
    [
      'a shortcut played at the same hour',
      'shortcuts',
      'live',
      'a',
      false,
      { history: [listen('ep1', 8), listen('a', 8), listen('a', 21)] },
      'you usually listen around 8:00',
    ],
    ['a shortcut played once', 'shortcuts', 'live', 'b', false, { history: [listen('b', 8)] }, 'you were listening to this recently'],
    [
      'a fresh show like one the user plays',
      'podcasts',
      'live',
      'fresh1',
      true,
      { history: [listen('ep1', 8), listen('c', 9)] },
      'new in tech, out 1 day ago',
    ],
    [
      'a fresh show sharing a category with a played show',
      'podcasts',
      'live',
      'fresh1',
      true,
      { history: [listen('fresh2', 8)] },
      'new, from a show like title fresh2',
    ],
    [
      'a pick for a listener never seen',
      'playlists',
      'live',
      'c',
      false,
      { meta: { onboardingGenres: ['jazz', 'rock', 'pop'] } },
      'popular with listeners who like jazz and rock',
    ],
    [
      'a fallback pick for a known listener',
      'podcasts',
      'fallback',
      'c',
      false,
      { history: [listen('a', 8)], meta: { country: 'SE' } },
      'popular in SE',
    ],
    ['a model pick for a known listener', 'podcasts', 'live', 'c', false, { history: [listen('a', 8)] }, 'because you listen to news'],
  ] as const)('explains %s', (_name, shelf, variant, item, fresh, over, why) => {
    expect(whyFor(shelf, variant, item, fresh, { ...ctx, ...over }, view)).toBe(why);
  });

  it('shows the reason on the assembled item', () => {
    const shelf = fillShelf(
      plan('podcasts', ['c'], { variant: 'fallback' }),
      { ...ctx, meta: { country: 'BR' }, history: [listen('a', 8)] },
      new Set(),
      view,
    );
    expect(shelf.items[0]).toEqual({ id: 'c', type: 'show', title: 'title c', score: 1, why: 'popular in BR', isNew: false });
  });
});

interface CanaryCase {
  name: string;
  live: ArmStats;
  canary: ArmStats;
  action: string;
  reason: string;
}
const canaryCases = JSON.parse(readFileSync(new URL('./fixtures/canary-cases.json', import.meta.url), 'utf8')) as CanaryCase[];

describe('decideCanary', () => {
  it.each(canaryCases)('$name', ({ live, canary, action, reason }) => {
    const d = decideCanary({ live, canary });
    expect(d.action).toBe(action);
    expect(d.reason).toContain(reason);
    expect(d.reason).toMatch(/canary play rate .* on \d+ impressions vs live/);
  });

  it('takes the arms as one object or as two arguments', () => {
    const live = { impressions: 5000, plays: 600 };
    const canary = { impressions: 1000, plays: 60 };
    expect(decideCanary(live, canary)).toEqual(decideCanary({ live, canary }));
  });

  it('follows the policy: fewer impressions needed, no tolerance', () => {
    const d = decideCanary(
      { live: { impressions: 100, plays: 20 }, canary: { impressions: 100, plays: 19 } },
      { minImpressions: 50, tolerance: 0, z: 1.96 },
    );
    expect(d.action).toBe('promote');
  });

  it.each([
    ['more plays than impressions', { impressions: 10, plays: 11 }],
    ['negative counts', { impressions: -1, plays: 0 }],
    ['fractional counts', { impressions: 10.5, plays: 1 }],
  ])('refuses %s', (_name, canary) => {
    expect(() => decideCanary({ impressions: 100, plays: 1 }, canary)).toThrow(DataQualityError);
  });
});

describe('statistics', () => {
  it.each([
    // Wilson 95% intervals, computed by hand from the closed form.
    [30, 100, 0.2189, 0.3958],
    [0, 10, 0, 0.2775],
    [10, 10, 0.7225, 1],
  ])('gives the Wilson interval of %i of %i as [%f, %f]', (k, n, lo, hi) => {
    const r = wilson(k, n);
    expect(r.rate).toBe(k / n);
    expect(r.lo).toBeCloseTo(lo, 3);
    expect(r.hi).toBeCloseTo(hi, 3);
  });

  it('gives [0, 1] for no trials', () => {
    expect(wilson(0, 0)).toEqual({ rate: 0, lo: 0, hi: 1 });
  });

  it('computes the pooled two-proportion z (hand-computed) and 0 without data', () => {
    // p1 = 0.12, p2 = 0.06, pooled = 660/6000 = 0.11, se = sqrt(0.11 × 0.89 × (1/5000 + 1/1000)) = 0.010839, z = −0.06 / se
    expect(twoProportionZ({ impressions: 5000, plays: 600 }, { impressions: 1000, plays: 60 })).toBeCloseTo(-5.5357, 3);
    expect(twoProportionZ({ impressions: 0, plays: 0 }, { impressions: 10, plays: 1 })).toBe(0);
  });
});
