/**
 * Identity dropout: training sometimes represents items by their metadata alone, so an item known only
 * from its features (published after training) scores on the same scale as trained items.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../../lib/core/errors.ts';
import { fitHybrid, type HybridRecommender } from '../../../../lib/core/models/hybrid/index.ts';
import { plantedWorld } from './planted.ts';

const world = plantedWorld();
// A long tail, as in a real catalog: items that have features but were never played. Uniform negative
// sampling keeps pushing them, and with them the genre features, down.
const tail = new Map(Array.from({ length: 120 }, (_, n) => [`tail-${n}`, [[`genre:${n % 2}`, 1]] as [string, number][]]));
const data = { ...world.data, itemFeatures: new Map([...(world.data.itemFeatures ?? []), ...tail]) };
const candidates = [...world.items, 'new-show'];
const groupZero = [...world.groupOf.keys()].filter((id) => id.startsWith('u') && world.groupOf.get(id) === 0);
// The trained feature embeddings themselves (coldItems 'embeddings'): dropout is what calibrates them;
// the default least-squares map (cold-items.ts, tested in cold-items.test.ts) rescores such items after training.
const FAST = { dim: 16, epochs: 15, seed: 3, validationShare: 0, coldItems: 'embeddings' } as const;

/** Mean 1-based rank of a feature-only genre:0 item among the played items, in group-0 users' rankings. */
function newItemRank(model: HybridRecommender): number {
  model.indexItems(new Map([['new-show', [['genre:0', 1]]]]));
  let total = 0;
  for (const u of groupZero) {
    const ranked = model.recommend({ userId: u, now: 0 }, candidates.length, { candidates }).map((r) => r.itemId);
    total += ranked.indexOf('new-show') + 1;
  }
  return total / groupZero.length;
}

describe('identity dropout', () => {
  it("ranks a features-only item of the user's genre above the genre the user does not play", () => {
    const without = newItemRank(fitHybrid(data, FAST));
    const withDropout = newItemRank(fitHybrid(data, { ...FAST, identityDropout: 0.3 }));
    // 61 candidates: 30 played genre:0 items, 30 genre:1 items, the new show. Its features are those
    // of the never-played tail, so a calibrated model puts it at the foot of genre:0 (about 31st),
    // still above the genre the user does not play; without dropout it sinks below most of genre:1.
    expect(without).toBeGreaterThan(50);
    expect(withDropout).toBeLessThan(40);
  });

  it('keeps the model deterministic and still learns the planted groups', () => {
    const a = fitHybrid(world.data, { ...FAST, epochs: 3, identityDropout: 0.3 }).save();
    const b = fitHybrid(world.data, { ...FAST, epochs: 3, identityDropout: 0.3 }).save();
    const c = fitHybrid(world.data, { ...FAST, epochs: 3 }).save();
    expect(Buffer.from(a.payload).equals(Buffer.from(b.payload))).toBe(true);
    expect(Buffer.from(a.payload).equals(Buffer.from(c.payload))).toBe(false);
  });

  it('rejects a dropout outside 0..0.9', () => {
    expect(() => fitHybrid(world.data, { ...FAST, identityDropout: 1 })).toThrow(ConfigError);
    expect(() => fitHybrid(world.data, { ...FAST, identityDropout: -0.1 })).toThrow(/identityDropout/);
  });
});
