/**
 * The training container's bundle (lib/infra/training-bundle.ts: the esbuild bundle the Dockerfile
 * builds), built once and kept for the local SageMaker runner. A job then starts the very program
 * the image runs, on plain `node`, instead of compiling the entrypoint's TypeScript through tsx in
 * every job (about a second of loader work each).
 *
 * The bundle is rebuilt when any file esbuild read for it (its metafile's inputs: our sources and
 * the node_modules files bundled) is newer than the bundle, or gone. Builds go to a fresh folder,
 * and a pointer file (`current.json`) is swapped in by rename, so concurrent processes (test forks)
 * never see a half-written bundle; a job keeps the folder it started with.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { bundleTrainingEntrypoint, TRAINING_BUNDLE } from '../infra/training-bundle.ts';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/**
 * Where the bundle is kept by default: a tool cache in node_modules (ignored by git, survives `rm -rf
 * .shelves`), one per checkout (a node_modules shared by symlink must not mix two checkouts' bundles).
 */
export const DEFAULT_BUNDLE_CACHE_DIR = join(
  REPO_ROOT,
  'node_modules',
  '.cache',
  'home-shelves',
  `training-bundle-${createHash('sha256').update(REPO_ROOT).digest('hex').slice(0, 12)}`,
);
/**
 * Builds older than this, other than the current one, are deleted. A day: a job started from an
 * older build may still be running and load its worker module later.
 */
const STALE_BUILD_MS = 24 * 3_600_000;

const PointerSchema = z.object({
  /** Folder name of the build, inside the cache folder. */
  dir: z.string().regex(/^build-[\w-]+$/),
  /** When the build started (epoch ms): an input modified after it makes the bundle stale. */
  startedAt: z.number(),
  /** The repository-relative files the bundle was built from (esbuild's metafile inputs). */
  inputs: z.array(z.string()).min(1),
});

/** The bundle's two modules, absolute paths. */
export interface TrainingBundlePaths {
  readonly entrypoint: string;
  readonly worker: string;
}

/** What cachedTrainingBundle did: reused the kept bundle, or built it (and why). */
export interface TrainingBundleStatus extends TrainingBundlePaths {
  readonly built: boolean;
  /** Why it was built: `absent`, or the first input found newer or missing. */
  readonly reason?: string;
}

/** The training bundle, rebuilt when stale; `cacheDir` defaults to DEFAULT_BUNDLE_CACHE_DIR. */
export async function cachedTrainingBundle(cacheDir: string = DEFAULT_BUNDLE_CACHE_DIR): Promise<TrainingBundleStatus> {
  const pointerFile = join(cacheDir, 'current.json');
  const current = await readPointer(pointerFile);
  const reason = current === undefined ? 'absent' : await staleInput(cacheDir, current);
  if (current !== undefined && reason === undefined) return { ...bundlePaths(cacheDir, current.dir), built: false };

  await mkdir(cacheDir, { recursive: true });
  const startedAt = Date.now();
  const dir = `build-${startedAt}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  try {
    const { inputs } = await bundleTrainingEntrypoint(join(cacheDir, dir));
    const next: z.infer<typeof PointerSchema> = { dir, startedAt, inputs: [...inputs] };
    const temporary = `${pointerFile}.${process.pid}.${dir}.tmp`;
    await writeFile(temporary, JSON.stringify(next));
    await rename(temporary, pointerFile);
  } catch (error) {
    await rm(join(cacheDir, dir), { recursive: true, force: true });
    throw error;
  }
  await removeOldBuilds(cacheDir, dir, startedAt);
  return { ...bundlePaths(cacheDir, dir), built: true, ...(reason !== undefined ? { reason } : {}) };
}

function bundlePaths(cacheDir: string, dir: string): TrainingBundlePaths {
  return { entrypoint: join(cacheDir, dir, TRAINING_BUNDLE.entrypoint), worker: join(cacheDir, dir, TRAINING_BUNDLE.worker) };
}

async function readPointer(file: string): Promise<z.infer<typeof PointerSchema> | undefined> {
  try {
    const parsed = PointerSchema.safeParse(JSON.parse(await readFile(file, 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    // No pointer yet, or one cut short by a crash: build.
    return undefined;
  }
}

/** The first reason the kept bundle cannot be used: one of its own files or an input missing, or an input modified since the build started. */
async function staleInput(cacheDir: string, pointer: z.infer<typeof PointerSchema>): Promise<string | undefined> {
  const own = Object.values(bundlePaths(cacheDir, pointer.dir));
  const inputs = pointer.inputs.map((file) => join(REPO_ROOT, file));
  // The bundle's recipe is an input too: a change of esbuild options rebuilds it.
  inputs.push(fileURLToPath(new URL('../infra/training-bundle.ts', import.meta.url)));
  const checks = await Promise.all(
    [...own, ...inputs].map(async (file) => {
      try {
        return (await stat(file)).mtimeMs;
      } catch {
        return undefined;
      }
    }),
  );
  for (let i = 0; i < checks.length; i++) {
    const mtime = checks[i];
    const file = i < own.length ? (own[i] as string) : (inputs[i - own.length] as string);
    if (mtime === undefined) return `${file} is missing`;
    if (i >= own.length && mtime >= pointer.startedAt) return `${file} changed since the bundle was built`;
  }
  return undefined;
}

async function removeOldBuilds(cacheDir: string, keep: string, now: number): Promise<void> {
  for (const entry of await readdir(cacheDir, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name === keep || !entry.name.startsWith('build-')) continue;
    const started = Number(entry.name.split('-')[1]);
    if (Number.isFinite(started) && now - started > STALE_BUILD_MS) await rm(join(cacheDir, entry.name), { recursive: true, force: true });
  }
}
