import { describe, expect, it } from 'vitest';
import { assembleHome, DEFAULT_OVERLAY, freshWeight, type CatalogView, type ShelfPlan } from '../../../lib/core/serving/assemble.ts';
import { decideCanary, wilson } from '../../../lib/core/serving/canary.ts';
import { chooseVariant } from '../../../lib/core/serving/variant.ts';
import type { ItemMeta, Recommender, RecommendOptions, ScoredItem } from '../../../lib/core/models/recommender.ts';

const DAY = 86_400_000;
const NOW = Date.parse('2026-10-01T00:00:00Z');

/** A recommender that ranks a fixed list (a test double of the model interface). */
function fixed(order: string[]): Recommender {
  return {
    kind: 'fixed',
    knownItems: () => order,
    save: () => { throw new Error('not needed'); },
    recommend: (_c, k, o: RecommendOptions = {}): ScoredItem[] =>
      order.filter((i) => !o.exclude?.has(i) && (!o.candidates || o.candidates.includes(i))).slice(0, k).map((itemId, n) => ({ itemId, score: 1 - n / 100 })),
  };
}

const meta = new Map<string, ItemMeta>([
  ...['a', 'b', 'c', 'd', 'e', 'f'].map((id) => [id, { type: 'show', categories: ['news'], publishedAt: NOW - 100 * DAY }] as const),
  ['fresh1', { type: 'show', categories: ['tech'], publishedAt: NOW - 1 * DAY }],
  ['old-fresh', { type: 'show', categories: ['tech'], publishedAt: NOW - 30 * DAY }],
]);
const view: CatalogView = { meta: (id) => meta.get(id), title: (id) => `title ${id}` };
const plan = (shelf: string, order: string[], extra: Partial<ShelfPlan> = {}): ShelfPlan => ({ shelf, title: shelf, recommender: fixed(order), modelVersion: `${shelf}-v1`, variant: 'live', k: 4, ...extra });

describe('variants', () => {
  it('keeps a user in the same arm and gives the canary about its weight', () => {
    expect(chooseVariant('u1', 'podcasts', 0.2)).toBe(chooseVariant('u1', 'podcasts', 0.2));
    const canary = Array.from({ length: 10_000 }, (_, i) => chooseVariant(`u${i}`, 'podcasts', 0.2)).filter((v) => v === 'canary').length;
    expect(canary / 10_000).toBeGreaterThan(0.18);
    expect(canary / 10_000).toBeLessThan(0.22);
    expect(chooseVariant('u1', 'podcasts', 0)).toBe('live');
  });
});

describe('assembleHome', () => {
  it('keeps the shelf order and never shows an item on two shelves', () => {
    const shelves = assembleHome([plan('shortcuts', ['a', 'b']), plan('podcasts', ['a', 'c', 'd', 'b', 'e']), plan('playlists', ['c', 'f'])], { userId: 'u', now: NOW }, view);
    expect(shelves.map((s) => s.shelf)).toEqual(['shortcuts', 'podcasts', 'playlists']);
    expect(shelves.map((s) => s.items.map((i) => i.id))).toEqual([['a', 'b'], ['c', 'd', 'e'], ['f']]);
  });

  it('gives fresh items at most the configured slots, marked new, and none past the age cut-off', () => {
    const [shelf] = assembleHome([plan('podcasts', ['a', 'b', 'c', 'd', 'e'], { freshItems: ['fresh1', 'old-fresh'] })], { userId: 'u', now: NOW }, view, { ...DEFAULT_OVERLAY, maxSlots: 1 });
    const ids = shelf?.items.map((i) => i.id) ?? [];
    expect(ids).toContain('fresh1');
    expect(ids).not.toContain('old-fresh');
    expect(ids).toHaveLength(4);
    expect(shelf?.items.find((i) => i.id === 'fresh1')).toMatchObject({ isNew: true, why: expect.stringMatching(/new in tech/) });
  });

  it('decays the exploration weight with age and stops at the cut-off', () => {
    expect(freshWeight(0, DEFAULT_OVERLAY)).toBe(1);
    expect(freshWeight(3, DEFAULT_OVERLAY)).toBeCloseTo(0.5, 10);
    expect(freshWeight(15, DEFAULT_OVERLAY)).toBe(0);
  });
});

describe('canary decisions', () => {
  it.each([
    ['waits without enough impressions', { impressions: 100, plays: 10 }, { impressions: 50, plays: 1 }, 'wait'],
    ['rolls back a significantly worse canary', { impressions: 5000, plays: 600 }, { impressions: 1000, plays: 60 }, 'rollback'],
    ['promotes a canary that is not worse', { impressions: 5000, plays: 600 }, { impressions: 1000, plays: 125 }, 'promote'],
  ])('%s', (_t, live, canary, action) => {
    const d = decideCanary(live, canary);
    expect(d.action).toBe(action);
    expect(d.reason).toMatch(/play rate/);
  });

  it('computes Wilson intervals that contain the rate', () => {
    const r = wilson(30, 100);
    expect(r.rate).toBe(0.3);
    expect(r.lo).toBeLessThan(0.3);
    expect(r.hi).toBeGreaterThan(0.3);
    expect(r.lo).toBeCloseTo(0.2189, 3);
  });
});
