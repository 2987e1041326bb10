import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../../lib/core/errors.ts';
import { manifestJson, type ModelArtifact } from '../../../../lib/core/models/artifact.ts';
import {
  EASE_LAMBDA_GRID,
  EaseSizeError,
  fitEase,
  invertSpdInPlace,
  loadEase,
  NotPositiveDefiniteError,
} from '../../../../lib/core/models/ease/index.ts';
import { loadRecommender } from '../../../../lib/core/models/load.ts';
import type { Feature } from '../../../../lib/core/models/recommender.ts';
import { easeData } from './ease-data.ts';

const data = easeData;
const bytes = (artifact: ModelArtifact): string => manifestJson(artifact.manifest) + Buffer.from(artifact.payload).toString('base64');

/** Two communities: users u0..u5 play items a0..a3, users v0..v5 play b0..b3, each skipping one item. */
function communities(): [string, string][] {
  const pairs: [string, string][] = [];
  for (let u = 0; u < 6; u++)
    for (let i = 0; i < 4; i++) {
      if (i === u % 4) continue;
      pairs.push([`u${u}`, `a${i}`], [`v${u}`, `b${i}`]);
    }
  return pairs;
}

describe('invertSpdInPlace', () => {
  it('inverts a hand-computed 2x2 matrix', () => {
    // [[3,1],[1,2]]⁻¹ = [[2,-1],[-1,3]] / 5
    const a = invertSpdInPlace(Float64Array.from([3, 1, 1, 2]), 2);
    expect([...a].map((x) => x * 5)).toEqual([2, -1, -1, 3].map((x) => expect.closeTo(x, 12)));
  });

  it.each([40, 130])('gives A·A⁻¹ = I on a random SPD matrix of size %i (one block, and several blocks of pivots)', (n) => {
    let s = 7;
    const r = (): number => {
      s = (s * 16807) % 2147483647;
      return s / 2147483647 - 0.5;
    };
    const x = Float64Array.from({ length: n * n }, r);
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        let d = i === j ? 1 : 0;
        for (let t = 0; t < n; t++) d += (x[i * n + t] as number) * (x[j * n + t] as number);
        a[i * n + j] = d;
      }
    const inv = invertSpdInPlace(a.slice(), n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        let d = 0;
        for (let t = 0; t < n; t++) d += (a[i * n + t] as number) * (inv[t * n + j] as number);
        expect(d).toBeCloseTo(i === j ? 1 : 0, 9);
      }
  });

  it('names the failing pivot of a large matrix by its global index', () => {
    const n = 100;
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) a[i * n + i] = i === 70 ? -1 : 2;
    expect(() => invertSpdInPlace(a, n)).toThrow(/pivot 70 is -1/);
  });

  it('rejects a matrix that is not positive definite with NotPositiveDefiniteError naming the pivot', () => {
    expect(() => invertSpdInPlace(Float64Array.from([1, 2, 2, 1]), 2)).toThrow(NotPositiveDefiniteError);
    expect(() => invertSpdInPlace(Float64Array.from([1, 2, 2, 1]), 2)).toThrow(/pivot 1 is -3/);
  });
});

describe('fitEase', () => {
  it('matches the hand-computed closed form on two items', () => {
    // u1 plays a and b, u2 plays a: G = [[2,1],[1,1]], λ = 1, P = [[3,1],[1,2]]⁻¹ = [[2,-1],[-1,3]]/5,
    // B_ab = -P_ab/P_bb = 1/3, B_ba = -P_ba/P_aa = 1/2, diag(B) = 0.
    const model = fitEase(
      data([
        ['u1', 'a'],
        ['u1', 'b'],
        ['u2', 'a'],
      ]),
      { lambda: 1 },
    );
    expect(model.state.itemIds).toEqual(['a', 'b']);
    expect([...model.state.weights]).toEqual([0, expect.closeTo(1 / 3, 6), expect.closeTo(1 / 2, 6), 0]);
    // u2 has only a: b scores B_ab, a scores B_aa = 0.
    expect(model.recommend({ userId: 'u2', now: 0 }, 2)).toEqual([
      { itemId: 'b', score: expect.closeTo(1 / 3, 6) },
      { itemId: 'a', score: 0 },
    ]);
  });

  it('satisfies the closed form: diag(B) = 0 and (XᵀX + λI)(I − B) is diagonal', () => {
    const pairs = communities().concat([
      ['u0', 'b1'],
      ['v1', 'a2'],
    ]);
    const lambda = 3;
    const model = fitEase(data(pairs), { lambda });
    const ids = model.state.itemIds;
    const n = ids.length;
    const w = model.state.weights;
    for (let j = 0; j < n; j++) expect(w[j * n + j]).toBe(0);
    const col = new Map(ids.map((id, i) => [id, i]));
    const g = new Float64Array(n * n);
    const byUser = new Map<string, number[]>();
    for (const [u, i] of pairs) byUser.set(u, [...(byUser.get(u) ?? []), col.get(i) as number]);
    for (const row of byUser.values()) for (const a of row) for (const b of row) g[a * n + b] = (g[a * n + b] as number) + 1;
    for (let i = 0; i < n; i++) g[i * n + i] = (g[i * n + i] as number) + lambda;
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        if (i === j) continue;
        let d = 0;
        for (let t = 0; t < n; t++) d += (g[i * n + t] as number) * ((t === j ? 1 : 0) - (w[t * n + j] as number));
        expect(Math.abs(d)).toBeLessThan(1e-4);
      }
  });

  it('reproduces block structure: a community member gets its community items, with no weight across communities', () => {
    const model = fitEase(data(communities()), { lambda: 1 });
    const ids = model.state.itemIds;
    const n = ids.length;
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) if ((ids[i] as string)[0] !== (ids[j] as string)[0]) expect(model.state.weights[i * n + j]).toBe(0);
    // u0 skipped a0: it comes first, then (scored 0) everything else.
    const top = model.recommend({ userId: 'u0', now: 0 }, 4, { exclude: new Set(['a1', 'a2', 'a3']) });
    expect(top[0]?.itemId).toBe('a0');
    expect(top[0]?.score).toBeGreaterThan(0.1);
  });

  it('scores a user absent from training from its features', () => {
    const features = new Map<string, Feature[]>();
    for (let u = 0; u < 6; u++) {
      features.set(`u${u}`, [['genre:jazz', 1]]);
      features.set(`v${u}`, [['genre:rock', 1]]);
    }
    const model = fitEase(data(communities(), features), { lambda: 1 });
    expect(model.state.featureNames).toEqual(['genre:jazz', 'genre:rock']);
    const jazz = model.recommend({ userId: 'new', now: 0, features: [['genre:jazz', 1]] }, 4);
    const rock = model.recommend({ userId: 'new', now: 0, features: [['genre:rock', 1]] }, 4);
    expect(jazz.map((s) => s.itemId[0])).toEqual(['a', 'a', 'a', 'a']);
    expect(rock.map((s) => s.itemId[0])).toEqual(['b', 'b', 'b', 'b']);
    expect(fitEase(data(communities(), features), { userFeatures: false }).state.featureNames).toEqual([]);
  });

  it('ranks by popularity for a user with no signal and leaves out items it does not know', () => {
    const pairs = communities().concat([
      ['v0', 'a1'],
      ['v1', 'a1'],
    ]);
    const model = fitEase(data(pairs));
    const top = model.recommend({ userId: 'stranger', now: 0, features: [['genre:unknown', 1]] }, 3);
    // Users per item: a1 6 (4 + v0, v1), a2, a3, b2, b3 5 each, a0, b0, b1 4 each.
    expect(top.map((s) => s.itemId)).toEqual(['a1', 'a2', 'a3']);
    expect(top[0]?.score).toBe(6);
    const ranked = model.recommend({ userId: 'u0', now: 0 }, 10, { candidates: ['new-show', 'b0', 'a0'] });
    expect(ranked.map((s) => s.itemId).sort()).toEqual(['a0', 'b0']);
  });

  it('keeps the most popular items above maxItems, or throws EaseSizeError when told to', () => {
    const pairs = communities().concat([['v0', 'a1']]);
    // Users per item: a1, a2, a3, b2, b3 5 each; a0, b0, b1 4 each.
    const pruned = fitEase(data(pairs), { maxItems: 5 });
    expect(pruned.knownItems()).toEqual(['a1', 'a2', 'a3', 'b2', 'b3']);
    expect(pruned.state.hyperparameters.itemsInData).toBe(8);
    expect(() => fitEase(data(pairs), { maxItems: 5, onTooManyItems: 'error' })).toThrow(EaseSizeError);
    expect(() => fitEase(data(pairs), { maxItems: 5, onTooManyItems: 'error' })).toThrow(/8 items, at most 5/);
    expect(() => fitEase(data(pairs), { lambda: 0 })).toThrow(ConfigError);
    expect(() => fitEase(data(pairs), { maxItems: 100_000 })).toThrow('ease option maxItems is 100000, expected an integer 1..8000');
  });

  it("chooses λ from the grid on a validation split with lambda 'auto', and fits all the data with it", () => {
    // A larger community world, with noise plays across communities, so λ matters.
    const pairs: [string, string][] = [];
    let s = 11;
    const r = (): number => {
      s = (s * 16807) % 2147483647;
      return s / 2147483647;
    };
    for (let u = 0; u < 60; u++)
      for (let i = 0; i < 12; i++) {
        if (r() < 0.55) pairs.push([`u${u}`, `${u % 2 === 0 ? 'a' : 'b'}${i}`]);
        if (r() < 0.08) pairs.push([`u${u}`, `${u % 2 === 0 ? 'b' : 'a'}${i}`]);
      }
    const model = fitEase(data(pairs), { lambda: 'auto' });
    const hp = model.save().manifest.hyperparameters as { lambda: number; lambdaSearch: Record<string, number> };
    expect(Object.keys(hp.lambdaSearch).map(Number)).toEqual([...EASE_LAMBDA_GRID]);
    // The validation NDCGs that four separate fits gave (before the split was prepared once and
    // solved per λ in reused arrays): each λ's solve starts again from XᵀX.
    expect(hp.lambdaSearch).toEqual({ '25': 0.519631, '100': 0.512934, '400': 0.509381, '1600': 0.509381 });
    const best = Math.max(...Object.values(hp.lambdaSearch));
    // The chosen λ is the first with the best validation NDCG, and the model is the plain fit with it.
    expect(hp.lambda).toBe(EASE_LAMBDA_GRID.find((l) => hp.lambdaSearch[String(l)] === best));
    const plain = fitEase(data(pairs), { lambda: hp.lambda }).save();
    expect(Buffer.from(model.save().payload).equals(Buffer.from(plain.payload))).toBe(true);
    expect(bytes(fitEase(data(pairs), { lambda: 'auto' }).save())).toBe(bytes(model.save()));
    expect(() => fitEase(data(pairs), { lambda: 'best' as 'auto' })).toThrow(/lambda/);
  });

  it('is deterministic: the same data gives the same bytes', () => {
    const features = new Map<string, Feature[]>([['u1', [['country:SE', 1]]]]);
    expect(bytes(fitEase(data(communities(), features)).save())).toBe(bytes(fitEase(data(communities(), features)).save()));
  });

  it('loads back from its artifact with the same recommendations and bytes', () => {
    const features = new Map<string, Feature[]>([
      ['u1', [['country:SE', 1]]],
      ['v2', [['country:US', 1]]],
    ]);
    const model = fitEase(data(communities(), features), { lambda: 2 });
    const artifact = model.save();
    expect(artifact.manifest.kind).toBe('ease');
    const loaded = loadRecommender(artifact);
    expect(loaded.kind).toBe('ease');
    for (const context of [
      { userId: 'u1', now: 0 },
      { userId: 'v3', now: 0 },
      { userId: 'new', now: 0, features: [['country:US', 1]] as Feature[] },
    ])
      expect(loaded.recommend(context, 5)).toEqual(model.recommend(context, 5));
    expect(bytes(loaded.save())).toBe(bytes(artifact));
    expect(bytes(loadEase(artifact).save())).toBe(bytes(artifact));
  });
});
