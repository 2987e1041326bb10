import { describe, expect, it } from 'vitest';
import { buildShortcutsExamples, sessionStarts, shortcutCatalog, weekdayOf } from '../../../../lib/core/transforms/shortcuts.ts';
import { manifestJson, type ModelArtifact } from '../../../../lib/core/models/artifact.ts';
import { fitOwnHistory } from '../../../../lib/core/models/baselines/own-history.ts';
import { loadRecommender } from '../../../../lib/core/models/load.ts';
import type { HistoryEvent, Recommender, UserContext } from '../../../../lib/core/models/recommender.ts';
import { fitShortcutsRanker } from '../../../../lib/core/models/shortcuts/model.ts';
import { plantedDay, plantedWorld } from './planted.ts';

const world = plantedWorld(12, 28, 11);
const catalog = shortcutCatalog(world.meta);
const examples = buildShortcutsExamples(world.history, catalog, { from: plantedDay(7), to: plantedDay(21) });
const ranker = fitShortcutsRanker(examples, { seed: 5, cutoff: plantedDay(21), snapshot: 'planted', transformVersion: 'test' });

/** Every session start in the last week, as a serving request, with the item actually played. */
const requests: { context: UserContext; next: string }[] = [];
for (const [userId, events] of world.history) {
  for (const i of sessionStarts(events, plantedDay(21), plantedDay(28))) {
    const e = events[i] as HistoryEvent;
    requests.push({
      context: { userId, now: e.ts, history: events.slice(0, i), localHour: e.localHour, weekday: weekdayOf(e.ts) },
      next: e.itemId,
    });
  }
}
const hitRate = (model: Recommender): number =>
  requests.filter((r) => model.recommend(r.context, 1)[0]?.itemId === r.next).length / requests.length;
const bytes = (artifact: ModelArtifact) => manifestJson(artifact.manifest) + Buffer.from(artifact.payload).toString('base64');

describe('shortcuts-ranker', () => {
  it('learns the planted hour pattern and beats most-recent-first by a wide margin', () => {
    const mostRecent = hitRate(
      fitOwnHistory('most-recent', { interactions: [], cutoff: 0, snapshot: '', transformVersion: '', items: world.meta }),
    );
    const learned = hitRate(ranker);
    expect(requests.length).toBeGreaterThan(200);
    expect(mostRecent).toBeLessThan(0.1);
    // The best possible is (1 + 1/3 + 1) / 3 ≈ 0.78: the lunch item is one of three at random.
    expect(learned).toBeGreaterThan(0.7);
  });

  it('ranks only the user’s own recent items and honours exclusions', () => {
    const request = requests[0] as (typeof requests)[number];
    const list = ranker.recommend(request.context, 10);
    const own = new Set((request.context.history ?? []).map((e) => e.itemId));
    expect(list.length).toBeGreaterThan(1);
    for (const s of list) expect(own.has(s.itemId)).toBe(true);
    const top = list[0]?.itemId as string;
    expect(ranker.recommend(request.context, 10, { exclude: new Set([top]) }).map((s) => s.itemId)).toEqual(
      list.slice(1).map((s) => s.itemId),
    );
  });

  it('loads back from its artifact with the same rankings and bytes, catalog included', () => {
    const loaded = loadRecommender(ranker.save());
    expect(loaded.kind).toBe('shortcuts-ranker');
    for (const r of requests.slice(0, 20)) expect(loaded.recommend(r.context, 5)).toEqual(ranker.recommend(r.context, 5));
    expect(bytes(loaded.save())).toBe(bytes(ranker.save()));
  });

  it('fits to identical bytes from the same examples and seed', () => {
    expect(
      bytes(fitShortcutsRanker(examples, { seed: 5, cutoff: plantedDay(21), snapshot: 'planted', transformVersion: 'test' }).save()),
    ).toBe(bytes(ranker.save()));
  });

  it('records in its manifest the sample of users its examples come from, and keeps it when loaded', () => {
    const sample = { populationUsers: 12, usersVisited: 6, decisionPoints: 40, maxDecisionPoints: 40, seed: 5, sampled: true };
    const model = fitShortcutsRanker(examples, { seed: 5, cutoff: plantedDay(21), snapshot: 'planted', transformVersion: 'test', sample });
    expect(model.save().manifest.extra.sample).toEqual(sample);
    expect(loadRecommender(model.save()).save().manifest.extra.sample).toEqual(sample);
    expect(ranker.save().manifest.extra.sample).toBeUndefined();
  });
});
