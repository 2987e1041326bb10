/**
 * The transform version: a hash of the transforms' own source text. Any change to a transform's code
 * or constants changes it, so a model trained under one version is never silently served features
 * of another.
 *
 * Why a pinned literal rather than hashing `fn.toString()` at start-up: the text a function prints is
 * the transpiler's output, not ours, and it differs between tsx (training, CLI), vitest and the
 * minified esbuild bundle of the serving Lambda; four runtimes gave four versions for the same code.
 * So the version is the hash of the source files themselves (TRANSFORM_SOURCES), computed by
 * versionOf and pinned here; test/core/transforms/version.test.ts recomputes it from the files and
 * fails, printing the new value, whenever a transform changes without this line being updated.
 */

/** A 64-bit FNV-1a style hash (two 32-bit lanes) of the definitions, as 16 hex digits. Strings are hashed as is, functions by their source text, anything else as JSON. */
export function versionOf(definitions: readonly unknown[]): string {
  const text = definitions
    .map((d) => (typeof d === 'string' ? d.replace(/\r\n/g, '\n') : typeof d === 'function' ? d.toString() : JSON.stringify(d)))
    .join('\u0000');
  let h1 = 0x811c9dc5;
  let h2 = 0xcbf29ce4;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x01000193) ^ (h1 >>> 7);
  }
  return (h1 >>> 0).toString(16).padStart(8, '0') + (h2 >>> 0).toString(16).padStart(8, '0');
}

/** The files (relative to this folder) whose source text defines the transforms, in hashing order. */
export const TRANSFORM_SOURCES: readonly string[] = ['constants.ts', 'entities.ts', 'interactions.ts', 'shortcuts.ts'];

/** versionOf(the text of each TRANSFORM_SOURCES file); kept equal to the files by version.test.ts. */
export const TRANSFORM_VERSION = '38ee16284a42a892';
