/**
 * Bundles the SageMaker training entrypoint and its worker thread into two self-contained ES modules
 * (`sagemaker-entrypoint.mjs`, `hybrid-worker.mjs`; the wasm kernel is inlined as base64 in the
 * source). The training image runs the bundle with plain `node`: no tsx, no node_modules, no CDK.
 *
 * Run by the Dockerfile's build stage (`node --import tsx lib/infra/training-bundle.ts <outdir>`) and
 * by the test that runs a training job with the bundle (test/infra/training-image.test.ts).
 */
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, type Metafile } from 'esbuild';

/** Repository root. Not imported from the CDK code: the image's build stage has no lib/infra but this file. */
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The bundle's files, relative to its output directory. */
export const TRAINING_BUNDLE = { entrypoint: 'sagemaker-entrypoint.mjs', worker: 'hybrid-worker.mjs' } as const;

/**
 * Writes the training bundle into `outdir`; returns the absolute paths of its two modules and the
 * repository files it was built from (relative paths, for checking the Docker build context).
 */
export async function bundleTrainingEntrypoint(outdir: string): Promise<{ entrypoint: string; worker: string; inputs: readonly string[] }> {
  const result = await build({
    metafile: true,
    absWorkingDir: REPO_ROOT,
    entryPoints: {
      'sagemaker-entrypoint': 'lib/train/sagemaker-entrypoint.ts',
      // train-hybrid.ts starts `./hybrid-worker.mjs` beside itself when it runs bundled.
      'hybrid-worker': 'lib/train/hybrid-worker.ts',
    },
    outdir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    sourcemap: true,
    sourcesContent: false,
    logLevel: 'warning',
    // Some dependencies are CommonJS and call require(); ESM output needs one.
    banner: {
      js: "import { createRequire as __shelvesCreateRequire } from 'node:module'; const require = __shelvesCreateRequire(import.meta.url);",
    },
  });
  return {
    entrypoint: join(outdir, TRAINING_BUNDLE.entrypoint),
    worker: join(outdir, TRAINING_BUNDLE.worker),
    inputs: Object.keys((result.metafile as Metafile).inputs).sort(),
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const outdir = process.argv[2];
  if (outdir === undefined) throw new Error('usage: node --import tsx lib/infra/training-bundle.ts <outdir>');
  const { entrypoint } = await bundleTrainingEntrypoint(outdir);
  process.stdout.write(`training bundle: ${entrypoint}\n`);
}
