import { describe, expect, it } from 'vitest';
import type { CatalogItem, ListeningEvent, User } from '../../../lib/core/contract.ts';
import { historyOf, itemFeatures, itemMeta, requestUserFeatures, userFeatures } from '../../../lib/core/features/entities.ts';
import { buildShortcutsExamples, SHORTCUT_FEATURE_NAMES, shortcutCandidates, shortcutCatalog, shortcutFeatures, weekdayOf } from '../../../lib/core/features/shortcuts.ts';
import { TRANSFORM_DEFINITIONS, TRANSFORM_VERSION, versionOf } from '../../../lib/core/features/version.ts';

const HOUR = 3_600_000;
const t0 = Date.parse('2026-10-01T00:00:00Z');
const at = (h: number) => new Date(t0 + h * HOUR).toISOString();

const catalog: CatalogItem[] = [
  { itemId: 'show1', type: 'show', title: 'Morning news', categories: ['news'], publisher: 'p1', language: 'en', publishedAt: '2026-01-01T00:00:00Z' },
  { itemId: 'ep1', type: 'episode', title: 'ep 1', categories: ['news'], publisher: 'p1', language: 'en', publishedAt: at(-30), showId: 'show1' },
  { itemId: 'ep2', type: 'episode', title: 'ep 2', categories: ['news'], publisher: 'p1', language: 'en', publishedAt: at(40), showId: 'show1' },
  { itemId: 'album1', type: 'album', title: 'An album', categories: ['jazz', 'rock'], publisher: 'label', language: 'en', publishedAt: '2025-01-01T00:00:00Z' },
  { itemId: 'book1', type: 'audiobook', title: 'A book', categories: ['history'], publisher: 'pub', language: 'en', publishedAt: '2025-01-01T00:00:00Z' },
];
const ev = (itemId: string, h: number, eventType: ListeningEvent['eventType'], progress: number): ListeningEvent => ({
  userId: 'u1', itemId, eventType, msPlayed: 600_000, progress, timestamp: at(h), device: 'mobile', country: 'SE', localHour: new Date(t0 + h * HOUR).getUTCHours(),
});
const events: ListeningEvent[] = [
  ev('ep1', 8, 'play', 0.5), ev('album1', 20, 'play', 0.3), ev('ep1', 32, 'complete', 1),
  ev('book1', 44, 'play', 0.1), ev('album1', 56, 'resume', 0.6), ev('ep2', 80, 'play', 0.9), ev('book1', 92, 'resume', 0.2),
];

describe('entity features', () => {
  it('gives a stored user and the same facts at request time identical features', () => {
    const user: User = { userId: 'u1', country: 'SE', signupAt: '2026-01-01T00:00:00Z', onboardingGenres: ['jazz', 'news'], device: 'mobile', ageBand: '25-34' };
    expect(requestUserFeatures({ country: 'SE', device: 'mobile', ageBand: '25-34', onboardingGenres: ['jazz', 'news'] })).toEqual(userFeatures(user));
    expect(userFeatures(user)).toEqual([['country:SE', 1], ['device:mobile', 1], ['age:25-34', 1], ['genre:jazz', 1], ['genre:news', 1]]);
  });

  it('weights the primary category 1 and the others 0.5', () => {
    expect(itemFeatures(catalog[3] as CatalogItem)).toEqual([['type:album', 1], ['cat:jazz', 1], ['cat:rock', 0.5], ['pub:label', 1], ['lang:en', 1]]);
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

  it('computes hand-checked values: recency, counts, progress, finished, new episode', () => {
    const now = t0 + 60 * HOUR;
    const f = shortcutFeatures(history, ['show1', 'album1'], { now, localHour: 8, weekday: weekdayOf(now) }, sc);
    const width = SHORTCUT_FEATURE_NAMES.length;
    const get = (row: number, name: string) => f[row * width + SHORTCUT_FEATURE_NAMES.indexOf(name)];
    expect(get(0, 'log_hours_since_last')).toBeCloseTo(Math.log1p(28), 5);
    expect(get(0, 'log_plays_28d')).toBeCloseTo(Math.log1p(2), 5);
    expect(get(0, 'finished')).toBe(1);
    expect(get(0, 'new_episode')).toBe(1); // ep2 published at +40h, after the last play at +32h
    expect(get(0, 'hour_affinity')).toBeCloseTo(1, 5); // both plays at 08:00
    expect(get(1, 'last_progress')).toBeCloseTo(0.6, 5);
    expect(get(1, 'type_album')).toBe(1);
  });

  it('gives identical features on the batch (training examples) and request (serving) paths', () => {
    const examples = buildShortcutsExamples(historyOf(events), sc, { from: t0, to: t0 + 200 * HOUR });
    expect(examples.groups.length).toBeGreaterThan(2);
    const width = SHORTCUT_FEATURE_NAMES.length;
    for (let g = 0; g + 1 < examples.groups.length; g++) {
      const from = examples.groups[g] as number;
      const to = examples.groups[g + 1] as number;
      // Reconstruct the decision point the batch path used: the first listen after the previous group's.
      const start = history.find((e) => shortcutCandidates(history, e.ts, sc).join() === examples.itemIds.slice(from, to).join() && e.ts > t0) as (typeof history)[number];
      const served = shortcutFeatures(history, shortcutCandidates(history, start.ts, sc), { now: start.ts, localHour: start.localHour, weekday: weekdayOf(start.ts) }, sc);
      expect(Array.from(served)).toEqual(Array.from(examples.features.subarray(from * width, to * width)));
    }
  });
});

describe('transform version', () => {
  it('is a 16-hex-digit hash of the transform definitions', () => {
    expect(TRANSFORM_VERSION).toMatch(/^[0-9a-f]{16}$/);
    expect(versionOf(TRANSFORM_DEFINITIONS)).toBe(TRANSFORM_VERSION);
  });

  it('changes when a transform changes', () => {
    const changed = TRANSFORM_DEFINITIONS.map((d) => (d === itemFeatures ? (item: CatalogItem) => [[`type:${item.type}`, 2]] : d));
    expect(versionOf(changed)).not.toBe(TRANSFORM_VERSION);
  });
});
