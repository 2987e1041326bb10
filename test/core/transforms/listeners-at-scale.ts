/**
 * A generated world of many listeners for the protocol's scale paths (samples, columns): every
 * listener has a few favourite shows, albums and playlists and listens to them (and now and then to
 * something new) in sessions on most days before and after the cut-off, in event order by time except for a few late-logged events.
 * Deterministic by seed.
 */
import type { CatalogItem, ListeningEvent, User } from '../../../lib/core/contract.ts';
import { Rng } from '../../../lib/core/rng.ts';

export const SCALE_CUTOFF = Date.parse('2026-10-22T00:00:00Z');
export const SCALE_TEST_DAYS = 3;
const DAY = 86_400_000;

export function listenersAtScale(users: number, seed = 1): { events: ListeningEvent[]; catalog: CatalogItem[]; users: User[] } {
  const rng = new Rng(seed);
  const catalog: CatalogItem[] = [];
  const item = (itemId: string, type: CatalogItem['type'], category: string, showId?: string): CatalogItem => ({
    itemId,
    type,
    title: itemId,
    categories: [category],
    publisher: `pub-${category}`,
    language: 'en',
    publishedAt: '2026-01-01T00:00:00Z',
    ...(showId ? { showId } : {}),
  });
  const units: string[] = [];
  for (let s = 0; s < 12; s++) {
    catalog.push(item(`show${s}`, 'show', `cat${s % 4}`));
    for (let e = 0; e < 3; e++) catalog.push(item(`show${s}-ep${e}`, 'episode', `cat${s % 4}`, `show${s}`));
    units.push(`show${s}-ep${s % 3}`);
  }
  for (let a = 0; a < 8; a++) {
    catalog.push(item(`album${a}`, 'album', `genre${a % 3}`));
    catalog.push(item(`pl${a}`, 'playlist', `genre${a % 3}`));
    units.push(`album${a}`, `pl${a}`);
  }
  const list: User[] = [];
  const events: ListeningEvent[] = [];
  for (let u = 0; u < users; u++) {
    const userId = `user-${String(u).padStart(4, '0')}`;
    list.push({
      userId,
      country: ['SE', 'US', 'DE'][u % 3] as string,
      signupAt: '2026-01-01T00:00:00Z',
      onboardingGenres: [`genre${u % 3}`],
      device: 'mobile',
      ageBand: '25-34',
    });
    const favourites = Array.from({ length: 3 + rng.int(4) }, () => units[rng.int(units.length)] as string);
    for (let day = -25; day < SCALE_TEST_DAYS; day++) {
      if (rng.next() < 0.3) continue;
      let ts = SCALE_CUTOFF + day * DAY + (6 + rng.int(14)) * 3_600_000;
      for (let k = 0, n = 1 + rng.int(3); k < n; k++) {
        const played = 60_000 + rng.int(1_800_000);
        events.push({
          userId,
          // Mostly favourites; now and then something new (podcasts' relevant items are new shows).
          itemId: (rng.next() < 0.15 ? units[rng.int(units.length)] : favourites[rng.int(favourites.length)]) as string,
          eventType: rng.next() < 0.1 ? 'skip' : rng.next() < 0.2 ? 'complete' : 'play',
          msPlayed: played,
          progress: Math.round(rng.next() * 1000) / 1000,
          timestamp: new Date(ts).toISOString(),
          device: 'mobile',
          country: 'SE',
          localHour: new Date(ts).getUTCHours(),
        });
        ts += played + 60_000;
      }
    }
  }
  // By time, as channels hold them, except a few events logged late (out of order).
  events.sort((a, b) => (a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : 0));
  for (let i = 0; i + 50 < events.length; i += 97) {
    const [late] = events.splice(i, 1);
    events.splice(i + 50, 0, late as ListeningEvent);
  }
  return { events, catalog, users: list };
}
