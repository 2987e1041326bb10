/** Types of cli-bundle.mjs (plain JavaScript: bin/shelves.mjs loads it before any TypeScript loader). */

/** What to bundle and where. */
export interface BundleSpec {
  /** Directory esbuild resolves the entry points from. */
  readonly root: string;
  /** Directory holding the manifest and the builds. */
  readonly outDir: string;
  /** Output name -> source file, relative to root. */
  readonly entryPoints: Readonly<Record<string, string>>;
  /** Output name of the module to run. */
  readonly entry: string;
}

export interface Manifest {
  readonly format: number;
  /** Build directory, relative to outDir. */
  readonly dir: string;
  readonly entryPoints: Readonly<Record<string, string>>;
  /** Every file the build read, relative to root: [mtimeMs (-1: changed during the build), size]. */
  readonly inputs: Readonly<Record<string, readonly [number, number]>>;
}

export declare const BUNDLED_COMMANDS: readonly string[];
export declare const BYOD_BUNDLE: BundleSpec;
export declare function bundledCli(command: string | undefined, setting: string | undefined): string | undefined;
export declare function freshBundle(spec: BundleSpec): string | undefined;
export declare function readManifest(outDir: string): Manifest | undefined;
