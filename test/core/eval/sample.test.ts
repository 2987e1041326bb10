/** The evaluation's user sample: deterministic by user id and seed, the same for every run, recorded in the report. */
import { describe, expect, it } from 'vitest';
import type { EvalSet } from '../../../lib/core/eval/eval-set.ts';
import { evaluateRuns, sampleUserIndices } from '../../../lib/core/eval/evaluate.ts';
import type { ModelArtifact } from '../../../lib/core/models/artifact.ts';
import type { Recommender, UserContext } from '../../../lib/core/models/recommender.ts';
import { toReportDocument } from '../../../lib/core/report/json.ts';

const NOW = Date.UTC(2026, 10, 1);
const ids = Array.from({ length: 200 }, (_, i) => `user-${i}`);

/** Recommends the user's relevant item first for even users only; records whom it was asked about. */
class HalfRight implements Recommender {
  readonly kind = 'half-right';
  readonly asked: string[] = [];
  recommend(context: UserContext) {
    this.asked.push(context.userId);
    const n = Number(context.userId.split('-')[1]);
    return [{ itemId: n % 2 === 0 ? `item-${n}` : 'other', score: 1 }];
  }
  knownItems() {
    return [];
  }
  save(): ModelArtifact {
    throw new Error('not needed');
  }
}

const set: EvalSet = {
  shelf: 'podcasts',
  cases: ids.map((userId, i) => ({
    context: { userId, now: NOW },
    // The last 20 users have nothing relevant: they are never part of the population.
    relevant: new Map(i < 180 ? [[`item-${i}`, 1]] : []),
    exclude: new Set(),
    slices: {},
  })),
  trainItemCounts: new Map(),
  catalog: new Map(),
  evaluatedAt: NOW,
};

describe('sampleUserIndices', () => {
  it('keeps every user, in order, when the sample is at least the population', () => {
    expect(sampleUserIndices(['b', 'a', 'c'], 3, 7)).toEqual([0, 1, 2]);
    expect(sampleUserIndices(['b', 'a', 'c'], 100, 7)).toEqual([0, 1, 2]);
  });

  it('picks the same users for the same ids and seed whatever their order, and other users for another seed', () => {
    const a = sampleUserIndices(ids, 50, 7).map((i) => ids[i]);
    const reversed = [...ids].reverse();
    const b = sampleUserIndices(reversed, 50, 7).map((i) => reversed[i]);
    expect(a).toHaveLength(50);
    expect(new Set(a)).toEqual(new Set(b));
    expect(new Set(sampleUserIndices(ids, 50, 8).map((i) => ids[i]))).not.toEqual(new Set(a));
  });

  it('returns indices in ascending order', () => {
    const picked = sampleUserIndices(ids, 30, 3);
    expect(picked).toEqual([...picked].sort((x, y) => x - y));
  });

  it.each([0, -1, Number.NaN])('refuses a sample size of %s', (size) => {
    expect(() => sampleUserIndices(ids, size, 7)).toThrow(RangeError);
  });
});

describe('evaluateRuns with sampleUsers', () => {
  it('asks the recommender about the sampled users only and records the sample in the report', () => {
    const model = new HalfRight();
    const report = evaluateRuns(set, [{ name: 'model', role: 'candidate', recommender: model }], { k: 1, resamples: 50, sampleUsers: 40 });
    expect(report.users).toBe(40);
    expect(model.asked).toHaveLength(40);
    expect(report.sample).toEqual({ users: 40, population: 180, seed: 7 });
    expect(report.usersWithoutRelevant).toBe(20);
    expect(toReportDocument(report).sample).toEqual({ users: 40, population: 180, seed: 7 });
  });

  it('scores every user when the sample is as large as the population, as without a sample', () => {
    const full = evaluateRuns(set, [{ name: 'model', role: 'candidate', recommender: new HalfRight() }], { k: 1, resamples: 50 });
    const sampled = evaluateRuns(set, [{ name: 'model', role: 'candidate', recommender: new HalfRight() }], {
      k: 1,
      resamples: 50,
      sampleUsers: 100_000,
    });
    expect(sampled.runs).toEqual(full.runs);
    expect(sampled.sample).toEqual({ users: 180, population: 180, seed: 7 });
  });

  it('widens the interval as the sample shrinks (its cost shows)', () => {
    const width = (sampleUsers: number) => {
      const r = evaluateRuns(set, [{ name: 'model', role: 'candidate', recommender: new HalfRight() }], {
        k: 1,
        resamples: 400,
        sampleUsers,
      });
      const ndcg = r.runs[0]?.metrics['ndcg@1'];
      return (ndcg?.hi ?? 0) - (ndcg?.lo ?? 0);
    };
    expect(width(20)).toBeGreaterThan(width(180));
  });
});
