/**
 * The WebAssembly SIMD kernel (lib/core/models/hybrid/wasm/kernel.wat) against the JS reference
 * kernel (kernel.ts): same algorithm, f32 instead of f64 vectors, so the same quality, not the same bits.
 * Over a few hundred steps the two agree to f32 rounding (same random draws, same negatives, same
 * updates); over whole fits they diverge, so fits are compared by quality.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { HybridSession } from '../../../../lib/core/models/hybrid/fit.ts';
import { heapAlloc } from '../../../../lib/core/models/hybrid/features.ts';
import { fitHybrid, type HybridRecommender } from '../../../../lib/core/models/hybrid/index.ts';
import { runShard, type KernelParams } from '../../../../lib/core/models/hybrid/kernel.ts';
import { WasmArena, WasmMemoryLimitError } from '../../../../lib/core/models/hybrid/wasm/runner.ts';
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
  ] as const)('learns as the JS reference does with %s and %s', (loss, optimizer) => {
    const wasm = fitHybrid(world.data, { ...FAST, loss, optimizer, kernel: 'wasm' });
    const js = fitHybrid(world.data, { ...FAST, loss, optimizer, kernel: 'js' });
    expect(training(wasm).kernel).toBe('wasm');
    expect(training(js).kernel).toBe('js');
    const precision = (m: HybridRecommender): number => groupPrecision((u) => m.recommend({ userId: u, now: 0 }, 5), users, world.groupOf);
    expect(precision(wasm)).toBeGreaterThan(0.9);
    expect(Math.abs((training(wasm).validationValue as number) - (training(js).validationValue as number))).toBeLessThan(0.02);
  });

  // Step by step from the same parameters: identical draws, negatives and losses, parameters equal to
  // f32 rounding. Epoch 0 (Adam's bias correction matters), a strong L2, and rows of two features,
  // metadata-only rows (dropout) and identity-only rows: checked to fail for a kernel that skips the
  // bias, user or L2 updates, ignores dropout for negatives or Adam's bias correction, misreads the
  // rank weight, or drops Adagrad's square root.
  const bare = { ...world.data, userFeatures: undefined, itemFeatures: undefined };
  it.each([
    ['warp', 'adagrad'],
    ['bpr', 'adagrad'],
    ['warp', 'adam'],
    ['bpr', 'adam'],
  ] as const)('takes the same steps as the JS reference with %s and %s', (loss, optimizer) => {
    for (const [data, identityDropout] of [
      [world.data, 0],
      [world.data, 0.5],
      [bare, 0],
    ] as const) {
      const session = HybridSession.prepare(data, { ...FAST, loss, optimizer, identityDropout, l2: 0.05, kernel: 'wasm' });
      expect(session.kernel).toBe('wasm');
      const epoch = 0;
      const n = 300;
      session.shuffle(epoch);
      const reference = Object.fromEntries(
        Object.entries(session.params).map(([k, v]: [string, Float32Array]) => [k, v.slice()]),
      ) as unknown as KernelParams;
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
      expect(Math.abs(wasm.loss - js.loss)).toBeLessThan(1e-6 * js.loss);
      for (const name of Object.keys(reference) as (keyof KernelParams)[]) {
        expect(worstDifference(reference[name], session.params[name]), `${name}, dropout ${identityDropout}`).toBeLessThan(1e-3);
      }
    }
  });

  it('trains the identity-dropout branch like the reference', () => {
    const data = {
      ...world.data,
      itemFeatures: new Map([...(world.data.itemFeatures ?? []), ['tail', [['genre:0', 1]] as [string, number][]]]),
    };
    const wasm = fitHybrid(data, { ...FAST, identityDropout: 0.3, kernel: 'wasm' });
    const js = fitHybrid(data, { ...FAST, identityDropout: 0.3, kernel: 'js' });
    expect(Math.abs((training(wasm).validationValue as number) - (training(js).validationValue as number))).toBeLessThan(0.02);
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
    expect(() => fitHybrid(world.data, { ...FAST, kernel: 'gpu' as 'js' })).toThrow(/kernel is gpu, expected "wasm" or "js"/);
  });
});
