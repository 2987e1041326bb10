import { describe, expect, it } from 'vitest';
import { manifestJson } from '../../../../lib/core/models/artifact.ts';
import { fitHybrid } from '../../../../lib/core/models/hybrid/index.ts';
import { trainHybrid, type TrainProgress } from '../../../../lib/train/train-hybrid.ts';
import { groupPrecision, plantedWorld } from './planted.ts';

const world = plantedWorld();
const users = [...world.groupOf.keys()].filter((id) => id.startsWith('u'));
const OPTIONS = { dim: 16, epochs: 15, seed: 3 } as const;

describe('trainHybrid', () => {
  it('with one thread is the deterministic single-threaded fit, its refit on all positives included', async () => {
    const progress: TrainProgress[] = [];
    const threaded = (await trainHybrid(world.data, { ...OPTIONS, threads: 1, onProgress: (p) => progress.push(p) })).save();
    const pure = fitHybrid(world.data, { ...OPTIONS, threads: 1 }).save();
    expect(manifestJson(threaded.manifest)).toBe(manifestJson(pure.manifest));
    expect(Buffer.from(threaded.payload).equals(Buffer.from(pure.payload))).toBe(true);
    // Every planted user validates, so the default refit runs: its epochs are reported after the validation run's.
    const refitEpochs = (threaded.manifest.extra as { training: { refitEpochs?: number } }).training.refitEpochs;
    expect(refitEpochs).toBeGreaterThan(0);
    expect(progress.filter((p) => p.refit === true).map((p) => p.epoch)).toEqual(Array.from({ length: refitEpochs ?? 0 }, (_, e) => e + 1));
  });

  it.each([
    ['warp', 'wasm'],
    ['bpr', 'wasm'],
    ['warp', 'js'],
  ] as const)('with two worker threads learns the planted groups as well (%s, %s kernel)', async (loss, kernel) => {
    const progress: TrainProgress[] = [];
    const model = await trainHybrid(world.data, { ...OPTIONS, loss, kernel, threads: 2, onProgress: (p) => progress.push(p) });
    expect((model.save().manifest.extra as { training: { kernel: string } }).training.kernel).toBe(kernel);
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.every((p) => p.threads === 2 && p.samplesPerSecond > 0)).toBe(true);
    expect(groupPrecision((u) => model.recommend({ userId: u, now: 0 }, 5), users, world.groupOf)).toBeGreaterThan(0.9);
  });

  it('with two worker threads and row-wise Adagrad (one accumulator per row, shared by the threads) learns them too', async () => {
    const model = await trainHybrid(world.data, { ...OPTIONS, optimizer: 'adagrad-rowwise', threads: 2 });
    const manifest = model.save().manifest;
    expect((manifest.extra as { training: { kernel: string } }).training.kernel).toBe('wasm');
    expect((manifest.hyperparameters as { optimizer: string }).optimizer).toBe('adagrad-rowwise');
    expect(groupPrecision((u) => model.recommend({ userId: u, now: 0 }, 5), users, world.groupOf)).toBeGreaterThan(0.9);
  });
});
