/**
 * The evaluator: every run (candidate, live model, baselines) answers the same users with the same
 * context, exclusions and candidates; their lists are scored per user, averaged with bootstrap
 * intervals, sliced, and compared pairwise with the candidate over the same users and resamples.
 *
 * Users without any relevant item are left out (they are counted in `usersWithoutRelevant`); a
 * scored user a run gives no list counts 0 for that run. A list naming an item twice is an
 * InputError naming the run, the user and the item.
 */
import {
  catalogCoverage,
  categoryDiversity,
  embeddingDiversity,
  freshness,
  newItemRecall,
  novelty,
  personalization,
} from '../metrics/beyond-accuracy.ts';
import { ACCURACY_FUNCTIONS, ACCURACY_METRICS, assertNoDuplicates, relevantCount, type Relevance } from '../metrics/ranking.ts';
import { poolSize, rerankActive, rerankDiverse, type DiversityConfig } from '../assembly/rerank.ts';
import type { ItemMeta, Recommender } from '../models/recommender.ts';
import { DEFAULT_RESAMPLES, percentileInterval, seededResampledMeans, type Interval } from '../stats/bootstrap.ts';
import { hashString } from '../rng.ts';
import { comparePairedMeans } from '../stats/paired.ts';
import type { EvalSet } from './eval-set.ts';

export type RunRole = 'candidate' | 'live' | 'baseline';
export const RUN_ROLES = ['candidate', 'live', 'baseline'] as const;

export interface EvalRun {
  readonly name: string;
  readonly role: RunRole;
  readonly recommender: Recommender;
}

export interface EvaluationOptions {
  readonly k: number;
  /** Seed of the bootstrap and of personalization's pair sampling; default 7. */
  readonly seed?: number;
  /** Bootstrap resamples; default 1000. */
  readonly resamples?: number;
  /** Window of "fresh" for the freshness metric, in days; default 7. */
  readonly freshnessDays?: number;
  /** Item vectors for embedding diversity; without them that metric is left out. */
  readonly itemVectors?: (itemId: string) => Float32Array | undefined;
  /**
   * Diversity re-ranking (lib/core/assembly/rerank.ts) applied to the lists of `diversityRoles`, over
   * the set's item categories, as serving applies it: the evaluation scores the lists users see.
   * Default none.
   */
  readonly diversity?: DiversityConfig;
  /** Roles whose lists are re-ranked; default the served ones, candidate and live (baselines stay as they are). */
  readonly diversityRoles?: readonly RunRole[];
  /**
   * Users scored at most (>= 1): when more users have a relevant item, the ones with the smallest
   * hash of seed and user id are kept, so the sample is the same for every run and every re-run.
   * Default: every user. The intervals then describe the sample, and widen as it shrinks.
   */
  readonly sampleUsers?: number;
}

/** Which users an evaluation scored: `users` of the `population` with a relevant item, chosen by hash with `seed`. */
export interface EvaluationSample {
  readonly users: number;
  readonly population: number;
  readonly seed: number;
}

export interface SliceStats {
  readonly users: number;
  /** Mean of every accuracy metric over the slice's users. */
  readonly metrics: Readonly<Record<string, number>>;
}

export interface RunReport {
  readonly name: string;
  readonly role: RunRole;
  readonly kind: string;
  /** Users scored (those with at least one relevant item); users without a prediction count 0. */
  readonly users: number;
  readonly usersWithoutPrediction: number;
  /** `ndcg@k`... → mean with its 95% bootstrap interval. */
  readonly metrics: Readonly<Record<string, Interval>>;
  /** coverage, diversity, novelty, personalization, freshness, newItemRecall, newItemRelevant (+ embeddingDiversity). */
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
  /** difference.mean over the other run's mean; null when that mean is 0. */
  readonly relativeLift: number | null;
  /** The relative lift with its interval over the same resamples; null when the other run's mean is 0. */
  readonly liftInterval: Interval | null;
}

export interface EvaluationReport {
  readonly shelf: string;
  readonly k: number;
  /** Users scored: those with at least one relevant item. */
  readonly users: number;
  /** Users of the evaluation set left out for having no relevant item. */
  readonly usersWithoutRelevant: number;
  readonly evaluatedAt: number;
  readonly seed: number;
  readonly resamples: number;
  readonly runs: readonly RunReport[];
  readonly comparisons: readonly Comparison[];
  /** The user sample scored (evaluateRuns); `users` equals `population` when every user was scored. */
  readonly sample?: EvaluationSample;
}

/**
 * The deterministic user sample: at most `size` of `userIds`, those with the smallest FNV-1a hash of
 * `seed:userId` (ties by id), returned in their original order. Same ids and seed, same sample.
 */
export function sampleUserIndices(userIds: readonly string[], size: number, seed: number): number[] {
  if (!(size >= 1)) throw new RangeError(`sampleUsers must be at least 1, got ${size}`);
  if (size >= userIds.length) return userIds.map((_, i) => i);
  return hashOrder(userIds, seed)
    .slice(0, size)
    .sort((a, b) => a - b);
}

/**
 * Indices of `userIds` by ascending FNV-1a hash of `salt:userId`, ties by id: the order deterministic
 * samples take users in (sampleUserIndices keeps a prefix of it). Hashes in a typed array, so a
 * million ids sort without an object each.
 */
export function hashOrder(userIds: readonly string[], salt: number | string): number[] {
  const hashes = Float64Array.from(userIds, (id) => hashString(`${salt}:${id}`));
  const order = Array.from(userIds, (_, i) => i);
  return order.sort((a, b) => {
    const d = (hashes[a] as number) - (hashes[b] as number);
    if (d !== 0) return d;
    const x = userIds[a] as string;
    const y = userIds[b] as string;
    return x < y ? -1 : x > y ? 1 : 0;
  });
}

/** Lists of several runs over the same users: the common core of both entry points. */
export interface ListsInput {
  readonly shelf: string;
  readonly userIds: readonly string[];
  readonly relevant: readonly Relevance[];
  readonly slices: readonly Readonly<Record<string, string>>[];
  readonly runs: readonly {
    readonly name: string;
    readonly role: RunRole;
    readonly kind: string;
    readonly lists: readonly (readonly string[] | undefined)[];
  }[];
  readonly catalog: ReadonlyMap<string, ItemMeta>;
  readonly catalogSize: number;
  readonly trainItemCounts: ReadonlyMap<string, number>;
  readonly evaluatedAt: number;
  /** Users left out before scoring for having no relevant item; default 0. */
  readonly usersWithoutRelevant?: number;
}

/** Asks every recommender for the top k of every case of the set and scores the lists. */
export function evaluateRuns(set: EvalSet, runs: readonly EvalRun[], options: EvaluationOptions): EvaluationReport {
  const relevantCases = set.cases.filter((c) => relevantCount(c.relevant) > 0);
  const seed = options.seed ?? 7;
  // Sampled before any recommender is asked: the sample bounds the cost of evaluation.
  const cases =
    options.sampleUsers === undefined
      ? relevantCases
      : sampleUserIndices(
          relevantCases.map((c) => c.context.userId),
          options.sampleUsers,
          seed,
        ).map((i) => relevantCases[i] as (typeof relevantCases)[number]);
  const request = set.candidates ? { candidates: set.candidates } : {};
  const categoryOf = (itemId: string): string | undefined => set.catalog.get(itemId)?.categories?.[0];
  const lists = runs.map((run) =>
    cases.map((c) => {
      const { diversity } = options;
      const rerank = rerankActive(diversity) && (options.diversityRoles ?? ['candidate', 'live']).includes(run.role);
      const ranked = run.recommender.recommend(c.context, rerank ? poolSize(options.k, diversity) : options.k, {
        exclude: c.exclude,
        ...request,
      });
      const list = (rerank ? rerankDiverse(ranked, options.k, categoryOf, diversity) : ranked).map((s) => s.itemId);
      assertNoDuplicates(list, `${run.name}'s list for user ${c.context.userId}`);
      return list;
    }),
  );
  const report = scoreLists(
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
      usersWithoutRelevant: set.cases.length - relevantCases.length,
    },
    options,
  );
  // A set built for a sample (buildShelfData's eval.sampleUsers) already holds only the sample; it
  // carries the population it was drawn from.
  return { ...report, sample: { users: cases.length, population: set.population ?? relevantCases.length, seed } };
}

/** Lists computed elsewhere: one map userId → ranked items (best first) per run. */
export interface PredictionRun {
  readonly name: string;
  /** Default: the first run is the candidate, the others baselines. */
  readonly role?: RunRole;
  readonly lists: ReadonlyMap<string, readonly string[]>;
}

export interface PredictionOptions extends EvaluationOptions {
  readonly shelf?: string;
  /** Item metadata for diversity and freshness; default none. */
  readonly catalog?: ReadonlyMap<string, ItemMeta>;
  /** Denominator of coverage; default the catalog's size. */
  readonly catalogSize?: number;
  /** Training interactions per item, for novelty and new-item recall; default none. */
  readonly trainItemCounts?: ReadonlyMap<string, number>;
  /** Epoch ms of the evaluation, for freshness; default 0. */
  readonly evaluatedAt?: number;
  /** Slice labels per user; default none. */
  readonly slices?: ReadonlyMap<string, Readonly<Record<string, string>>>;
}

/**
 * Scores externally supplied lists against `truth` (userId → relevance). Users are the truth's users
 * with at least one relevant item, in sorted order (so the bootstrap does not depend on file order);
 * predictions for users absent from the truth are ignored.
 */
export function evaluatePredictions(
  truth: ReadonlyMap<string, Relevance>,
  predictionsByRun: readonly PredictionRun[],
  options: PredictionOptions,
): EvaluationReport {
  const userIds = [...truth.keys()].filter((u) => relevantCount(truth.get(u) as Relevance) > 0).sort();
  const runs = predictionsByRun.map((run, index) => {
    for (const [userId, list] of run.lists) assertNoDuplicates(list, `${run.name}: the list of user ${userId}`);
    return {
      name: run.name,
      role: run.role ?? (index === 0 ? ('candidate' as const) : ('baseline' as const)),
      kind: 'external',
      lists: userIds.map((u) => run.lists.get(u)),
    };
  });
  const catalog = options.catalog ?? new Map<string, ItemMeta>();
  return scoreLists(
    {
      shelf: options.shelf ?? 'external',
      userIds,
      relevant: userIds.map((u) => truth.get(u) as Relevance),
      slices: userIds.map((u) => options.slices?.get(u) ?? {}),
      runs,
      catalog,
      catalogSize: options.catalogSize ?? catalog.size,
      trainItemCounts: options.trainItemCounts ?? new Map(),
      evaluatedAt: options.evaluatedAt ?? 0,
      usersWithoutRelevant: truth.size - userIds.length,
    },
    options,
  );
}

/** Scores given lists (per run, aligned with userIds) against the relevant items. */
export function scoreLists(input: ListsInput, options: EvaluationOptions): EvaluationReport {
  const { k } = options;
  const seed = options.seed ?? 7;
  const resamples = options.resamples ?? DEFAULT_RESAMPLES;
  const n = input.userIds.length;
  const metricNames = ACCURACY_METRICS.map((m) => `${m}@${k}`);
  // Per-user vectors, run-major then metric: vectors[r * M + m][u].
  const vectors: Float64Array[] = [];
  for (const run of input.runs) {
    const block = ACCURACY_METRICS.map(() => new Float64Array(n));
    for (let u = 0; u < n; u++) {
      const list = run.lists[u];
      if (list === undefined || list.length === 0) continue;
      const relevant = input.relevant[u] as Relevance;
      ACCURACY_METRICS.forEach((m, j) => {
        (block[j] as Float64Array)[u] = ACCURACY_FUNCTIONS[m](list, relevant, k);
      });
    }
    vectors.push(...block);
  }
  const resampled = n === 0 ? vectors.map(() => new Float64Array(0)) : seededResampledMeans(vectors, resamples, seed);
  const means = vectors.map((v) => (n === 0 ? 0 : v.reduce((s, x) => s + x, 0) / n));
  const at = (r: number, j: number): number => r * metricNames.length + j;

  const runs: RunReport[] = input.runs.map((run, r) => {
    // Beyond-accuracy metrics describe what a user sees: the top k only.
    const lists = run.lists.map((l) => (l === undefined ? [] : l.length > k ? l.slice(0, k) : l));
    const nir = newItemRecall(lists, input.relevant, input.trainItemCounts, k);
    const beyond: Record<string, number> = {
      coverage: catalogCoverage(lists, input.catalogSize),
      diversity: categoryDiversity(lists, input.catalog),
      novelty: novelty(lists, input.trainItemCounts, input.catalogSize),
      personalization: personalization(lists, 2000, seed),
      freshness: freshness(lists, input.catalog, input.evaluatedAt, options.freshnessDays ?? 7),
      newItemRecall: nir.value,
      newItemRelevant: nir.items,
    };
    if (options.itemVectors) beyond.embeddingDiversity = embeddingDiversity(lists, options.itemVectors);
    return {
      name: run.name,
      role: run.role,
      kind: run.kind,
      users: n,
      usersWithoutPrediction: run.lists.filter((l) => l === undefined || l.length === 0).length,
      metrics: Object.fromEntries(
        metricNames.map((m, j) => [
          m,
          n === 0
            ? { mean: 0, lo: 0, hi: 0 }
            : percentileInterval(means[at(r, j)] as number, Float64Array.from(resampled[at(r, j)] as Float64Array)),
        ]),
      ),
      beyond,
      slices: sliceStats(input.slices, vectors.slice(at(r, 0), at(r + 1, 0)), metricNames),
    };
  });

  const comparisons: Comparison[] = [];
  const c = input.runs.findIndex((r) => r.role === 'candidate');
  if (c >= 0 && n > 0) {
    input.runs.forEach((other, o) => {
      if (o === c) return;
      metricNames.forEach((metric, j) => {
        const cmp = comparePairedMeans(
          means[at(c, j)] as number,
          means[at(o, j)] as number,
          resampled[at(c, j)] as Float64Array,
          resampled[at(o, j)] as Float64Array,
        );
        comparisons.push({
          candidate: input.runs[c]?.name ?? '',
          against: other.name,
          role: other.role,
          metric,
          difference: cmp.difference,
          relativeLift: cmp.relativeLift?.mean ?? null,
          liftInterval: cmp.relativeLift,
        });
      });
    });
  }
  return {
    shelf: input.shelf,
    k,
    users: n,
    usersWithoutRelevant: input.usersWithoutRelevant ?? 0,
    evaluatedAt: input.evaluatedAt,
    seed,
    resamples,
    runs,
    comparisons,
  };
}

/** Every metric per slice value (dimensions and values in sorted order), with the slice's user count. */
function sliceStats(
  slices: readonly Readonly<Record<string, string>>[],
  vectors: readonly Float64Array[],
  metrics: readonly string[],
): Record<string, Record<string, SliceStats>> {
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
  for (const [dim, byValue] of [...groups].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const values: Record<string, SliceStats> = {};
    for (const [value, users] of [...byValue].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const sliceMeans: Record<string, number> = {};
      metrics.forEach((m, j) => {
        const v = vectors[j] as Float64Array;
        let s = 0;
        for (const u of users) s += v[u] as number;
        sliceMeans[m] = s / users.length;
      });
      values[value] = { users: users.length, metrics: sliceMeans };
    }
    out[dim] = values;
  }
  return out;
}
