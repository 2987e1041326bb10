/**
 * The WebAssembly SIMD kernel (lib/core/models/hybrid/wasm/kernel.wat) against the JS reference
 * kernel (kernel.ts): the same f32 operations in the same order, so on one thread the same steps
 * (same random draws, negatives and updates) and the same parameters over a whole epoch.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { HybridSession } from '../../../../lib/core/models/hybrid/fit.ts';
import { heapAlloc } from '../../../../lib/core/models/hybrid/features.ts';
import { fitHybrid, type HybridRecommender } from '../../../../lib/core/models/hybrid/index.ts';
import { runShard, type KernelParams } from '../../../../lib/core/models/hybrid/kernel.ts';
import { CONTROL_LAYOUT, substituteLayout } from '../../../../lib/core/models/hybrid/wasm/layout.ts';
import { arenaBytes, WasmArena, WasmMemoryLimitError, WasmShardRunner } from '../../../../lib/core/models/hybrid/wasm/runner.ts';
import { Rng } from '../../../../lib/core/rng.ts';
import { bytesModule, BYTES_PATH, compileKernel } from '../../../../scripts/build-wasm.ts';
import { groupPrecision, plantedWorld } from './planted.ts';

const world = plantedWorld();
const users = [...world.groupOf.keys()].filter((id) => id.startsWith('u'));
const FAST = { dim: 16, epochs: 15, seed: 3 } as const;
const training = (m: HybridRecommender): Record<string, unknown> =>
  (m.save().manifest.extra as { training: Record<string, unknown> }).training;

/** Largest difference between two arrays, relative to the reference value (at least 0.01). */
function worstDifference(reference: Float32Array, actual: Float32Array): number {
  let worst = 0;
  for (let x = 0; x < reference.length; x++) {
    const r = reference[x] as number;
    worst = Math.max(worst, Math.abs(r - (actual[x] as number)) / Math.max(0.01, Math.abs(r)));
  }
  return worst;
}

describe('the wasm kernel', () => {
  it('is compiled from kernel.wat: the committed binary is what `npm run build:wasm` writes', async () => {
    expect(readFileSync(BYTES_PATH, 'utf8')).toBe(bytesModule(await compileKernel()));
  });

  it.each([
    ['warp', 'adagrad'],
    ['bpr', 'adagrad'],
    ['warp', 'adam'],
    ['bpr', 'adam'],
    ['warp', 'adagrad-rowwise'],
    ['bpr', 'adagrad-rowwise'],
  ] as const)('fits the same model as the JS reference with %s and %s', (loss, optimizer) => {
    const wasm = fitHybrid(world.data, { ...FAST, loss, optimizer, kernel: 'wasm' });
    const js = fitHybrid(world.data, { ...FAST, loss, optimizer, kernel: 'js' });
    expect(training(wasm).kernel).toBe('wasm');
    expect(training(js).kernel).toBe('js');
    const precision = (m: HybridRecommender): number => groupPrecision((u) => m.recommend({ userId: u, now: 0 }, 5), users, world.groupOf);
    expect(precision(wasm)).toBeGreaterThan(0.9);
    // Whole fits (every epoch, validation, early stopping) give the same parameters to the bit.
    expect(Buffer.from(wasm.save().payload).equals(Buffer.from(js.save().payload))).toBe(true);
    // Validation scored by the wasm kernel's score_four gives the JS metric to the bit, epoch by epoch.
    expect(training(wasm).validationValue).toBe(training(js).validationValue);
    expect(training(wasm).bestEpoch).toBe(training(js).bestEpoch);
  });

  // One shard, one whole epoch, from the same parameters and seed: the same draws, negatives, losses
  // and parameters. Epoch 1 after a first epoch (Adam's bias correction from a step offset), a strong
  // L2, and rows of two features, metadata-only rows (dropout) and identity-only rows: checked to fail
  // for a kernel that skips the bias, user or L2 updates, ignores dropout for negatives or Adam's bias
  // correction, misreads the rank weight, or drops Adagrad's square root.
  const bare = { ...world.data, userFeatures: undefined, itemFeatures: undefined };
  it.each([
    ['warp', 'adagrad'],
    ['bpr', 'adagrad'],
    ['warp', 'adam'],
    ['bpr', 'adam'],
    ['warp', 'adagrad-rowwise'],
    ['bpr', 'adagrad-rowwise'],
  ] as const)('takes the same steps as the JS reference over an epoch with %s and %s', (loss, optimizer) => {
    // BPR: the default draws several negatives and trains on the hardest; 1 is the single uniform one.
    for (const [data, identityDropout, bprNegatives] of [
      [world.data, 0, 5],
      [world.data, 0.5, 5],
      [bare, 0, 5],
      [world.data, 0, 1],
    ] as const) {
      const session = HybridSession.prepare(data, { ...FAST, loss, optimizer, identityDropout, bprNegatives, l2: 0.05, kernel: 'wasm' });
      expect(session.kernel).toBe('wasm');
      // Row-wise Adagrad: one accumulator per feature row (per dimension otherwise; Adam's second moments).
      const accWidth = optimizer === 'adagrad-rowwise' ? 1 : FAST.dim;
      expect(session.params.userAcc.length).toBe((session.params.userEmb.length / FAST.dim) * accWidth);
      expect(session.params.itemAcc.length).toBe((session.params.itemEmb.length / FAST.dim) * accWidth);
      session.shuffle(0);
      session.runShard(0, 0, 0, session.positives);
      const epoch = 1;
      session.shuffle(epoch);
      const reference = Object.fromEntries(
        Object.entries(session.params).map(([k, v]: [string, Float32Array]) => [k, v.slice()]),
      ) as unknown as KernelParams;
      const n = session.positives;
      const js = runShard(
        session.kernelData,
        reference,
        session.kernelConfig(epoch, 0),
        session.order,
        0,
        n,
        new Rng(session.shardSeed(epoch, 0)),
      );
      const wasm = session.runShard(epoch, 0, 0, n);
      expect(wasm.samples).toBe(n);
      expect(Math.abs(wasm.loss - js.loss)).toBeLessThanOrEqual(1e-5 * Math.abs(js.loss));
      for (const name of Object.keys(reference) as (keyof KernelParams)[]) {
        expect(worstDifference(reference[name], session.params[name]), `${name}, dropout ${identityDropout}`).toBeLessThanOrEqual(1e-5);
      }
    }
  });

  it('hands out zero-filled arrays from a reserved region, and refuses more than the region holds', () => {
    const arena = new WasmArena(4);
    const region = arena.region(arenaBytes([3, 5]));
    // Memory lent to something else first: the region's arrays do not show it.
    new Uint8Array(region.buffer, region.byteOffset, region.byteLength).fill(0xff);
    const a = region.alloc<Float32Array>('float32', 3);
    const b = region.alloc<Int32Array>('int32', 5);
    expect([...a, ...b]).toEqual(new Array(8).fill(0));
    expect(a.byteOffset).toBe(region.byteOffset);
    expect(b.byteOffset).toBe(region.byteOffset + 16);
    expect(() => region.alloc('float32', 1)).toThrow(/region of 48 bytes is full, expected room for 1 more words/);
  });

  it('draws the random stream of lib/core/rng.ts', () => {
    const arena = new WasmArena(4);
    const runner = new WasmShardRunner(arena.memory, arena.slot(4, 10));
    for (const seed of [0, 1, 42, 0xffffffff]) {
      const rng = new Rng(seed);
      const wasm = runner.rngDraws(rng, 1000); // more than the slot's scratch: drawn in chunks
      const js = Uint32Array.from({ length: 1000 }, () => rng.nextUint32());
      expect(wasm).toEqual(js);
    }
  });

  it('reads its control block through the one layout table', () => {
    expect(() => substituteLayout('(i32.load offset=@dimm (local.get $ctx))')).toThrow(/@dimm, expected one of dim, nItems/);
    expect(substituteLayout('(f64.load offset=@l2 (local.get $ctx))')).toBe(
      `(f64.load offset=${CONTROL_LAYOUT.l2.offset} (local.get $ctx))`,
    );
    const offsets = Object.values(CONTROL_LAYOUT).map((f) => f.offset);
    expect(new Set(offsets).size).toBe(offsets.length);
    for (const f of Object.values(CONTROL_LAYOUT)) expect(f.offset % (f.type === 'f64' ? 8 : 4)).toBe(0);
  });

  it('trains the identity-dropout branch like the reference', () => {
    const data = {
      ...world.data,
      itemFeatures: new Map([...(world.data.itemFeatures ?? []), ['tail', [['genre:0', 1]] as [string, number][]]]),
    };
    const wasm = fitHybrid(data, { ...FAST, identityDropout: 0.3, kernel: 'wasm' });
    const js = fitHybrid(data, { ...FAST, identityDropout: 0.3, kernel: 'js' });
    expect(training(wasm).validationValue).toBe(training(js).validationValue);
    expect(Buffer.from(wasm.save().payload).equals(Buffer.from(js.save().payload))).toBe(true);
  });

  it('is the default, deterministic, and leaves sizes that are not whole SIMD lanes to the JS kernel', () => {
    const a = fitHybrid(world.data, { ...FAST, epochs: 3 });
    const b = fitHybrid(world.data, { ...FAST, epochs: 3 });
    expect(training(a).kernel).toBe('wasm');
    expect(Buffer.from(a.save().payload).equals(Buffer.from(b.save().payload))).toBe(true);
    expect(training(fitHybrid(world.data, { ...FAST, epochs: 2, dim: 6 })).kernel).toBe('js');
  });

  it('grows its memory for new arrays, keeps earlier arrays valid, and refuses past its limit', () => {
    const arena = new WasmArena(4);
    const first = arena.alloc<Float32Array>('float32', 1000);
    first.fill(2.5);
    const second = arena.alloc<Int32Array>('int32', 40_000); // needs a second and a third page
    second.fill(7);
    expect(first[999]).toBe(2.5);
    expect(second.byteOffset % 16).toBe(0);
    expect(() => arena.alloc('float32', 100_000)).toThrow(WasmMemoryLimitError);
    expect(() => arena.alloc('float32', 100_000)).toThrow(/over the 262144 of the wasm memory/);
  });

  it('falls back to the JS kernel when the training arrays do not fit in the wasm memory', () => {
    expect(HybridSession.prepare(world.data, FAST, heapAlloc, () => new WasmArena(1)).kernel).toBe('js');
    expect(HybridSession.prepare(world.data, FAST, heapAlloc, () => new WasmArena(64)).kernel).toBe('wasm');
  });

  it('rejects an unknown kernel', () => {
    expect(() => fitHybrid(world.data, { ...FAST, kernel: 'gpu' as 'js' })).toThrow(
      'hybrid option kernel is "gpu", expected "wasm" or "js"',
    );
  });
});
