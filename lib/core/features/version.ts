/**
 * The transform version: a hash of the transforms' own definitions. Any change to a transform's code
 * or constants changes it, so a model trained under one version is never silently served features
 * of another.
 */
import * as entities from './entities.ts';
import * as interactions from './interactions.ts';
import * as shortcuts from './shortcuts.ts';

/** A 64-bit FNV-1a hash (two 32-bit lanes) of the definitions' source text, as 16 hex digits. */
export function versionOf(definitions: readonly unknown[]): string {
  const text = definitions.map((d) => (typeof d === 'function' ? d.toString() : JSON.stringify(d))).join('\u0000');
  let h1 = 0x811c9dc5;
  let h2 = 0xcbf29ce4;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x01000193) ^ (h1 >>> 7);
  }
  return (h1 >>> 0).toString(16).padStart(8, '0') + (h2 >>> 0).toString(16).padStart(8, '0');
}

/** Every definition the version covers, in a fixed order (module exports sorted by name). */
export const TRANSFORM_DEFINITIONS: readonly unknown[] = [entities, interactions, shortcuts].flatMap((mod) =>
  Object.keys(mod)
    .sort()
    .map((name) => (mod as Record<string, unknown>)[name]),
);

export const TRANSFORM_VERSION: string = versionOf(TRANSFORM_DEFINITIONS);
