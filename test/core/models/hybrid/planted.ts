/**
 * A planted two-group world for the hybrid model's tests: users of group g play (mostly) items of
 * group g; users carry the feature `group:g`, items `genre:g`. Small, seeded, fast to fit.
 */
import { Rng } from '../../../../lib/core/rng.ts';
import type { Feature, Interaction, TrainingData } from '../../../../lib/core/models/recommender.ts';

export interface PlantedWorld {
  readonly data: TrainingData;
  /** Group (0 or 1) of every user and item id. */
  readonly groupOf: ReadonlyMap<string, number>;
  readonly items: readonly string[];
}

export function plantedWorld(
  options: { users?: number; items?: number; perUser?: number; noise?: number; seed?: number } = {},
): PlantedWorld {
  const nUsers = options.users ?? 200;
  const nItems = options.items ?? 60;
  const perUser = options.perUser ?? 12;
  const noise = options.noise ?? 0.05;
  const rng = new Rng(options.seed ?? 7);
  const groupOf = new Map<string, number>();
  const items = Array.from({ length: nItems }, (_, i) => `i${String(i).padStart(3, '0')}`);
  items.forEach((id, i) => {
    groupOf.set(id, i % 2);
  });
  const byGroup = [items.filter((_, i) => i % 2 === 0), items.filter((_, i) => i % 2 === 1)];
  const interactions: Interaction[] = [];
  const userFeatures = new Map<string, Feature[]>();
  for (let u = 0; u < nUsers; u++) {
    const id = `u${String(u).padStart(4, '0')}`;
    const g = u % 2;
    groupOf.set(id, g);
    userFeatures.set(id, [[`group:${g}`, 1]]);
    // Within a group, items follow a skewed popularity so there is something to learn beyond the group.
    for (let n = 0; n < perUser; n++) {
      const group = rng.next() < noise ? 1 - g : g;
      const pool = byGroup[group] as string[];
      const pick = Math.min(pool.length - 1, Math.floor(pool.length * rng.next() ** 2));
      interactions.push({ userId: id, itemId: pool[pick] as string, ts: 1_700_000_000_000 + n * 60_000, weight: 1 });
    }
  }
  const itemFeatures = new Map<string, Feature[]>(items.map((id) => [id, [[`genre:${groupOf.get(id)}`, 1]]]));
  return {
    data: { interactions, userFeatures, itemFeatures, cutoff: 1_700_100_000_000, snapshot: 'planted', transformVersion: 'test' },
    groupOf,
    items,
  };
}

/** Share of recommended items that belong to the user's group, over the given users. */
export function groupPrecision(
  recommend: (userId: string) => readonly { itemId: string }[],
  users: readonly string[],
  groupOf: ReadonlyMap<string, number>,
): number {
  let hits = 0;
  let total = 0;
  for (const u of users) {
    for (const { itemId } of recommend(u)) {
      total++;
      if (groupOf.get(itemId) === groupOf.get(u)) hits++;
    }
  }
  return total === 0 ? 0 : hits / total;
}
