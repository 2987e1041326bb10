import { describe, expect, it } from 'vitest';
import { shuffleInteractions } from '../../lib/core/negative-control.ts';
import type { Interaction, TrainingData } from '../../lib/core/models/recommender.ts';

const interactions: Interaction[] = [];
for (let u = 0; u < 50; u++)
  for (let n = 0; n <= u % 5; n++)
    interactions.push({ userId: `u${u}`, itemId: n === 0 ? 'hit' : `i${(u * 7 + n) % 40}`, ts: n, weight: 1 });
const data: TrainingData = { interactions, cutoff: 100, snapshot: 's', transformVersion: 't' };

describe('shuffleInteractions', () => {
  it("keeps every user's activity and draws items from those that occur, deterministically", () => {
    const a = shuffleInteractions(data, 3);
    expect(a.interactions.map((i) => i.userId)).toEqual(interactions.map((i) => i.userId));
    const known = new Set(interactions.map((i) => i.itemId));
    for (const i of a.interactions) expect(known.has(i.itemId)).toBe(true);
    expect(shuffleInteractions(data, 3)).toEqual(a);
    expect(a.snapshot).toBe('s+shuffled');
  });

  it('destroys item popularity, not only the pairing', () => {
    const count = (d: TrainingData): number => d.interactions.filter((i) => i.itemId === 'hit').length;
    expect(count(data)).toBe(50);
    // 41 distinct items, 150 interactions: a uniform draw gives the former hit about 4 plays.
    expect(count(shuffleInteractions(data, 3))).toBeLessThan(15);
  });
});
