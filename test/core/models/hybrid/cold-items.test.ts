/**
 * Items known only by their features: the least-squares map of cold-items.ts, fitted at the end of
 * training, scores them (and items indexItems adds later), travels in the artifact, and artifacts
 * without it still load and score such items by their feature embeddings.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../../lib/core/errors.ts';
import { ArtifactError, makeArtifact, unpackSections, type TypedArray } from '../../../../lib/core/models/artifact.ts';
import {
  COLD_ITEMS_MIN_WARM,
  type ColdItemInput,
  coldItemVector,
  fitColdItemModel,
} from '../../../../lib/core/models/hybrid/cold-items.ts';
import { fitHybrid, HybridRecommender, loadHybrid } from '../../../../lib/core/models/hybrid/index.ts';
import type { Feature } from '../../../../lib/core/models/recommender.ts';
import { plantedWorld } from './planted.ts';

const world = plantedWorld();
// Items with features but no interactions (held out of training): two of each genre.
const held = new Map<string, Feature[]>([
  ['held-0a', [['genre:0', 1]]],
  ['held-0b', [['genre:0', 1]]],
  ['held-1a', [['genre:1', 1]]],
  ['held-1b', [['genre:1', 1]]],
]);
const data = { ...world.data, itemFeatures: new Map([...(world.data.itemFeatures ?? []), ...held]) };
const FAST = { dim: 16, epochs: 8, seed: 3, validationShare: 0 } as const;
const users = [...world.groupOf.keys()].filter((id) => id.startsWith('u'));
const heldIds = [...held.keys()];

/** Share of users whose top held-out item is of their own group. */
function heldOutPrecision(model: HybridRecommender): number {
  let hits = 0;
  for (const u of users) {
    const top = model.recommend({ userId: u, now: 0 }, 1, { candidates: heldIds })[0]?.itemId ?? '';
    if (top.startsWith(`held-${world.groupOf.get(u)}`)) hits++;
  }
  return hits / users.length;
}

/** Scores of the given items for one user, by id. */
function scoresOf(model: HybridRecommender, user: string, items: readonly string[]): Map<string, number> {
  return new Map(model.recommend({ userId: user, now: 0 }, items.length, { candidates: items }).map((s) => [s.itemId, s.score]));
}

describe('cold items: the least-squares map', () => {
  const model = fitHybrid(data, FAST);

  it("ranks a held-out item of the user's genre first, and scores it on the warm items' scale", () => {
    expect(model.currentState().coldItems).toBeDefined();
    expect(heldOutPrecision(model)).toBeGreaterThan(0.95);
    // Calibrated: a group-0 user's score of a genre-0 held-out item lies within the range of the
    // warm genre-0 items' scores (not on the 0/1 scale of the regression).
    const user = users.find((u) => world.groupOf.get(u) === 0) as string;
    const warm0 = world.items.filter((id) => world.groupOf.get(id) === 0);
    const warmScores = [...scoresOf(model, user, warm0).values()];
    const heldScore = scoresOf(model, user, ['held-0a']).get('held-0a') as number;
    expect(heldScore).toBeGreaterThan(Math.min(...warmScores));
    expect(heldScore).toBeLessThan(Math.max(...warmScores));
  });

  it('scores an item added by indexItems like a held-out item with the same features, also after save and load', () => {
    const loaded = loadHybrid(model.save());
    for (const m of [model, loaded]) {
      const copy = loadHybrid(m.save());
      copy.indexItems(new Map([['new-show', [['genre:1', 1]]]]));
      const user = users[1] as string;
      const s = scoresOf(copy, user, ['new-show', 'held-1a']);
      expect(s.get('new-show')).toBeCloseTo(s.get('held-1a') as number, 5);
    }
    const a = scoresOf(model, users[0] as string, heldIds);
    const b = scoresOf(loaded, users[0] as string, heldIds);
    for (const id of heldIds) expect(b.get(id)).toBe(a.get(id));
  });

  it('leaves warm items untouched: their scores equal those of the fit with the map off', () => {
    const off = fitHybrid(data, { ...FAST, coldItems: 'embeddings' });
    expect(off.currentState().coldItems).toBeUndefined();
    const a = scoresOf(model, users[2] as string, world.items);
    const b = scoresOf(off, users[2] as string, world.items);
    for (const id of world.items) expect(a.get(id)).toBe(b.get(id));
  });

  it('loads an artifact without the map (older versions): feature-only items sum their feature embeddings', () => {
    const artifact = model.save();
    const sections = unpackSections(artifact);
    expect(sections.coldItemEmb).toBeDefined();
    const { coldItemEmb: _e, coldItemBias: _b, ...rest } = sections;
    const { format: _f, sections: _s, payloadBytes: _p, ...manifest } = artifact.manifest;
    const old = loadHybrid(makeArtifact(manifest, rest as Record<string, TypedArray>));
    expect(old.currentState().coldItems).toBeUndefined();
    old.indexItems(new Map([['new-show', [['genre:0', 1]]]]));
    const state = old.currentState();
    const at = state.itemIds.indexOf('new-show');
    const f = state.itemFeatureNames.indexOf('genre:0');
    const d = state.dim;
    expect(Array.from(state.itemRep.subarray(at * d, (at + 1) * d))).toEqual(Array.from(state.itemFeatureEmb.subarray(f * d, (f + 1) * d)));
    expect(state.itemBias[at]).toBe(state.itemFeatureBias[f]);
  });

  it('rejects a map whose size does not match the item features, and an unknown coldItems option', () => {
    const state = model.currentState();
    const cold = state.coldItems as NonNullable<typeof state.coldItems>;
    expect(() => new HybridRecommender({ ...state, coldItems: { emb: cold.emb, bias: cold.bias.subarray(1) } })).toThrow(ArtifactError);
    expect(() => fitHybrid(data, { ...FAST, coldItems: 'mean' as never })).toThrow(ConfigError);
  });
});

describe('fitColdItemModel', () => {
  // Two user directions, items with genre a or b; users along +x play genre a, users along -x genre b.
  const dim = 4;
  const nUsers = 40;
  const userRep = new Float32Array(nUsers * dim);
  for (let u = 0; u < nUsers; u++) userRep[u * dim] = u % 2 === 0 ? 1 : -1;
  const nItems = 60;
  const feat = Int32Array.from({ length: nItems }, (_, i) => i % 2);
  const rows = { ptr: Int32Array.from({ length: nItems + 1 }, (_, i) => i), feat, weight: new Float32Array(nItems).fill(1) };
  const itemRep = new Float32Array(nItems * dim);
  for (let i = 0; i < nItems; i++) itemRep[i * dim] = i % 2 === 0 ? 2 : -2;
  const posUser: number[] = [];
  const posItem: number[] = [];
  for (let u = 0; u < nUsers; u++)
    for (let i = u % 2; i < nItems; i += 2)
      if ((u + i) % 3 !== 0) {
        posUser.push(u);
        posItem.push(i);
      }
  const input = allWarm({
    dim,
    userRep,
    nUsers,
    itemRep,
    rows,
    nFeatures: 2,
    posUser: Int32Array.from(posUser),
    posItem: Int32Array.from(posItem),
  });

  it("learns each genre's direction and matches the model's scale", () => {
    const map = fitColdItemModel(input, { space: 'raw' });
    expect(map).toBeDefined();
    const m = map as NonNullable<typeof map>;
    // Item rep of genre f = intercept row + row f; the model's genre-a items sit at +2 on axis 0.
    const a = (m.emb[2 * dim] as number) + (m.emb[0] as number);
    const b = (m.emb[2 * dim] as number) + (m.emb[dim] as number);
    expect(a).toBeGreaterThan(1.5);
    expect(a).toBeLessThan(2.5);
    expect(b).toBeLessThan(-1.5);
    expect(b).toBeGreaterThan(-2.5);
  });

  it('fits nothing with too few warm items or no features', () => {
    const warm = new Uint8Array(nItems);
    warm.fill(1, 0, COLD_ITEMS_MIN_WARM - 1);
    expect(fitColdItemModel({ ...input, warm })).toBeUndefined();
    expect(fitColdItemModel({ ...input, nFeatures: 0 })).toBeUndefined();
  });

  it('fits nothing when the fitted scores run against the model (no calibration with a negative slope)', () => {
    const flipped = itemRep.map((x) => -x);
    expect(fitColdItemModel({ ...input, itemRep: flipped })).toBeUndefined();
  });
});

describe('fitColdItemModel: feature pairs', () => {
  // Four genres; users along +x play the pairs {0,1} and {2,3}, users along -x the pairs {0,2} and
  // {1,3}. Summed per user, both halves cover the same genres once each, so no model additive in the
  // genres (raw or normalised) can tell them apart; the products of two genres can.
  const dim = 2;
  const nUsers = 40;
  const userRep = new Float32Array(nUsers * dim);
  for (let u = 0; u < nUsers; u++) userRep[u * dim] = u % 2 === 0 ? 1 : -1;
  const kinds = [
    [0, 1],
    [2, 3],
    [0, 2],
    [1, 3],
  ] as const;
  const nItems = 80;
  const ptr = new Int32Array(nItems + 1);
  const feat: number[] = [];
  const itemRep = new Float32Array(nItems * dim);
  const posUser: number[] = [];
  const posItem: number[] = [];
  for (let i = 0; i < nItems; i++) {
    const kind = i % 4;
    feat.push(...(kinds[kind] as readonly number[]));
    ptr[i + 1] = feat.length;
    const side = kind < 2 ? 1 : -1;
    itemRep[i * dim] = 2 * side;
    for (let u = 0; u < nUsers; u++)
      if ((u % 2 === 0 ? 1 : -1) === side && (u + i) % 3 !== 0) {
        posUser.push(u);
        posItem.push(i);
      }
  }
  const order = posUser.map((u, k) => [u, posItem[k] as number] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const input = allWarm({
    dim,
    userRep,
    nUsers,
    itemRep,
    rows: { ptr, feat: Int32Array.from(feat), weight: new Float32Array(feat.length).fill(1) },
    nFeatures: 4,
    posUser: Int32Array.from(order, (p) => p[0]),
    posItem: Int32Array.from(order, (p) => p[1]),
  });
  const names = new Map([0, 1, 2, 3].map((g) => [`genre:${g}`, g]));

  it("ranks the pairs a user's kind plays above the others with pairs; without them nothing tracks the model", () => {
    const map = fitColdItemModel(input, { pairs: true, blend: 0 });
    expect(map?.bias.length).toBe(2 * 4 + 6 + 1);
    const m = map as NonNullable<typeof map>;
    const rep = new Float32Array(dim);
    // A +x user's score of a feature-only item of each pair kind.
    const [ab, cd, ac, bd] = kinds.map(([a, b]) => {
      const bias = coldItemVector(
        m,
        [
          [`genre:${a}`, 1],
          [`genre:${b}`, 1],
        ],
        names,
        rep,
        0,
        dim,
      ) as number;
      return (rep[0] as number) + bias;
    }) as [number, number, number, number];
    expect(Math.min(ab, cd)).toBeGreaterThan(Math.max(ac, bd) + 1);
    // Additive in the genres, the fit's scores carry nothing of the model's ranking of the warm items:
    // the calibration finds no positive slope and no map is kept.
    expect(fitColdItemModel(input, { pairs: false, blend: 0 })).toBeUndefined();
  });
});

/** A fit's input where every item is warm with zero bias (the cases differ in users, rows and positives). */
function allWarm(input: Omit<ColdItemInput, 'itemBias' | 'warm'>): ColdItemInput {
  const nItems = input.itemRep.length / input.dim;
  return { ...input, itemBias: new Float32Array(nItems), warm: new Uint8Array(nItems).fill(1) };
}
