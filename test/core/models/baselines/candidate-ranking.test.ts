/**
 * The candidate fast paths (a ranking or mask cached per candidate array, typed top-k over a model's
 * own items) against the plain definition: every listed candidate scored once, NaN left out, excluded
 * ids skipped, sorted by score descending then id ascending. Random data with score ties, candidates
 * the model does not know, duplicates and exclusions.
 */
import { describe, expect, it } from 'vitest';
import { fitNewest } from '../../../../lib/core/models/baselines/newest.ts';
import { fitPopularity } from '../../../../lib/core/models/baselines/popularity.ts';
import { fitSegmentPopularity } from '../../../../lib/core/models/baselines/popularity-segment.ts';
import { fitRandom } from '../../../../lib/core/models/baselines/random.ts';
import { rankByScore, topKOfScores } from '../../../../lib/core/models/baselines/rank.ts';
import { fitEase } from '../../../../lib/core/models/ease/index.ts';
import type { Interaction, Recommender, ScoredItem, TrainingData, UserContext } from '../../../../lib/core/models/recommender.ts';
import { Rng } from '../../../../lib/core/rng.ts';

const DAY = 86_400_000;
const C = Date.parse('2026-10-08T00:00:00Z');

function world(seed: number): TrainingData {
  const rng = new Rng(seed);
  const items = Array.from({ length: 60 }, (_, i) => `s${String(i).padStart(3, '0')}`);
  const interactions: Interaction[] = [];
  for (let u = 0; u < 40; u++) {
    for (let n = 0; n < 6; n++) {
      // Integer weights and whole days: many equal scores, so ties by id are exercised.
      const item = items[Math.floor(rng.next() ** 2 * items.length)] as string;
      interactions.push({ userId: `u${u}`, itemId: item, ts: C - Math.floor(rng.next() * 5) * DAY, weight: 1 });
    }
  }
  return {
    interactions,
    items: new Map(items.map((id, i) => [id, { type: 'show', publishedAt: C - (i % 7) * DAY }])),
    users: new Map(
      Array.from({ length: 40 }, (_, u) => [`u${u}`, { country: u % 2 ? 'SE' : 'US', onboardingGenres: u % 3 ? ['jazz'] : [] }]),
    ),
    cutoff: C,
    snapshot: 'candidate-ranking-test',
    transformVersion: 'test',
  };
}

/** The plain definition, from the model's own full ranking (every known item's score). */
function reference(
  model: Recommender,
  context: UserContext,
  k: number,
  candidates: readonly string[] | undefined,
  exclude: ReadonlySet<string>,
  unknownScore: number,
): ScoredItem[] {
  const full = new Map(model.recommend(context, 1_000_000).map((s) => [s.itemId, s.score]));
  const pool = candidates ?? [...full.keys()];
  return rankByScore(pool, (id) => full.get(id) ?? unknownScore, k, { exclude });
}

describe('ranking among candidates', () => {
  const models: [string, (d: TrainingData) => Recommender, number][] = [
    ['popularity', (d) => fitPopularity(d), 0],
    ['newest', (d) => fitNewest(d), Number.NaN],
    ['popularity-segment', (d) => fitSegmentPopularity(d), 0],
    ['ease', (d) => fitEase(d, { lambda: 5 }), Number.NaN],
  ];
  for (const [name, train, unknownScore] of models) {
    it(`${name}: equals the plain ranking of the candidates, with unknown ones, duplicates and exclusions`, () => {
      for (const seed of [1, 2, 3]) {
        const data = world(seed);
        const model = train(data);
        const rng = new Rng(seed + 100);
        const known = [...(data.items?.keys() ?? [])];
        const candidates = [...known.filter(() => rng.next() < 0.6), 'zz-new-1', 'aa-new-2', 's001', 's001'];
        for (const userId of ['u1', 'u2', 'u7', 'nobody']) {
          const meta = data.users?.get(userId);
          const context: UserContext = { userId, now: C, ...(meta ? { meta } : {}) };
          for (const k of [1, 3, 10, 70]) {
            const exclude = new Set([known[(seed * 7) % known.length] as string, 'aa-new-2', candidates[0] as string]);
            // Twice with the same array (the cached path) and once with a copy.
            for (const list of [candidates, candidates, [...candidates]]) {
              expect(model.recommend(context, k, { candidates: list, exclude })).toEqual(
                reference(model, context, k, list, exclude, unknownScore),
              );
            }
            expect(model.recommend(context, k, { exclude })).toEqual(reference(model, context, k, undefined, exclude, unknownScore));
          }
        }
      }
    });
  }

  it('random: scores every listed candidate, known or not, as the hash of id and user', () => {
    const data = world(4);
    const model = fitRandom(data, { seed: 9 });
    const candidates = ['zz-new', 's003', 's010', 's003', 'a-new', ...[...(data.items?.keys() ?? [])].slice(20, 40)];
    const first = model.recommend({ userId: 'u1', now: C }, 100, { candidates });
    expect(first.map((s) => s.itemId).sort()).toEqual([...new Set(candidates)].sort());
    const byId = new Map(first.map((s) => [s.itemId, s.score]));
    const exclude = new Set(['s010', 'zz-new']);
    for (const k of [1, 5, 100]) {
      const expected = rankByScore(candidates, (id) => byId.get(id) as number, k, { exclude });
      expect(model.recommend({ userId: 'u1', now: C }, k, { candidates, exclude })).toEqual(expected);
      expect(model.recommend({ userId: 'u1', now: C }, k, { candidates: [...candidates], exclude })).toEqual(expected);
    }
    // Another user gets another order of the same items.
    expect(model.recommend({ userId: 'u2', now: C }, 100, { candidates }).map((s) => s.itemId)).not.toEqual(first.map((s) => s.itemId));
  });
});

describe('topKOfScores', () => {
  it('equals rankByScore over unsorted ids with ties, NaN, a mask, exclusions and unknown ids at a fixed score', () => {
    const rng = new Rng(5);
    for (let trial = 0; trial < 200; trial++) {
      const n = 1 + Math.floor(rng.next() * 40);
      const items = Array.from({ length: n }, (_, i) => `i${(i * 7919) % 997}`);
      const scores = Float64Array.from(items, () => (rng.next() < 0.1 ? Number.NaN : Math.floor(rng.next() * 4)));
      const allowed = Uint8Array.from(items, () => (rng.next() < 0.8 ? 1 : 0));
      const unknown = ['u-a', 'u-b', 'u-c'];
      const exclude = new Set([items[0] as string, 'u-b']);
      const k = 1 + Math.floor(rng.next() * 12);
      const byId = new Map(items.map((id, i) => [id, allowed[i] ? (scores[i] as number) : Number.NaN]));
      const expected = rankByScore([...items, ...unknown], (id) => byId.get(id) ?? 1, k, { exclude });
      expect(topKOfScores(items, scores, k, { allowed, exclude, unknown, unknownScore: 1 })).toEqual(expected);
    }
  });
});
