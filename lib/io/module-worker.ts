/**
 * Worker threads running our own modules. Built (the training image's esbuild bundle), a worker's entry
 * is the `.mjs` bundled beside the caller. From source, the entry is TypeScript, and the worker must
 * register tsx's loader before importing it: Node 20 resolves a worker's `.ts` entry before hooks
 * registered with `--import` are active (ERR_UNKNOWN_FILE_EXTENSION).
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/** Starts the worker module `name` (no extension) that sits beside the module `callerUrl` (its import.meta.url). */
export function startModuleWorker(callerUrl: string, name: string, options: WorkerOptions): Worker {
  const fromSource = callerUrl.endsWith('.ts');
  const entry = new URL(`./${name}${fromSource ? '.ts' : '.mjs'}`, callerUrl);
  if (!fromSource) return new Worker(entry, options);
  // The ESM build of tsx's API (its CJS build cannot register ESM hooks from inside a worker).
  const tsxApi = pathToFileURL(
    createRequire(callerUrl)
      .resolve('tsx/esm/api')
      .replace(/\.cjs$/, '.mjs'),
  ).href;
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(bootstrap, { ...options, eval: true });
}
