/**
 * The synthesized stack template, kept between runs of the local runtime. Importing aws-cdk-lib and
 * synthesizing the stack (which also fingerprints and stages the training image's build context) is
 * several CPU-seconds of every `npm start`, for a template that changes only when its inputs do. The
 * key is a hash of every input synthesis reads: the sources under lib/ and lambdas/, the manifests
 * (package.json, package-lock.json: the CDK version), tsconfig.json, the Dockerfile and .dockerignore
 * (the image asset's fingerprint), and the CDK_* environment (CDK_CONTEXT_JSON and friends). Same
 * inputs, same template: CDK's synthesis is deterministic, so a kept template is byte for byte the one
 * a fresh synthesis gives (test/local/template-cache.test.ts compares them).
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { keepFile, keptBuildDir } from './kept-build.mjs';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Folders whose every file is an input of synthesis. */
const SOURCE_DIRS = ['lib', 'lambdas'] as const;
/** Files at the checkout's root that synthesis reads (directly, or as the image asset's fingerprint). */
const ROOT_FILES = ['package.json', 'package-lock.json', 'tsconfig.json', 'Dockerfile', '.dockerignore'] as const;
/** Kept templates besides the one just written are deleted past this many, oldest first (each edit of a source is a new key). */
const KEEP_OTHER_TEMPLATES = 3;

/** Where kept templates go by default (node_modules/.cache/home-shelves/template-<checkout>, a kept build: ./kept-build.mjs). */
export const DEFAULT_TEMPLATE_CACHE_DIR = keptBuildDir('template');

function filesUnder(dir: string): string[] {
  let entries: import('node:fs').Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(path));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

/** The hash of every input of synthesis under `root` (paths and contents) and of the CDK_* environment. */
export function templateCacheKey(root: string = REPO_ROOT, env: NodeJS.ProcessEnv = process.env): string {
  const hash = createHash('sha256');
  const files = [...SOURCE_DIRS.flatMap((d) => filesUnder(join(root, d))), ...ROOT_FILES.map((f) => join(root, f))];
  for (const file of files.map((f) => relative(root, f).split(sep).join('/')).sort()) {
    let content: Buffer;
    try {
      content = readFileSync(join(root, file));
    } catch {
      // A root file the checkout lacks (no .dockerignore) is an input too: its absence.
      hash.update(`${file}\0absent\0`);
      continue;
    }
    hash.update(`${file}\0${content.length}\0`);
    hash.update(content);
  }
  for (const name of Object.keys(env)
    .filter((n) => n.startsWith('CDK_'))
    .sort())
    hash.update(`env\0${name}\0${env[name]}\0`);
  return hash.digest('hex').slice(0, 32);
}

/** The template kept under `key`, or undefined (none, or unreadable: synthesize again). */
export function readCachedTemplate<T>(key: string, dir: string = DEFAULT_TEMPLATE_CACHE_DIR): T | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, `${key}.json`), 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** Keeps `template` under `key`, written atomically (a reader never sees half a file), and the newest few others. */
export function writeCachedTemplate(key: string, template: unknown, dir: string = DEFAULT_TEMPLATE_CACHE_DIR): void {
  try {
    keepFile(dir, `${key}.json`, JSON.stringify(template), { isEntry: (name) => name.endsWith('.json'), keepNewest: KEEP_OTHER_TEMPLATES });
  } catch {
    // A cache that cannot be written (read-only checkout) costs the next run a synthesis, nothing else.
  }
}
