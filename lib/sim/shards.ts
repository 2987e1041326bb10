/**
 * Users split across worker threads: contiguous index ranges, one worker each, asked for a day at a
 * time (the writing thread asks for day d+1 before it writes day d, so simulation and writing overlap).
 * Users never depend on each other and every worker rebuilds the same catalog from the seed, so the
 * merged days are the bytes one thread writes, whatever the number of workers.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { startModuleWorker } from '../io/module-worker.ts';
import { keepFile, keptBuildDir } from '../local/kept-build.mjs';
import type { DayColumns } from './day-events.ts';
import type { ShardInit, ShardReply } from './shard-worker.ts';

export class ShardWorkerError extends Error {
  constructor(shard: number, detail: string) {
    super(`world shard worker ${shard} failed: ${detail}`);
    this.name = 'ShardWorkerError';
  }
}

interface Shard {
  readonly worker: Worker;
  /** Replies not yet taken, and takers waiting for replies, in day order. */
  readonly replies: ShardReply[];
  readonly waiting: { resolve: (r: ShardReply) => void; reject: (e: Error) => void }[];
  failure: Error | undefined;
}

export class ShardPool {
  private readonly shards: Shard[];

  /**
   * `count` workers over users [0, init.users), in contiguous ranges. `entry`: the worker's module as
   * one bundled ES module (shardWorkerBundle); else the module beside this one (through tsx from source).
   */
  constructor(count: number, init: Omit<ShardInit, 'from' | 'to'>, entry?: URL) {
    this.shards = Array.from({ length: count }, (_, k) => {
      const from = Math.floor((init.users * k) / count);
      const to = Math.floor((init.users * (k + 1)) / count);
      const workerData: ShardInit = { ...init, from, to };
      const worker =
        entry !== undefined ? new Worker(entry, { workerData }) : startModuleWorker(import.meta.url, 'shard-worker', { workerData });
      const shard: Shard = { worker, replies: [], waiting: [], failure: undefined };
      const fail = (error: Error): void => {
        shard.failure ??= error;
        for (const w of shard.waiting.splice(0)) w.reject(shard.failure);
      };
      worker.on('message', (reply: ShardReply) => {
        if (!reply.ok) return fail(new ShardWorkerError(k, reply.message));
        const taker = shard.waiting.shift();
        if (taker) taker.resolve(reply);
        else shard.replies.push(reply);
      });
      worker.on('error', (e) => fail(new ShardWorkerError(k, e.stack ?? e.message)));
      worker.on('exit', (code) => fail(new ShardWorkerError(k, `exited with code ${code} (expected to run until the pool closes)`)));
      return shard;
    });
  }

  /** Asks every worker for `day` (days in order). */
  request(day: number): void {
    for (const s of this.shards) s.worker.postMessage({ day });
  }

  /** Every shard's events of the next requested day, in shard order. */
  async take(day: number): Promise<DayColumns[]> {
    return Promise.all(
      this.shards.map(async (s, k) => {
        if (s.failure) throw s.failure;
        const reply = s.replies.shift() ?? (await new Promise<ShardReply>((resolve, reject) => s.waiting.push({ resolve, reject })));
        if (!reply.ok) throw new ShardWorkerError(k, reply.message);
        if (reply.day !== day) throw new ShardWorkerError(k, `answered day ${reply.day}, expected day ${day}`);
        return reply.events;
      }),
    );
  }

  async close(): Promise<void> {
    for (const s of this.shards) s.failure ??= new ShardWorkerError(-1, 'pool closed');
    await Promise.all(this.shards.map((s) => s.worker.terminate()));
  }
}

/** Bundles of other versions of the shard worker kept besides the newest few, for this long (a run may be starting workers from one). */
const KEEP_OTHER_BUNDLES = { keepNewest: 3, minAgeMs: 3_600_000 } as const;

/**
 * From source, the shard worker bundled by esbuild into one ES module file: a worker that starts
 * through tsx spends ~0.5-1 s of CPU (in a loader thread of its own) compiling its modules. The
 * file is a kept build (../local/kept-build.mjs) in node_modules/.cache/home-shelves (so that its one
 * package import, zod, resolves), named by its content's hash: concurrent runs write the same bytes,
 * renamed into place. Undefined when running bundled already (the `.mjs` beside this module is the
 * entry) or when esbuild is missing (a production install): the caller then starts the module itself.
 */
export async function shardWorkerBundle(): Promise<URL | undefined> {
  if (!import.meta.url.endsWith('.ts')) return undefined;
  let esbuild: typeof import('esbuild');
  try {
    esbuild = await import('esbuild');
  } catch {
    return undefined;
  }
  const result = await esbuild.build({
    entryPoints: [fileURLToPath(new URL('./shard-worker.ts', import.meta.url))],
    bundle: true,
    write: false,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // zod (the contract's schemas, which the worker does not use) is loaded, not bundled: esbuild
    // would spend more CPU on it than on the simulator.
    external: ['zod'],
    logLevel: 'silent',
  });
  const code = result.outputFiles[0]?.contents;
  if (code === undefined) return undefined;
  const dir = keptBuildDir('sim-shard-worker');
  const name = `shard-worker-${createHash('sha256').update(code).digest('hex').slice(0, 16)}.mjs`;
  if (!existsSync(join(dir, name))) {
    try {
      keepFile(dir, name, code, { isEntry: (n) => n.startsWith('shard-worker-') && n.endsWith('.mjs'), ...KEEP_OTHER_BUNDLES });
    } catch {
      // A read-only checkout: the workers start through tsx, slower but the same.
      return undefined;
    }
  }
  return pathToFileURL(join(dir, name));
}
