import { describe, expect, it } from 'vitest';
import type { CatalogItem, ListeningEvent, User } from '../../../lib/core/contract.ts';
import {
  historyOf,
  isPositiveListen,
  itemFeatures,
  itemMeta,
  requestUserFeatures,
  userFeatures,
} from '../../../lib/core/transforms/entities.ts';
import {
  buildShortcutsExamples,
  SHORTCUT_FEATURE_NAMES,
  shortcutCandidates,
  shortcutCatalog,
  shortcutFeatures,
  shortcutUnit,
  weekdayOf,
} from '../../../lib/core/transforms/shortcuts.ts';

const HOUR = 3_600_000;
const t0 = Date.parse('2026-10-01T00:00:00Z');
const at = (h: number) => new Date(t0 + h * HOUR).toISOString();

const catalog: CatalogItem[] = [
  {
    itemId: 'show1',
    type: 'show',
    title: 'Morning news',
    categories: ['news'],
    publisher: 'p1',
    language: 'en',
    publishedAt: '2026-01-01T00:00:00Z',
  },
  {
    itemId: 'ep1',
    type: 'episode',
    title: 'ep 1',
    categories: ['news'],
    publisher: 'p1',
    language: 'en',
    publishedAt: at(-30),
    showId: 'show1',
  },
  {
    itemId: 'ep2',
    type: 'episode',
    title: 'ep 2',
    categories: ['news'],
    publisher: 'p1',
    language: 'en',
    publishedAt: at(40),
    showId: 'show1',
  },
  {
    itemId: 'album1',
    type: 'album',
    title: 'An album',
    categories: ['jazz', 'rock'],
    publisher: 'label',
    language: 'en',
    publishedAt: '2025-01-01T00:00:00Z',
  },
  {
    itemId: 'book1',
    type: 'audiobook',
    title: 'A book',
    categories: ['history'],
    publisher: 'pub',
    language: 'en',
    publishedAt: '2025-01-01T00:00:00Z',
  },
];
const ev = (itemId: string, h: number, eventType: ListeningEvent['eventType'], progress: number): ListeningEvent => ({
  userId: 'u1',
  itemId,
  eventType,
  msPlayed: 600_000,
  progress,
  timestamp: at(h),
  device: 'mobile',
  country: 'SE',
  localHour: new Date(t0 + h * HOUR).getUTCHours(),
});
const events: ListeningEvent[] = [
  ev('ep1', 8, 'play', 0.5),
  ev('album1', 20, 'play', 0.3),
  ev('ep1', 32, 'complete', 1),
  ev('book1', 44, 'play', 0.1),
  ev('album1', 56, 'resume', 0.6),
  ev('ep2', 80, 'play', 0.9),
  ev('book1', 92, 'resume', 0.2),
];

describe('entity features', () => {
  it('gives a stored user and the same facts at request time identical features', () => {
    const user: User = {
      userId: 'u1',
      country: 'SE',
      signupAt: '2026-01-01T00:00:00Z',
      onboardingGenres: ['jazz', 'news'],
      device: 'mobile',
      ageBand: '25-34',
    };
    expect(requestUserFeatures({ country: 'SE', device: 'mobile', ageBand: '25-34', onboardingGenres: ['jazz', 'news'] })).toEqual(
      userFeatures(user),
    );
    expect(userFeatures(user)).toEqual([
      ['country:SE', 1],
      ['device:mobile', 1],
      ['age:25-34', 1],
      ['genre:jazz', 1],
      ['genre:news', 1],
    ]);
  });

  it('weights the primary category 1 and the others 0.5', () => {
    expect(itemFeatures(catalog[3] as CatalogItem)).toEqual([
      ['type:album', 1],
      ['cat:jazz', 1],
      ['cat:rock', 0.5],
      ['pub:label', 1],
      ['lang:en', 1],
    ]);
  });
});

describe('shortcut features', () => {
  const meta = new Map(catalog.map((i) => [i.itemId, itemMeta(i)]));
  const sc = shortcutCatalog(meta);
  const history = historyOf(events).get('u1') ?? [];

  it('lists the distinct recent units, episodes as their show, most recent first, only before now', () => {
    expect(shortcutCandidates(history, t0 + 60 * HOUR, sc)).toEqual(['album1', 'book1', 'show1']);
    expect(shortcutCandidates(history, t0 + 21 * HOUR, sc)).toEqual(['album1', 'show1']);
  });

  // At Saturday 2026-10-03 12:00, local hour 8. show1: ep1 played Thu 08:00 (0.5), completed Fri 08:00;
  // ep2 published Fri 16:00. album1: played Thu 20:00 (0.3), resumed Sat 08:00 (0.6).
  const now = t0 + 60 * HOUR;
  const rows = shortcutFeatures(history, ['show1', 'album1'], { now, localHour: 8, weekday: weekdayOf(now) }, sc);
  const width = SHORTCUT_FEATURE_NAMES.length;
  it.each([
    ['show1', 0, 'log_hours_since_last', Math.log1p(28)],
    ['show1', 0, 'log_plays_1d', 0],
    ['show1', 0, 'log_plays_7d', Math.log1p(2)],
    ['show1', 0, 'log_plays_28d', Math.log1p(2)],
    ['show1', 0, 'hour_affinity', 1],
    ['show1', 0, 'weekday_affinity', 0],
    ['show1', 0, 'last_progress', 1],
    ['show1', 0, 'finished', 1],
    ['show1', 0, 'new_episode', 1],
    ['show1', 0, 'recency_rank', 0],
    ['show1', 0, 'type_show', 1],
    ['show1', 0, 'type_album', 0],
    ['album1', 1, 'log_hours_since_last', Math.log1p(4)],
    ['album1', 1, 'log_plays_1d', Math.log1p(1)],
    ['album1', 1, 'log_plays_7d', Math.log1p(2)],
    ['album1', 1, 'hour_affinity', 0.5],
    ['album1', 1, 'weekday_affinity', 0.5],
    ['album1', 1, 'last_progress', 0.6],
    ['album1', 1, 'finished', 0],
    ['album1', 1, 'new_episode', 0],
    ['album1', 1, 'recency_rank', 1],
    ['album1', 1, 'type_album', 1],
  ] as const)('gives %s (row %i) %s = %d', (_unit, row, name, expected) => {
    expect(SHORTCUT_FEATURE_NAMES).toContain(name);
    expect(rows[row * width + SHORTCUT_FEATURE_NAMES.indexOf(name)]).toBeCloseTo(expected, 5);
  });

  it('ignores history at or after now (no leakage)', () => {
    const future = [
      ...history,
      { itemId: 'album1', ts: now, eventType: 'play', msPlayed: 1, progress: 0.9, localHour: 8 },
      { itemId: 'ep2', ts: now + HOUR, eventType: 'complete', msPlayed: 1, progress: 1, localHour: 9 },
    ];
    expect(Array.from(shortcutFeatures(future, ['show1', 'album1'], { now, localHour: 8, weekday: weekdayOf(now) }, sc))).toEqual(
      Array.from(rows),
    );
    expect(shortcutCandidates(future, now, sc)).toEqual(shortcutCandidates(history, now, sc));
  });

  it.each([
    ['ep1', 'show1', 'an episode points at its show'],
    ['track1', 'album1', 'a track points at its album (showId)'],
    ['track2', 'track2', 'a track without an album points at itself'],
    ['album1', 'album1', 'an album points at itself'],
    ['book1', 'book1', 'an audiobook points at itself'],
    ['nowhere', 'nowhere', 'an unknown id points at itself'],
  ])('maps %s to the shortcut unit %s: %s', (itemId, unit) => {
    const withTracks = new Map(meta);
    withTracks.set('track1', { type: 'track', showId: 'album1' });
    withTracks.set('track2', { type: 'track' });
    expect(shortcutUnit(itemId, withTracks)).toBe(unit);
  });

  it('gives identical features on the batch (training examples) and request (serving) paths', () => {
    const examples = buildShortcutsExamples(historyOf(events), sc, { from: t0, to: t0 + 200 * HOUR });
    expect(examples.groups.length).toBeGreaterThan(2);
    const width = SHORTCUT_FEATURE_NAMES.length;
    for (let g = 0; g + 1 < examples.groups.length; g++) {
      const from = examples.groups[g] as number;
      const to = examples.groups[g + 1] as number;
      // Reconstruct the decision point the batch path used: the first listen after the previous group's.
      const start = history.find(
        (e) => shortcutCandidates(history, e.ts, sc).join() === examples.itemIds.slice(from, to).join() && e.ts > t0,
      ) as (typeof history)[number];
      const served = shortcutFeatures(
        history,
        shortcutCandidates(history, start.ts, sc),
        { now: start.ts, localHour: start.localHour, weekday: weekdayOf(start.ts) },
        sc,
      );
      expect(Array.from(served)).toEqual(Array.from(examples.features.subarray(from * width, to * width)));
    }
  });
});

describe('positive listens', () => {
  it.each([
    ['play', 30_000, 0, true],
    ['play', 29_999, 0.05, false],
    ['resume', 0, 0.1, true],
    ['complete', 600_000, 1, true],
    ['skip', 600_000, 0.5, false],
    ['impression', 0, 0, false],
    ['save', 0, 0.5, false],
  ] as const)('counts a %s of %i ms at progress %d as positive: %s', (eventType, msPlayed, progress, expected) => {
    expect(isPositiveListen({ eventType, msPlayed, progress })).toBe(expected);
  });
});
