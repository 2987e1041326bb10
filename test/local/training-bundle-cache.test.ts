/**
 * The training bundle kept for the local SageMaker runner: built once, reused while nothing it was
 * built from changed, rebuilt when an input changed or a file of it is gone. How it is stored (atomic
 * swap, pruning, racing builds) is kept-build's, tested in kept-build.test.ts.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cachedTrainingBundle } from '../../lib/local/training-bundle-cache.ts';

let cacheDir: string;

beforeAll(async () => {
  cacheDir = await mkdtemp(join(tmpdir(), 'shelves-bundle-cache-'));
});

afterAll(async () => {
  await rm(cacheDir, { recursive: true, force: true });
});

describe('cachedTrainingBundle', () => {
  it('builds the bundle when there is none, then reuses it', async () => {
    const first = await cachedTrainingBundle(cacheDir);
    expect(first).toMatchObject({ built: true, reason: 'absent' });
    const second = await cachedTrainingBundle(cacheDir);
    expect(second).toEqual({ entrypoint: first.entrypoint, worker: first.worker, built: false });
  }, 120_000);

  it('rebuilds when an input changed since the build', async () => {
    const pointerFile = join(cacheDir, 'current.json');
    const pointer = JSON.parse(await readFile(pointerFile, 'utf8')) as { inputs: Record<string, [number, number]> };
    // The recipe is an input besides esbuild's; as if it had been edited after the build.
    const recipe = 'lib/infra/training-bundle.ts';
    expect(Object.keys(pointer.inputs)).toEqual(expect.arrayContaining([recipe, 'lib/train/sagemaker-entrypoint.ts']));
    await writeFile(pointerFile, JSON.stringify({ ...pointer, inputs: { ...pointer.inputs, [recipe]: [0, 1] } }));
    const rebuilt = await cachedTrainingBundle(cacheDir);
    expect(rebuilt).toMatchObject({ built: true, reason: `${recipe} changed since the build` });
    expect((await cachedTrainingBundle(cacheDir)).built).toBe(false);
  }, 120_000);

  it('rebuilds when a file of the bundle is gone', async () => {
    const kept = await cachedTrainingBundle(cacheDir);
    await unlink(kept.worker);
    const rebuilt = await cachedTrainingBundle(cacheDir);
    expect(rebuilt).toMatchObject({ built: true, reason: `${kept.worker} is missing` });
    expect(rebuilt.worker).not.toBe(kept.worker);
  }, 120_000);

  it('is the training program: it writes the failure reason where SageMaker reads it', async () => {
    const { entrypoint } = await cachedTrainingBundle(cacheDir);
    const smRoot = join(cacheDir, 'opt-ml');
    await mkdir(join(smRoot, 'input', 'config'), { recursive: true });
    await writeFile(join(smRoot, 'input', 'config', 'hyperparameters.json'), JSON.stringify({ shelf: 'podcasts', algo: 'nope' }));
    const failure = await promisify(execFile)(process.execPath, [entrypoint], {
      env: { PATH: process.env.PATH ?? '', SM_ROOT: smRoot },
    }).catch((e: unknown) => e as { code: number });
    expect((failure as { code: number }).code).toBe(1);
    expect(await readFile(join(smRoot, 'output', 'failure'), 'utf8')).toMatch(/^invalid hyperparameters:[\s\S]*algo/);
  }, 60_000);
});
