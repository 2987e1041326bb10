/**
 * A synthetic world with a planted Shortcuts pattern: every day each user plays their "morning" item
 * around 08:00, one of three "lunch" items around 13:00 and their "evening" item around 20:00. The next
 * item therefore depends on the hour, and is never the most recent one.
 */
import { Rng } from '../../../../lib/core/rng.ts';
import type { HistoryEvent, ItemMeta } from '../../../../lib/core/models/recommender.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
export const PLANTED_START = Date.parse('2026-09-01T00:00:00Z');

export interface PlantedWorld {
  readonly history: Map<string, HistoryEvent[]>;
  readonly meta: Map<string, ItemMeta>;
}

export function plantedWorld(users: number, days: number, seed: number): PlantedWorld {
  const rng = new Rng(seed);
  const meta = new Map<string, ItemMeta>();
  const history = new Map<string, HistoryEvent[]>();
  for (let u = 0; u < users; u++) {
    const morning = `m${u}`;
    const evening = `e${u}`;
    const lunch = [`l${u}a`, `l${u}b`, `l${u}c`];
    meta.set(morning, { type: 'show' }).set(evening, { type: 'playlist' });
    for (const l of lunch) meta.set(l, { type: 'album' });
    const events: HistoryEvent[] = [];
    const play = (itemId: string, day: number, hour: number): void => {
      const minute = rng.int(40);
      events.push({
        itemId,
        ts: PLANTED_START + day * DAY + hour * HOUR + minute * 60_000,
        eventType: 'play',
        msPlayed: 600_000,
        progress: rng.next(),
        localHour: hour,
      });
    };
    for (let d = 0; d < days; d++) {
      play(morning, d, 7 + rng.int(2));
      play(lunch[rng.int(3)] as string, d, 13);
      play(evening, d, 19 + rng.int(2));
    }
    history.set(`u${u}`, events);
  }
  return { history, meta };
}

export const plantedDay = (day: number): number => PLANTED_START + day * DAY;
