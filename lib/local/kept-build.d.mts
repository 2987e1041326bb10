/** Types of kept-build.mjs (plain JavaScript: lib/cli-bundle/cli-bundle.mjs loads it before any TypeScript loader). */

/** Which entries of a folder pruneKept may remove. */
export interface PruneOptions {
  /** Which names of the folder are kept builds (others are never touched). */
  readonly isEntry: (name: string) => boolean;
  /** Entries kept in any case, newest (mtime) first; default 0. */
  readonly keepNewest?: number;
  /** Entries younger than this (mtime) are kept; default 0. */
  readonly minAgeMs?: number;
}

/** A build's record as read back from its pointer: what `make` returned, and `dir`, the build's folder name. */
export type PointerRecord = Readonly<Record<string, unknown>> & { readonly dir: string };

export declare const KEPT_BUILDS_ROOT: string;
export declare function keptBuildDir(name: string): string;
/** Input path (relative to the build's root) -> [mtimeMs (-1: changed during the build), size]. */
export type InputStamps = Readonly<Record<string, readonly [number, number]>>;
export declare function stampInputs(root: string, paths: Iterable<string>, startedAt: number): Record<string, [number, number]>;
export declare function changedInput(root: string, stamps: InputStamps): string | undefined;
export declare function writeFileAtomic(file: string, data: string | Uint8Array): void;
export declare function pruneKept(dir: string, keep: readonly string[], options: PruneOptions): void;
export declare function keepFile(dir: string, name: string, data: string | Uint8Array, prune: PruneOptions): string;
export declare function readPointer(dir: string): PointerRecord | undefined;
export declare function keepBuild<R extends object>(
  dir: string,
  make: (folder: string) => Promise<R>,
  options: { readonly keepSupersededMs: number },
): Promise<string>;
export declare function keepBuild<R extends object>(
  dir: string,
  make: (folder: string) => R,
  options: { readonly keepSupersededMs: number },
): string;
