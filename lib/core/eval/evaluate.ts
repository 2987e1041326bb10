/**
 * The evaluator: every run (candidate, live model, baselines) answers the same users with the same
 * context, exclusions and candidates; their lists are scored per user, averaged with bootstrap
 * intervals, sliced, and compared pairwise with the candidate.
 */
import type { ItemMeta, Recommender } from '../models/recommender.ts';
import { accuracyAtK, ACCURACY_METRICS, assertNoDuplicates, type Relevance } from '../metrics/ranking.ts';
import { catalogCoverage, categoryDiversity, freshness, newItemRecall, novelty, personalization } from '../metrics/beyond-accuracy.ts';
import { bootstrapMean, pairedDifference, resampleIndices, type Interval } from '../stats/bootstrap.ts';
import type { EvalSet } from './eval-set.ts';

export type RunRole = 'candidate' | 'live' | 'baseline';

export interface EvalRun {
  readonly name: string;
  readonly role: RunRole;
  readonly recommender: Recommender;
}

export interface EvaluationOptions {
  readonly k: number;
  /** Default 7. */
  readonly seed?: number;
  /** Bootstrap resamples; default 1000. */
  readonly resamples?: number;
  /** Window of "fresh" for the freshness metric, in days; default 7. */
  readonly freshnessDays?: number;
}

export interface SliceStats {
  readonly users: number;
  readonly metrics: Readonly<Record<string, number>>;
}

export interface RunReport {
  readonly name: string;
  readonly role: RunRole;
  readonly kind: string;
  /** Users scored (those with at least one relevant item); users without a prediction count 0. */
  readonly users: number;
  readonly usersWithoutPrediction: number;
  readonly metrics: Readonly<Record<string, Interval>>;
  readonly beyond: Readonly<Record<string, number>>;
  /** dimension → value → stats. */
  readonly slices: Readonly<Record<string, Readonly<Record<string, SliceStats>>>>;
}

export interface Comparison {
  readonly candidate: string;
  readonly against: string;
  readonly role: RunRole;
  readonly metric: string;
  /** Candidate minus the other run, per user, with its paired interval. */
  readonly difference: Interval;
  /** difference.mean over the other run's mean (Infinity when that is 0 and the difference positive). */
  readonly relativeLift: number;
}

export interface EvaluationReport {
  readonly shelf: string;
  readonly k: number;
  readonly users: number;
  readonly evaluatedAt: number;
  readonly seed: number;
  readonly resamples: number;
  readonly runs: readonly RunReport[];
  readonly comparisons: readonly Comparison[];
}

/** Scored lists of several runs over the same users: the common core of both entry points. */
export interface ListsInput {
  readonly shelf: string;
  readonly userIds: readonly string[];
  readonly relevant: readonly Relevance[];
  readonly slices: readonly Readonly<Record<string, string>>[];
  readonly runs: readonly { readonly name: string; readonly role: RunRole; readonly kind: string; readonly lists: readonly (readonly string[] | undefined)[] }[];
  readonly catalog: ReadonlyMap<string, ItemMeta>;
  readonly catalogSize: number;
  readonly trainItemCounts: ReadonlyMap<string, number>;
  readonly evaluatedAt: number;
}

/** Asks every recommender for every case of the set and scores the lists. */
export function evaluateRuns(set: EvalSet, runs: readonly EvalRun[], options: EvaluationOptions): EvaluationReport {
  const cases = set.cases.filter((c) => [...c.relevant.values()].some((g) => g > 0));
  const lists = runs.map((run) =>
    cases.map((c) => {
      const list = run.recommender.recommend(c.context, options.k, { exclude: c.exclude, ...(set.candidates ? { candidates: set.candidates } : {}) }).map((s) => s.itemId);
      assertNoDuplicates(list, `${run.name}'s list for user ${c.context.userId}`);
      return list;
    }),
  );
  return scoreLists(
    {
      shelf: set.shelf,
      userIds: cases.map((c) => c.context.userId),
      relevant: cases.map((c) => c.relevant),
      slices: cases.map((c) => c.slices),
      runs: runs.map((r, i) => ({ name: r.name, role: r.role, kind: r.recommender.kind, lists: lists[i] as string[][] })),
      catalog: set.catalog,
      catalogSize: set.candidates?.length ?? set.catalog.size,
      trainItemCounts: set.trainItemCounts,
      evaluatedAt: set.evaluatedAt,
    },
    options,
  );
}

/** Scores given lists (per run, aligned with userIds) against the relevant items. */
export function scoreLists(input: ListsInput, options: EvaluationOptions): EvaluationReport {
  const { k } = options;
  const seed = options.seed ?? 7;
  const resamples = options.resamples ?? 1000;
  const n = input.userIds.length;
  const samples = resampleIndices(n, resamples, seed);
  const metricNames = ACCURACY_METRICS.map((m) => `${m}@${k}`);
  const perUser = input.runs.map((run) => {
    const vectors: Record<string, Float64Array> = Object.fromEntries(metricNames.map((m) => [m, new Float64Array(n)]));
    for (let u = 0; u < n; u++) {
      const values = accuracyAtK(run.lists[u] ?? [], input.relevant[u] as Relevance, k);
      for (const m of metricNames) (vectors[m] as Float64Array)[u] = values[m] as number;
    }
    return vectors;
  });
  const runs: RunReport[] = input.runs.map((run, r) => {
    const vectors = perUser[r] as Record<string, Float64Array>;
    const lists = run.lists.map((l) => l ?? []);
    const fresh = freshness(lists, input.catalog, input.evaluatedAt, options.freshnessDays ?? 7);
    const nir = newItemRecall(lists, input.relevant, input.trainItemCounts, k);
    return {
      name: run.name,
      role: run.role,
      kind: run.kind,
      users: n,
      usersWithoutPrediction: run.lists.filter((l) => l === undefined || l.length === 0).length,
      metrics: Object.fromEntries(metricNames.map((m) => [m, bootstrapMean(vectors[m] as Float64Array, samples)])),
      beyond: {
        coverage: catalogCoverage(lists, input.catalogSize),
        diversity: categoryDiversity(lists, input.catalog),
        novelty: novelty(lists, input.trainItemCounts, input.catalogSize),
        personalization: personalization(lists, 2000, seed),
        freshness: fresh,
        newItemRecall: nir.value,
        newItemRelevant: nir.items,
      },
      slices: sliceStats(input.slices, vectors, metricNames),
    };
  });
  const comparisons: Comparison[] = [];
  const c = input.runs.findIndex((r) => r.role === 'candidate');
  if (c >= 0) {
    input.runs.forEach((other, o) => {
      if (o === c) return;
      for (const m of metricNames) {
        const difference = pairedDifference((perUser[c] as Record<string, Float64Array>)[m] as Float64Array, (perUser[o] as Record<string, Float64Array>)[m] as Float64Array, samples);
        const base = (runs[o] as RunReport).metrics[m]?.mean ?? 0;
        comparisons.push({ candidate: input.runs[c]?.name ?? '', against: other.name, role: other.role, metric: m, difference, relativeLift: base > 0 ? difference.mean / base : difference.mean > 0 ? Infinity : 0 });
      }
    });
  }
  return { shelf: input.shelf, k, users: n, evaluatedAt: input.evaluatedAt, seed, resamples, runs, comparisons };
}

function sliceStats(slices: readonly Readonly<Record<string, string>>[], vectors: Record<string, Float64Array>, metrics: readonly string[]): Record<string, Record<string, SliceStats>> {
  const groups = new Map<string, Map<string, number[]>>();
  slices.forEach((labels, u) => {
    for (const [dim, value] of Object.entries(labels)) {
      let byValue = groups.get(dim);
      if (byValue === undefined) groups.set(dim, (byValue = new Map()));
      let users = byValue.get(value);
      if (users === undefined) byValue.set(value, (users = []));
      users.push(u);
    }
  });
  const out: Record<string, Record<string, SliceStats>> = {};
  for (const [dim, byValue] of [...groups].sort(([a], [b]) => (a < b ? -1 : 1))) {
    out[dim] = {};
    for (const [value, users] of [...byValue].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const means: Record<string, number> = {};
      for (const m of metrics) means[m] = users.reduce((s, u) => s + ((vectors[m] as Float64Array)[u] as number), 0) / users.length;
      (out[dim] as Record<string, SliceStats>)[value] = { users: users.length, metrics: means };
    }
  }
  return out;
}
