/**
 * The JS reference kernel (lib/core/models/hybrid/kernel.ts) on hand-built data, one positive at a
 * time: which negative a step trains against. The wasm kernel takes the same steps (wasm-kernel.test.ts).
 */
import { describe, expect, it } from 'vitest';
import {
  LOSS_BPR,
  OPT_ADAGRAD,
  OPT_ADAGRAD_ROWWISE,
  runShard,
  type KernelData,
  type KernelParams,
} from '../../../../lib/core/models/hybrid/kernel.ts';
import { Rng } from '../../../../lib/core/rng.ts';

const DIM = 4;
/** Item 0 is the user's positive; the others score 0.1, 0.9, 0.5, 0.3 (user vector (1, 0, 0, 0)). */
const SCORES = [0.2, 0.1, 0.9, 0.5, 0.3];

/** accWidth: accumulator floats per feature (DIM for per-dimension Adagrad, 1 for row-wise); acc: their start. */
function problem(accWidth = DIM, acc = 1): { data: KernelData; params: KernelParams } {
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
    userAcc: new Float32Array(accWidth).fill(acc),
    userMom: new Float32Array(0),
    itemEmb,
    itemAcc: new Float32Array(n * accWidth).fill(acc),
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

  it('steps with row-wise Adagrad: lr / sqrt(the row accumulator before the step), then acc += mean of g^2', () => {
    // One BPR step (40 draws: the negative is item 2, as above) from accumulators at 4.
    const { data, params } = problem(1, 4);
    const lr = 0.1;
    const config = {
      loss: LOSS_BPR,
      optimizer: OPT_ADAGRAD_ROWWISE,
      learningRate: lr,
      l2: 0,
      maxSampled: 40,
      identityDropout: 0,
      stepOffset: 0,
    };
    runShard(data, params, config, Int32Array.of(0), 0, 1, new Rng(1));
    const coef = 1 / (1 + Math.exp(0.2 - 0.9)); // sigmoid(negative - positive)
    const close = (actual: number, expected: number): void => expect(Math.abs(actual - expected)).toBeLessThan(1e-6);
    // User: gradient coef * (negative - positive) = (0.7 coef, 0, 0, 0); only dimension 0 moves.
    close(params.userEmb[0] as number, 1 - (lr / 2) * 0.7 * coef);
    expect([...params.userEmb.subarray(1)]).toEqual([0, 0, 0]);
    close(params.userAcc[0] as number, 4 + (0.7 * coef) ** 2 / DIM);
    // Items: gradient -coef * user (the positive) and +coef * user (the negative).
    close(params.itemEmb[0] as number, 0.2 + (lr / 2) * coef);
    close(params.itemEmb[2 * DIM] as number, 0.9 - (lr / 2) * coef);
    expect(params.itemAcc).toHaveLength(SCORES.length);
    close(params.itemAcc[0] as number, 4 + coef ** 2 / DIM);
    close(params.itemAcc[2] as number, 4 + coef ** 2 / DIM);
    expect([params.itemAcc[1], params.itemAcc[3], params.itemAcc[4]]).toEqual([4, 4, 4]);
    // The biases keep per-feature Adagrad (a row of one value): accumulator 1 + coef^2.
    close(params.itemBiasAcc[0] as number, 1 + coef ** 2);
  });
});
