/**
 * `popularity-segment`: popularity within the user's segments (country, each onboarding genre), backed
 * off to global popularity where a segment is thin. For a user with segments S:
 *   score(i) = Σ_{s∈S} pop_s(i) + β · pop(i) / Σ_j pop(j) · (Σ_{s∈S} total_s + β) / β ... simplified to
 *   score(i) = Σ_{s∈S} pop_s(i) + β · share(i)
 * where pop_s is the decayed popularity among the segment's training users and share(i) the item's
 * global share: β (default 20 interactions' worth) is the prior a segment must outweigh.
 */
import { makeArtifact, unpackSections, type ModelArtifact } from '../artifact.ts';
import type { Recommender, RecommendOptions, ScoredItem, TrainingData, UserContext, UserMeta } from '../recommender.ts';
import { decayedPopularity } from './popularity.ts';
import { candidateView, topKOfScores } from './rank.ts';

const DAY = 86_400_000;

/** The segment keys of a user. */
export function segmentsOf(meta: UserMeta | undefined): string[] {
  if (meta === undefined) return [];
  const keys: string[] = [];
  if (meta.country !== undefined) keys.push(`country:${meta.country}`);
  for (const g of meta.onboardingGenres ?? []) keys.push(`genre:${g}`);
  return keys;
}

class SegmentPopularity implements Recommender {
  readonly kind = 'popularity-segment';
  private readonly itemPos: Map<string, number>;

  constructor(
    private readonly items: readonly string[],
    private readonly globalShare: Float64Array,
    private readonly segments: ReadonlyMap<string, Float64Array>,
    private readonly prior: number,
    private readonly manifest: Omit<ModelArtifact['manifest'], 'format' | 'sections' | 'payloadBytes' | 'itemIndex' | 'kind' | 'extra'>,
  ) {
    this.itemPos = new Map(items.map((id, i) => [id, i]));
  }

  /** Candidates the model does not know score 0: they follow every item with a share, by id. */
  recommend(context: UserContext, k: number, options: RecommendOptions = {}): ScoredItem[] {
    const tables = segmentsOf(context.meta)
      .map((s) => this.segments.get(s))
      .filter((t): t is Float64Array => t !== undefined);
    const view = options.candidates === undefined ? undefined : candidateView(this.items, this.itemPos, options.candidates);
    const scores = new Float64Array(this.items.length);
    for (let i = 0; i < scores.length; i++) {
      if (view !== undefined && view.mask[i] === 0) continue;
      let s = this.prior * (this.globalShare[i] as number);
      for (const t of tables) s += t[i] as number;
      scores[i] = s;
    }
    return topKOfScores(this.items, scores, k, { exclude: options.exclude, allowed: view?.mask, unknown: view?.unknown, unknownScore: 0 });
  }

  knownItems(): readonly string[] {
    return this.items;
  }

  save(): ModelArtifact {
    const keys = [...this.segments.keys()].sort();
    const arrays: Record<string, Float64Array> = { global: this.globalShare };
    keys.forEach((key, n) => {
      arrays[`seg${String(n).padStart(5, '0')}`] = this.segments.get(key) as Float64Array;
    });
    return makeArtifact(
      { ...this.manifest, kind: this.kind, itemIndex: [...this.items], extra: { segments: keys, prior: this.prior } },
      arrays,
    );
  }
}

export function fitSegmentPopularity(data: TrainingData, options: { halfLifeDays?: number; prior?: number } = {}): Recommender {
  const halfLifeDays = options.halfLifeDays ?? 14;
  const prior = options.prior ?? 20;
  const global = decayedPopularity(data, halfLifeDays);
  const items = [...global.keys()].sort();
  const pos = new Map(items.map((id, i) => [id, i]));
  const total = [...global.values()].reduce((a, b) => a + b, 0) || 1;
  const globalShare = Float64Array.from(items, (id) => (global.get(id) ?? 0) / total);
  const segments = new Map<string, Float64Array>();
  for (const i of data.interactions) {
    const w = i.weight * 0.5 ** (Math.max(0, data.cutoff - i.ts) / (halfLifeDays * DAY));
    for (const key of segmentsOf(data.users?.get(i.userId))) {
      let t = segments.get(key);
      if (t === undefined) segments.set(key, (t = new Float64Array(items.length)));
      t[pos.get(i.itemId) as number]! += w;
    }
  }
  return new SegmentPopularity(items, globalShare, segments, prior, {
    hyperparameters: { halfLifeDays, prior },
    transformVersion: data.transformVersion,
    dataSnapshot: data.snapshot,
    trainedAt: data.cutoff,
    seed: 0,
  });
}

export function loadSegmentPopularity(artifact: ModelArtifact): Recommender {
  const arrays = unpackSections(artifact);
  const { hyperparameters, transformVersion, dataSnapshot, trainedAt, seed, extra, itemIndex } = artifact.manifest;
  const keys = (extra.segments ?? []) as string[];
  const segments = new Map<string, Float64Array>(keys.map((key, n) => [key, arrays[`seg${String(n).padStart(5, '0')}`] as Float64Array]));
  return new SegmentPopularity(itemIndex, arrays.global as Float64Array, segments, Number(extra.prior ?? 20), {
    hyperparameters,
    transformVersion,
    dataSnapshot,
    trainedAt,
    seed,
  });
}
