/**
 * Users split across worker threads: contiguous index ranges, one worker each, asked for a day at a
 * time (the writing thread asks for day d+1 before it writes day d, so simulation and writing overlap).
 * Users never depend on each other and every worker rebuilds the same catalog from the seed, so the
 * merged days are the bytes one thread writes, whatever the number of workers.
 */
import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from '../io/module-worker.ts';
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

  /** `count` workers over users [0, init.users), in contiguous ranges. */
  constructor(count: number, init: Omit<ShardInit, 'from' | 'to'>) {
    this.shards = Array.from({ length: count }, (_, k) => {
      const from = Math.floor((init.users * k) / count);
      const to = Math.floor((init.users * (k + 1)) / count);
      const workerData: ShardInit = { ...init, from, to };
      const worker = startModuleWorker(import.meta.url, 'shard-worker', { workerData });
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
