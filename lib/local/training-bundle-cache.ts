/**
 * The training container's bundle (lib/infra/training-bundle.ts: the esbuild bundle the Dockerfile
 * builds), built once and kept for the local SageMaker runner. A job then starts the very program
 * the image runs, on plain `node`, instead of compiling the entrypoint's TypeScript through tsx in
 * every job (about a second of loader work each).
 *
 * The bundle is rebuilt when any file esbuild read for it (its metafile's inputs: our sources and
 * the node_modules files bundled) or its recipe changed (modification time or size), or a file of it
 * is gone. It is kept as a kept build (./kept-build.mjs): built in a fresh folder that a pointer file
 * names once the build is done, so concurrent processes (test forks) never see a half-written bundle;
 * a job keeps the folder it started with.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { bundleTrainingEntrypoint, TRAINING_BUNDLE } from '../infra/training-bundle.ts';
import { changedInput, keepBuild, keptBuildDir, readPointer, stampInputs } from './kept-build.mjs';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The bundle's recipe is an input too: a change of esbuild options rebuilds it. */
const RECIPE = 'lib/infra/training-bundle.ts';
/** Where the bundle is kept by default (node_modules/.cache/home-shelves/training-bundle-<checkout>). */
export const DEFAULT_BUNDLE_CACHE_DIR = keptBuildDir('training-bundle');
/**
 * Superseded builds are deleted this long after being replaced. A day: a job started from an older
 * build may still be running and load its worker module later.
 */
const STALE_BUILD_MS = 24 * 3_600_000;

const PointerSchema = z.object({
  /** Folder name of the build, inside the cache folder. */
  dir: z.string(),
  /** The repository-relative files the bundle was built from (esbuild's metafile inputs and the recipe): [mtimeMs, size]. */
  inputs: z.record(z.string(), z.tuple([z.number(), z.number()])),
});

/** The bundle's two modules, absolute paths. */
export interface TrainingBundlePaths {
  readonly entrypoint: string;
  readonly worker: string;
}

/** What cachedTrainingBundle did: reused the kept bundle, or built it (and why). */
export interface TrainingBundleStatus extends TrainingBundlePaths {
  readonly built: boolean;
  /** Why it was built: `absent`, or the first file found changed or missing. */
  readonly reason?: string;
}

/** The training bundle, rebuilt when stale; `cacheDir` defaults to DEFAULT_BUNDLE_CACHE_DIR. */
export async function cachedTrainingBundle(cacheDir: string = DEFAULT_BUNDLE_CACHE_DIR): Promise<TrainingBundleStatus> {
  const current = PointerSchema.safeParse(readPointer(cacheDir));
  const reason = current.success ? staleness(cacheDir, current.data) : 'absent';
  if (current.success && reason === undefined) return { ...bundlePaths(join(cacheDir, current.data.dir)), built: false };

  const startedAt = Date.now();
  const folder = await keepBuild(
    cacheDir,
    async (outdir) => {
      const { inputs } = await bundleTrainingEntrypoint(outdir);
      return { inputs: stampInputs(REPO_ROOT, [...inputs, RECIPE], startedAt) };
    },
    { keepSupersededMs: STALE_BUILD_MS },
  );
  return { ...bundlePaths(folder), built: true, ...(reason !== undefined ? { reason } : {}) };
}

function bundlePaths(folder: string): TrainingBundlePaths {
  return { entrypoint: join(folder, TRAINING_BUNDLE.entrypoint), worker: join(folder, TRAINING_BUNDLE.worker) };
}

/** The first reason the kept bundle cannot be used: one of its own files missing, or an input changed or missing. */
function staleness(cacheDir: string, pointer: z.infer<typeof PointerSchema>): string | undefined {
  const missing = Object.values(bundlePaths(join(cacheDir, pointer.dir))).find((file) => !existsSync(file));
  return missing !== undefined ? `${missing} is missing` : changedInput(REPO_ROOT, pointer.inputs);
}
