/**
 * A prebuilt bundle of the bring-your-own-data commands (`shelves train`, `shelves recommend`), so
 * they start in about bare Node's time instead of registering tsx and compiling ~50 TypeScript
 * modules on every run (~1 s of a 6 s `shelves train` on 1M rows).
 *
 * Plain JavaScript: bin/shelves.mjs imports it before any TypeScript loader exists.
 *
 * - Built on demand, no extra command: the first run that finds no bundle, or a stale one, builds it
 *   with esbuild (well under a second) and runs it; a clone needs only `npm ci`.
 * - Never stale: the manifest lists every file esbuild read (its metafile's inputs, this file
 *   included) with its modification time and size; a run uses the bundle only when every one of
 *   them is unchanged (one stat each), else it builds a new one. A file changed while a build runs is
 *   recorded as changed, so the next run builds again.
 * - Concurrent runs never see a half-written bundle: each build writes its own directory, then the
 *   manifest is replaced in one rename (lib/local/kept-build.mjs, shared with the other kept builds).
 *   Builds superseded over an hour ago are removed (a run that started from one may still be loading
 *   its chunks or its worker).
 * - Where it lives: `.cli-bundle/` at the repository root (git-ignored), or the directory
 *   $SHELVES_CLI_BUNDLE names (under the repository: the bundle's package imports resolve from its
 *   node_modules); SHELVES_CLI_BUNDLE=0 turns it off (the commands run from source
 *   through tsx, as every other command does). When a bundle cannot be built (esbuild missing, a
 *   read-only checkout, a source that does not compile), the command runs from source and reports
 *   what tsx reports.
 */
import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { changedInput, keepBuild, readPointer, stampInputs } from '../local/kept-build.mjs';

/** The commands the bundle holds. */
export const BUNDLED_COMMANDS = ['train', 'recommend'];

/** Bumped when the build's options change in a way its inputs do not show. */
const FORMAT = 1;
/** Superseded builds younger than this are kept: a run started from one may still load its chunks or worker. */
const KEEP_SUPERSEDED_MS = 60 * 60 * 1000;

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * @typedef {object} BundleSpec
 * @property {string} root directory esbuild resolves the entry points from
 * @property {string} outDir directory holding the manifest and the builds
 * @property {Record<string, string>} entryPoints output name -> source (relative to root)
 * @property {string} entry output name of the module to run
 */

/** @type {BundleSpec} */
export const BYOD_BUNDLE = {
  root: REPO_ROOT,
  outDir: join(REPO_ROOT, '.cli-bundle'),
  entryPoints: {
    'byod-cli': 'lib/cli-bundle/byod-cli.ts',
    // train-hybrid.ts starts `./hybrid-worker.mjs` beside its own (bundled) module for --threads > 1.
    'hybrid-worker': 'lib/train/hybrid-worker.ts',
  },
  entry: 'byod-cli',
};

/**
 * The file URL of the bundled CLI to run `command` with, building the bundle when missing or stale;
 * undefined when the command is not bundled, the bundle is turned off, or it cannot be built.
 * @param {string | undefined} command
 * @param {string | undefined} setting $SHELVES_CLI_BUNDLE
 * @returns {string | undefined}
 */
export function bundledCli(command, setting) {
  if (command === undefined || !BUNDLED_COMMANDS.includes(command) || setting === '0') return undefined;
  const spec = setting === undefined || setting === '' ? BYOD_BUNDLE : { ...BYOD_BUNDLE, outDir: resolve(setting) };
  return freshBundle(spec);
}

/**
 * The entry URL of an up-to-date bundle of `spec`: the current one when none of its inputs changed,
 * else a new build; undefined when a build fails.
 * @param {BundleSpec} spec
 * @returns {string | undefined}
 */
export function freshBundle(spec) {
  const manifest = readManifest(spec.outDir);
  if (manifest !== undefined && isFresh(manifest, spec)) return pathToFileURL(join(spec.outDir, manifest.dir, `${spec.entry}.mjs`)).href;
  try {
    return buildBundle(spec);
  } catch {
    return undefined;
  }
}

/**
 * @typedef {object} Manifest
 * @property {number} format
 * @property {string} dir build directory, relative to outDir
 * @property {Record<string, string>} entryPoints
 * @property {Record<string, [number, number]>} inputs path relative to root -> [mtimeMs, size]
 */

/**
 * The current build's manifest (lib/local/kept-build.mjs's pointer record).
 * @param {string} outDir
 * @returns {Manifest | undefined}
 */
export function readManifest(outDir) {
  return /** @type {Manifest | undefined} */ (readPointer(outDir));
}

/**
 * @param {Manifest} manifest
 * @param {BundleSpec} spec
 */
function isFresh(manifest, spec) {
  if (manifest.format !== FORMAT || JSON.stringify(manifest.entryPoints) !== JSON.stringify(spec.entryPoints)) return false;
  if (statSync(join(spec.outDir, manifest.dir, `${spec.entry}.mjs`), { throwIfNoEntry: false }) === undefined) return false;
  return changedInput(spec.root, manifest.inputs) === undefined;
}

/**
 * Builds into a new directory of outDir, then points the manifest at it.
 * @param {BundleSpec} spec
 * @returns {string} the entry's file URL
 */
function buildBundle(spec) {
  const started = Date.now();
  // esbuild's synchronous API (a CommonJS package): this command must not turn asynchronous before it runs.
  const esbuild = createRequire(import.meta.url)('esbuild');
  const dir = keepBuild(
    spec.outDir,
    (outdir) => {
      const result = esbuild.buildSync({
        absWorkingDir: spec.root,
        entryPoints: spec.entryPoints,
        outdir,
        outExtension: { '.js': '.mjs' },
        bundle: true,
        splitting: true,
        platform: 'node',
        format: 'esm',
        target: 'node20',
        // Packages stay imports, resolved from node_modules at run time as from source.
        packages: 'external',
        sourcemap: 'linked',
        sourcesContent: false,
        metafile: true,
        logLevel: 'silent',
      });
      const self = relative(spec.root, fileURLToPath(import.meta.url));
      const inputs = stampInputs(spec.root, [...Object.keys(result.metafile.inputs), self], started);
      return { format: FORMAT, entryPoints: spec.entryPoints, inputs };
    },
    { keepSupersededMs: KEEP_SUPERSEDED_MS },
  );
  return pathToFileURL(join(dir, `${spec.entry}.mjs`)).href;
}
