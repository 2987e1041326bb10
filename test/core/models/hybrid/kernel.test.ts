/**
 * The JS reference kernel (lib/core/models/hybrid/kernel.ts) on hand-built data, one positive at a
 * time: which negative a step trains against. The wasm kernel takes the same steps (wasm-kernel.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { LOSS_BPR, OPT_ADAGRAD, runShard, type KernelData, type KernelParams } from '../../../../lib/core/models/hybrid/kernel.ts';
import { Rng } from '../../../../lib/core/rng.ts';

const DIM = 4;
/** Item 0 is the user's positive; the others score 0.1, 0.9, 0.5, 0.3 (user vector (1, 0, 0, 0)). */
const SCORES = [0.2, 0.1, 0.9, 0.5, 0.3];

function problem(): { data: KernelData; params: KernelParams } {
  const n = SCORES.length;
  const identity = (rows: number) => ({
    ptr: Int32Array.from({ length: rows + 1 }, (_, r) => r),
    feat: Int32Array.from({ length: rows }, (_, r) => r),
    weight: new Float32Array(rows).fill(1),
  });
  const users = identity(1);
  const items = identity(n);
  const data: KernelData = {
    dim: DIM,
    nItems: n,
    userPtr: users.ptr,
    userFeat: users.feat,
    userWeight: users.weight,
    itemPtr: items.ptr,
    itemFeat: items.feat,
    itemWeight: items.weight,
    posUser: Int32Array.of(0),
    posItem: Int32Array.of(0),
    posWeight: Float32Array.of(1),
    seenPtr: Int32Array.of(0, 1),
    seenItem: Int32Array.of(0),
    itemColdPtr: items.ptr,
    itemColdFeat: items.feat,
    itemColdWeight: items.weight,
  };
  const itemEmb = new Float32Array(n * DIM);
  SCORES.forEach((s, i) => {
    itemEmb[i * DIM] = s;
  });
  const params: KernelParams = {
    userEmb: Float32Array.of(1, 0, 0, 0),
    userAcc: new Float32Array(DIM).fill(1),
    userMom: new Float32Array(0),
    itemEmb,
    itemAcc: new Float32Array(n * DIM).fill(1),
    itemMom: new Float32Array(0),
    itemBias: new Float32Array(n),
    itemBiasAcc: new Float32Array(n).fill(1),
    itemBiasMom: new Float32Array(0),
  };
  return { data, params };
}

/** The items whose bias a step moved up (the positive) and down (the negative). */
function step(loss: number, maxSampled: number, seed: number): { up: number[]; down: number[] } {
  const { data, params } = problem();
  const config = { loss, optimizer: OPT_ADAGRAD, learningRate: 0.1, l2: 0, maxSampled, identityDropout: 0, stepOffset: 0 };
  runShard(data, params, config, Int32Array.of(0), 0, 1, new Rng(seed));
  const items = [...params.itemBias.keys()];
  return { up: items.filter((i) => (params.itemBias[i] as number) > 0), down: items.filter((i) => (params.itemBias[i] as number) < 0) };
}

describe('the hybrid kernel', () => {
  it('trains BPR against the highest-scoring of the drawn negatives', () => {
    // 40 draws over 4 negatives draw every one (for these seeds): the hardest, item 2, is the one trained against.
    for (const seed of [1, 2, 3, 4]) expect(step(LOSS_BPR, 40, seed)).toEqual({ up: [0], down: [2] });
  });

  it('trains BPR with one draw against a uniform negative, never the positive', () => {
    const negatives = new Set<number>();
    for (let seed = 1; seed <= 40; seed++) {
      const { up, down } = step(LOSS_BPR, 1, seed);
      expect(up).toEqual([0]);
      expect(down).toHaveLength(1);
      negatives.add(down[0] as number);
    }
    expect([...negatives].sort()).toEqual([1, 2, 3, 4]);
  });
});
