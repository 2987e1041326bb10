/**
 * Kept builds: artifacts built from the checkout's sources (esbuild bundles, the synthesized template)
 * and kept between runs, safe under concurrent processes. One module for the four caches (the training
 * bundle, the `shelves train`/`recommend` bundle, the simulator's shard worker, the stack template);
 * each decides when its artifact is stale, this module how it is stored.
 *
 * - A file is written to a temporary name of its own and renamed into place: a reader sees the old
 *   file or the new one, never half of one; two writers each rename a whole file, the last one stays.
 * - A build of several files goes to a fresh `build-*` folder; the pointer file `current.json` names
 *   it, swapped in by rename after the build ends. A process keeps using the folder it read, so a
 *   superseded build is dated when it is replaced and removed only a grace period later.
 * - Old entries are pruned after each write: beyond the newest few, and older than an age.
 *
 * Plain JavaScript (types in kept-build.d.mts): bin/shelves.mjs loads lib/cli-bundle/cli-bundle.mjs,
 * which uses this module, before any TypeScript loader exists.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Where kept builds live by default: a tool cache in node_modules (ignored by git, survives `rm -rf .shelves`). */
export const KEPT_BUILDS_ROOT = join(REPO_ROOT, 'node_modules', '.cache', 'home-shelves');

/** The pointer file of a folder of builds. */
const POINTER = 'current.json';
const BUILD_PREFIX = 'build-';
/** Inputs modified this close to (or after) a build's start are recorded as changed (coarse file clocks). */
const CLOCK_SLACK_MS = 1000;

/**
 * The folder of one kind of kept build, one per checkout (a node_modules shared by symlink must not
 * mix two checkouts' builds): `node_modules/.cache/home-shelves/<name>-<hash of the checkout's path>`.
 * @param {string} name
 * @returns {string}
 */
export function keptBuildDir(name) {
  return join(KEPT_BUILDS_ROOT, `${name}-${createHash('sha256').update(REPO_ROOT).digest('hex').slice(0, 12)}`);
}

/**
 * Writes `data` to `file` through a temporary file of this process renamed into place.
 * @param {string} file
 * @param {string | Uint8Array} data
 */
export function writeFileAtomic(file, data) {
  const temporary = `${file}.${process.pid}.${Math.random().toString(36).slice(2, 10)}.tmp`;
  try {
    writeFileSync(temporary, data);
    renameSync(temporary, file);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}

/**
 * The modification time and size of each input of a build (paths relative to `root`), to tell later
 * whether one changed (changedInput). An input modified during the build, or too close to its start to
 * tell, is recorded as changed (mtime -1): the build may have read its older bytes.
 * @param {string} root
 * @param {Iterable<string>} paths
 * @param {number} startedAt when the build started (epoch ms)
 * @returns {Record<string, [number, number]>}
 */
export function stampInputs(root, paths, startedAt) {
  const stamps = /** @type {Record<string, [number, number]>} */ ({});
  for (const path of paths) {
    const s = statSync(join(root, path));
    stamps[path] = [s.mtimeMs >= startedAt - CLOCK_SLACK_MS ? -1 : s.mtimeMs, s.size];
  }
  return stamps;
}

/**
 * Why a build from `stamps` is stale: the first input missing, or whose modification time or size
 * differs from its stamp (one stat each); undefined when none changed.
 * @param {string} root
 * @param {Readonly<Record<string, readonly [number, number]>>} stamps
 * @returns {string | undefined}
 */
export function changedInput(root, stamps) {
  for (const [path, [mtimeMs, size]] of Object.entries(stamps)) {
    const now = statSync(join(root, path), { throwIfNoEntry: false });
    if (now === undefined) return `${path} is missing`;
    if (now.mtimeMs !== mtimeMs || now.size !== size) return `${path} changed since the build`;
  }
  return undefined;
}

/**
 * @typedef {object} PruneOptions
 * @property {(name: string) => boolean} isEntry which names of the folder are kept builds
 * @property {number} [keepNewest] entries besides `keep` kept in any case, newest (mtime) first; default 0
 * @property {number} [minAgeMs] entries younger than this (mtime) are kept; default 0
 */

/**
 * Removes the entries of `dir` (files or folders) that are not in `keep`, not among the newest
 * `keepNewest` others, and older than `minAgeMs`. An entry another process removes first is skipped.
 * @param {string} dir
 * @param {readonly string[]} keep
 * @param {PruneOptions} options
 */
export function pruneKept(dir, keep, { isEntry, keepNewest = 0, minAgeMs = 0 }) {
  const now = Date.now();
  const others = [];
  for (const name of readdirSync(dir)) {
    if (keep.includes(name) || !isEntry(name)) continue;
    const s = statSync(join(dir, name), { throwIfNoEntry: false });
    if (s !== undefined) others.push({ name, mtimeMs: s.mtimeMs });
  }
  others.sort((a, b) => b.mtimeMs - a.mtimeMs);
  for (const { name, mtimeMs } of others.slice(keepNewest))
    if (now - mtimeMs >= minAgeMs) rmSync(join(dir, name), { recursive: true, force: true });
}

/**
 * Keeps `data` as `dir/name` (written atomically), then prunes the folder's other entries.
 * @param {string} dir
 * @param {string} name
 * @param {string | Uint8Array} data
 * @param {PruneOptions} prune
 * @returns {string} the file's path
 */
export function keepFile(dir, name, data, prune) {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, name);
  writeFileAtomic(file, data);
  pruneKept(dir, [name], prune);
  return file;
}

/**
 * The record of the current build of `dir` (with `dir`, its folder's name), or undefined when there is
 * none or it cannot be read (a pointer cut short by a crash, or naming no build folder): build.
 * @param {string} dir
 * @returns {(Record<string, unknown> & { dir: string }) | undefined}
 */
export function readPointer(dir) {
  try {
    const pointer = JSON.parse(readFileSync(join(dir, POINTER), 'utf8'));
    return typeof pointer?.dir === 'string' && /^build-[\w-]+$/.test(pointer.dir) ? pointer : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Builds into a fresh folder of `dir` with `make(folder)` (synchronous, or a promise), which returns
 * the build's record; then dates the build being replaced, points `current.json` at the new one (with
 * the record) and removes builds superseded more than `keepSupersededMs` ago. A failed build's folder
 * is removed and the error rethrown; the pointer is left as it was.
 * @template R
 * @param {string} dir
 * @param {(folder: string) => R | Promise<R>} make
 * @param {{ keepSupersededMs: number }} options
 * @returns {string | Promise<string>} the new build's folder
 */
export function keepBuild(dir, make, { keepSupersededMs }) {
  mkdirSync(dir, { recursive: true });
  const folder = mkdtempSync(join(dir, BUILD_PREFIX));
  /** @param {unknown} error */
  const abandon = (error) => {
    rmSync(folder, { recursive: true, force: true });
    throw error;
  };
  /** @param {R} record */
  const commit = (record) => {
    // The build being replaced is dated now: its grace period counts from here, not from its build.
    const previous = readPointer(dir);
    if (previous !== undefined) {
      const now = new Date();
      try {
        utimesSync(join(dir, previous.dir), now, now);
      } catch {
        // Already removed.
      }
    }
    writeFileAtomic(join(dir, POINTER), JSON.stringify({ ...record, dir: basename(folder) }));
    pruneKept(dir, [basename(folder)], { isEntry: (name) => name.startsWith(BUILD_PREFIX), minAgeMs: keepSupersededMs });
    return folder;
  };
  let made;
  try {
    made = make(folder);
  } catch (error) {
    abandon(error);
  }
  return made instanceof Promise ? made.then(commit, abandon) : commit(/** @type {R} */ (made));
}
