/**
 * Freshness = share of all recommended slots filled by items published within `days` days of the
 * evaluation time `at` (|publishedAt − at| ≤ days; items released during the test window count as
 * fresh too). Range [0, 1]; an item without a known publication time is not fresh; no slots give 0.
 */
import type { ItemMeta } from '../models/recommender.ts';

const DAY_MS = 86_400_000;

/** Share of recommended slots holding an item published within `days` of `at` (epoch ms). */
export function freshness(lists: readonly (readonly string[])[], catalog: ReadonlyMap<string, ItemMeta>, at: number, days: number): number {
  let fresh = 0;
  let slots = 0;
  const window = days * DAY_MS;
  for (const l of lists)
    for (const i of l) {
      slots++;
      const published = catalog.get(i)?.publishedAt;
      if (published !== undefined && Math.abs(published - at) <= window) fresh++;
    }
  return slots === 0 ? 0 : fresh / slots;
}
