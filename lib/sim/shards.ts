/**
 * Users split across worker threads: contiguous index ranges, one worker each. A worker sends its
 * users' lines once, then is asked for a day at a time (the writing thread asks for day d+1 before it
 * writes day d, so simulation and writing overlap) and answers with the day's event lines already
 * encoded: the writing thread only merges them by time and copies bytes, so the workers, not it, hold
 * the CPU. Users never depend on each other and every worker rebuilds the same catalog from the seed,
 * so the merged days are the bytes one thread writes, whatever the number of workers.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { startModuleWorker } from '../io/module-worker.ts';
import type { EncodedDay } from './day-events.ts';
import type { ShardInit, ShardReply } from './shard-worker.ts';

export class ShardWorkerError extends Error {
  constructor(shard: number, detail: string) {
    super(`world shard worker ${shard} failed: ${detail}`);
    this.name = 'ShardWorkerError';
  }
}

type UsersReply = Extract<ShardReply, { kind: 'users' }>;
type DayReply = Extract<ShardReply, { kind: 'day' }>;

/** Replies of one kind not yet taken, and takers waiting for replies, in order. */
class Inbox<T> {
  private readonly replies: T[] = [];
  private readonly waiting: { resolve: (r: T) => void; reject: (e: Error) => void }[] = [];
  failure: Error | undefined;

  put(reply: T): void {
    const taker = this.waiting.shift();
    if (taker) taker.resolve(reply);
    else this.replies.push(reply);
  }
  fail(error: Error): void {
    this.failure ??= error;
    for (const w of this.waiting.splice(0)) w.reject(this.failure);
  }
  take(): Promise<T> {
    const reply = this.replies.shift();
    if (reply !== undefined) return Promise.resolve(reply);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<T>((resolve, reject) => this.waiting.push({ resolve, reject }));
  }
}

interface Shard {
  readonly worker: Worker;
  readonly users: Inbox<UsersReply>;
  readonly days: Inbox<DayReply>;
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
      const options = { workerData };
      const worker = entry !== undefined ? new Worker(entry, options) : startModuleWorker(import.meta.url, 'shard-worker', options);
      const shard: Shard = { worker, users: new Inbox(), days: new Inbox() };
      const fail = (error: Error): void => {
        shard.users.fail(error);
        shard.days.fail(error);
      };
      worker.on('message', (reply: ShardReply) => {
        if (!reply.ok) fail(new ShardWorkerError(k, reply.message));
        else if (reply.kind === 'users') shard.users.put(reply);
        else shard.days.put(reply);
      });
      worker.on('error', (e) => fail(new ShardWorkerError(k, e.stack ?? e.message)));
      worker.on('exit', (code) => fail(new ShardWorkerError(k, `exited with code ${code} (expected to run until the pool closes)`)));
      return shard;
    });
  }

  /** Every shard's users' lines and truth lines, in user order, chunk by chunk. */
  async *users(): AsyncGenerator<{ users: Uint8Array; truth: Uint8Array }> {
    for (const s of this.shards) {
      for (;;) {
        const chunk = await s.users.take();
        yield chunk;
        if (chunk.last) break;
      }
    }
  }

  /** Asks every worker for `day` (days in order). */
  request(day: number): void {
    for (const s of this.shards) s.worker.postMessage({ day });
  }

  /**
   * Gives each shard's day buffers back once written, for its next day but one: reused buffers spare
   * the allocation of ~100 MB a day per worker at 1M users, and the full collections that external
   * memory of that size triggers.
   */
  recycle(days: readonly EncodedDay[]): void {
    days.forEach((d, k) => {
      const buffers = [d.bytes.buffer, d.ends.buffer, d.time.buffer] as ArrayBuffer[];
      (this.shards[k] as Shard).worker.postMessage({ recycle: buffers }, buffers);
    });
  }

  /** Every shard's event lines of the next requested day, in shard order. */
  async take(day: number): Promise<EncodedDay[]> {
    return Promise.all(
      this.shards.map(async (s, k) => {
        const reply = await s.days.take();
        if (reply.day !== day) throw new ShardWorkerError(k, `answered day ${reply.day}, expected day ${day}`);
        return reply.lines;
      }),
    );
  }

  async close(): Promise<void> {
    for (const s of this.shards) {
      s.users.failure ??= new ShardWorkerError(-1, 'pool closed');
      s.days.failure ??= new ShardWorkerError(-1, 'pool closed');
    }
    await Promise.all(this.shards.map((s) => s.worker.terminate()));
  }
}

/**
 * From source, the shard worker bundled by esbuild into one ES module file: a worker that starts
 * through tsx spends ~1 s of CPU (and a loader thread) compiling its modules, a bundle ~0.1 s. The
 * file sits in node_modules/.cache (so that its one package import, zod, resolves), named by its
 * content's hash: concurrent runs write the same bytes, renamed into place. Undefined when running
 * bundled already (the `.mjs` beside this module is the entry) or when esbuild is missing (a
 * production install): the caller then starts the module itself.
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
  const dir = fileURLToPath(new URL('../../node_modules/.cache/shelves-sim/', import.meta.url));
  const file = join(dir, `shard-worker-${createHash('sha256').update(code).digest('hex').slice(0, 16)}.mjs`);
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    const partial = `${file}.${process.pid}.tmp`;
    writeFileSync(partial, code);
    renameSync(partial, file);
  }
  return pathToFileURL(file);
}
