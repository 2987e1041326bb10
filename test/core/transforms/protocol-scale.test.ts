/** buildShelfData's scale paths: columns as input, evaluation cases for a user sample only, a bounded sample of ranker examples. */
import { describe, expect, it } from 'vitest';
import { evaluateRuns, sampleUserIndices } from '../../../lib/core/eval/evaluate.ts';
import type { ModelArtifact } from '../../../lib/core/models/artifact.ts';
import type { Recommender, UserContext } from '../../../lib/core/models/recommender.ts';
import { eventTableOf } from '../../../lib/core/transforms/event-table.ts';
import { buildShelfData } from '../../../lib/core/transforms/protocol.ts';
import { listenersAtScale, SCALE_CUTOFF, SCALE_TEST_DAYS } from './listeners-at-scale.ts';

const world = listenersAtScale(150);
const input = { ...world, cutoff: SCALE_CUTOFF, testDays: SCALE_TEST_DAYS, snapshot: 'scale' };
const shelves = ['podcasts', 'playlists', 'shortcuts'] as const;
const full = Object.fromEntries(shelves.map((s) => [s, buildShelfData(s, input)])) as Record<
  (typeof shelves)[number],
  ReturnType<typeof buildShelfData>
>;

/** Ranks the user's relevant-looking recent items; records whom it was asked about. */
class Recorder implements Recommender {
  readonly kind = 'recorder';
  readonly asked: string[] = [];
  recommend(context: UserContext) {
    this.asked.push(context.userId);
    return [...new Set((context.history ?? []).map((e) => e.itemId))].slice(0, 10).map((itemId, i) => ({ itemId, score: -i }));
  }
  knownItems() {
    return [];
  }
  save(): ModelArtifact {
    throw new Error('not needed');
  }
}

describe('buildShelfData at scale', () => {
  it.each(shelves)('gives the same %s data from columns as from event records', (shelf) => {
    const columns = buildShelfData(shelf, { ...input, events: eventTableOf(world.events) });
    expect(columns.train.interactions).toEqual(full[shelf].train.interactions);
    expect(columns.eval).toEqual(full[shelf].eval);
    expect(columns.shortcutExamples).toEqual(full[shelf].shortcutExamples);
  });

  it.each(['podcasts', 'shortcuts'] as const)(
    'builds %s cases only for the sampled users: those evaluateRuns samples from every case, with their population',
    (shelf) => {
      const all = full[shelf].eval.cases;
      expect(all.length).toBeGreaterThan(20);
      const sampled = buildShelfData(shelf, input, { eval: { sampleUsers: 10, seed: 3 }, examples: false });
      const expected = sampleUserIndices(
        all.map((c) => c.context.userId),
        10,
        3,
      ).map((i) => all[i]);
      expect(sampled.eval.cases).toEqual(expected);
      expect(sampled.eval.population).toBe(all.length);
    },
  );

  it('reports the same scores and sample from a sampled set as from the full set sampled by evaluateRuns', () => {
    const sampled = buildShelfData('shortcuts', input, { eval: { sampleUsers: 30, seed: 7 }, examples: false });
    const fromFull = new Recorder();
    const fromSample = new Recorder();
    const a = evaluateRuns(full.shortcuts.eval, [{ name: 'candidate', role: 'candidate', recommender: fromFull }], {
      k: 10,
      seed: 7,
      sampleUsers: 30,
      resamples: 50,
    });
    const b = evaluateRuns(sampled.eval, [{ name: 'candidate', role: 'candidate', recommender: fromSample }], {
      k: 10,
      seed: 7,
      sampleUsers: 30,
      resamples: 50,
    });
    expect(fromSample.asked).toEqual(fromFull.asked);
    expect(b.runs).toEqual(a.runs);
    expect(b.sample).toEqual(a.sample);
    expect(b.sample?.population).toBeGreaterThan(30);
  });

  it('leaves out what a step does not ask for: no cases for training, no ranker examples for baselines', () => {
    const data = buildShelfData('shortcuts', input, { eval: false, examples: false });
    expect(data.eval.cases).toEqual([]);
    expect(data.shortcutExamples).toBeUndefined();
    expect(data.train.interactions).toEqual(full.shortcuts.train.interactions);
  });

  it('trains the ranker on every decision point when they are within the bound', () => {
    const all = full.shortcuts.shortcutExamples;
    const bounded = buildShelfData('shortcuts', input, { eval: false, examples: { maxDecisionPoints: 1_000_000, seed: 7 } });
    expect(bounded.shortcutExamples).toEqual(all);
    expect(bounded.exampleSample).toMatchObject({
      sampled: false,
      decisionPoints: (all?.groups.length ?? 1) - 1,
      maxDecisionPoints: 1_000_000,
    });
  });

  it('samples whole users by seeded hash until the decision points reach the bound, and keeps them in user order', () => {
    const all = full.shortcuts.shortcutExamples;
    if (all === undefined) throw new Error('no examples');
    const total = all.groups.length - 1;
    const max = Math.floor(total / 4);
    const take = (seed: number) => buildShelfData('shortcuts', input, { eval: false, examples: { maxDecisionPoints: max, seed } });
    const a = take(7);
    const ex = a.shortcutExamples;
    if (ex === undefined || a.exampleSample === undefined) throw new Error('no examples');
    const points = ex.groups.length - 1;
    expect(points).toBeGreaterThanOrEqual(max);
    expect(points).toBeLessThan(max + 20);
    expect(a.exampleSample).toMatchObject({ sampled: true, decisionPoints: points, maxDecisionPoints: max, seed: 7 });
    expect(a.exampleSample.usersVisited).toBeLessThan(a.exampleSample.populationUsers);
    // Every sampled group is one of the full set's groups (same features, labels, items), in the same relative order.
    const key = (e: typeof ex, g: number) => {
      const from = e.groups[g] as number;
      const to = e.groups[g + 1] as number;
      return `${e.itemIds.slice(from, to).join()}|${Array.from(e.labels.subarray(from, to)).join()}|${Array.from(e.features.subarray(from * e.featureNames.length, to * e.featureNames.length)).join()}`;
    };
    const fullKeys = Array.from({ length: total }, (_, g) => key(all, g));
    let at = 0;
    for (let g = 0; g < points; g++) {
      const found = fullKeys.indexOf(key(ex, g), at);
      expect(found).toBeGreaterThanOrEqual(at);
      at = found + 1;
    }
    // Deterministic by seed; another seed takes other users.
    expect(take(7).shortcutExamples).toEqual(ex);
    expect(take(8).shortcutExamples?.itemIds).not.toEqual(ex.itemIds);
  });
});
