/** How listening becomes positive interactions for the factorization models. */
import type { Interaction } from '../models/recommender.ts';

/** One positive per (user, unit): weight 1 + ln(listens), timestamp of the latest listen. Sorted by user, then item. */
export function aggregateInteractions(
  listens: Iterable<{ readonly userId: string; readonly unit: string; readonly ts: number }>,
): Interaction[] {
  const byPair = new Map<string, { userId: string; itemId: string; count: number; ts: number }>();
  for (const l of listens) {
    const key = `${l.userId}\u0000${l.unit}`;
    const found = byPair.get(key);
    if (found === undefined) byPair.set(key, { userId: l.userId, itemId: l.unit, count: 1, ts: l.ts });
    else {
      found.count++;
      if (l.ts > found.ts) found.ts = l.ts;
    }
  }
  return [...byPair.values()]
    .sort((a, b) => (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : a.itemId < b.itemId ? -1 : a.itemId > b.itemId ? 1 : 0))
    .map((p) => ({ userId: p.userId, itemId: p.itemId, ts: p.ts, weight: 1 + Math.log(p.count) }));
}
