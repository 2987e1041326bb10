/**
 * The multi-threaded hybrid trainer: Hogwild-style SGD over SharedArrayBuffer parameters.
 *
 * Each epoch the main thread shuffles the positives (seeded) and gives each worker one contiguous
 * shard of the permutation; workers update the shared parameters without locks. With the wasm kernel
 * (the default) the parameters live in one shared WebAssembly memory that every worker's kernel
 * instance uses; with the JS kernel they are SharedArrayBuffer-backed typed arrays. Validation, the
 * best-epoch snapshot and the final model are the core's (HybridSession), so only the SGD passes
 * run in parallel. With threads = 1 it is the deterministic single-threaded fit; with more threads
 * the result depends on scheduling (same quality, not the same bytes).
 */
import { availableParallelism } from 'node:os';
import { startModuleWorker } from '../io/module-worker.ts';
import { fitHybrid, HybridSession, type HybridOptions, type HybridProgress } from '../core/models/hybrid/fit.ts';
import { sharedAlloc } from '../core/models/hybrid/features.ts';
import type { HybridRecommender } from '../core/models/hybrid/model.ts';
import type { ShardResult } from '../core/models/hybrid/kernel.ts';
import type { HybridTrainingData } from '../core/models/hybrid/problem.ts';
import type { ShardTask, WorkerInit } from './hybrid-worker.ts';

/** Progress of trainHybrid: the core's, plus wall-clock figures. */
export interface TrainProgress extends HybridProgress {
  /** Milliseconds of SGD in this epoch (without validation). */
  readonly sgdMs: number;
  /** Positives per second of this epoch's SGD, all threads together. */
  readonly samplesPerSecond: number;
  readonly threads: number;
}

export interface TrainHybridOptions extends Omit<HybridOptions, 'onProgress'> {
  readonly onProgress?: (progress: TrainProgress) => void;
  /** Called once the problem is built and the parameters initialised, before the first epoch (for timing phases). */
  readonly onPrepared?: () => void;
}

/** Fits a hybrid model, on `threads` worker threads when > 1 (default 1: deterministic, in this thread). */
export async function trainHybrid(data: HybridTrainingData, options: TrainHybridOptions = {}): Promise<HybridRecommender> {
  const threads = Math.min(options.threads ?? 1, Math.max(1, availableParallelism() * 2));
  const report = (p: HybridProgress, used: number, sgd: { ms: number; samples: number }): void =>
    options.onProgress?.({ ...p, sgdMs: sgd.ms, samplesPerSecond: sgd.ms > 0 ? (sgd.samples / sgd.ms) * 1000 : 0, threads: used });

  // The validation run, then (HybridOptions.refit) the refit on all positives with its own session.
  const { onProgress: _, onPrepared, ...core } = options;
  const first = await run(data, core, threads, report, onPrepared);
  const refit = first.refitOptions(core);
  if (refit === undefined) return first.finish();
  return (await run(data, refit, threads, report)).finish(first.validationSummary());
}

/** Prepares a session and runs its epochs, in this thread (threads <= 1) or on worker threads. */
async function run(
  data: HybridTrainingData,
  options: HybridOptions,
  threads: number,
  report: (p: HybridProgress, used: number, sgd: { ms: number; samples: number }) => void,
  onPrepared?: () => void,
): Promise<HybridSession> {
  const sgd = { ms: 0, samples: 0 };
  const session = HybridSession.prepare(
    data,
    { ...options, onProgress: (p) => report(p, Math.max(1, threads), sgd) },
    threads <= 1 ? undefined : sharedAlloc,
  );
  onPrepared?.();
  if (threads <= 1) {
    // Each epoch's SGD is timed on its own, so validation is not counted.
    for (let epoch = 0; epoch < session.epochs; epoch++) {
      session.shuffle(epoch);
      const t0 = performance.now();
      const result = session.runShard(epoch, 0, 0, session.positives);
      sgd.ms = performance.now() - t0;
      sgd.samples = result.samples;
      if (session.endEpoch(epoch, [result])) break;
    }
    return session;
  }
  const arena = session.arena;
  const workers = Array.from({ length: threads }, () => {
    // With the wasm kernel each worker instantiates it over the session's shared memory, with its own slot.
    const wasm = arena === undefined ? undefined : { memory: arena.memory, slot: arena.slot(session.options.dim, session.negativeDraws) };
    const init: WorkerInit = { data: session.kernelData, params: session.params, order: session.order, ...(wasm ? { wasm } : {}) };
    return spawnWorker(init);
  });
  try {
    for (let epoch = 0; epoch < session.epochs; epoch++) {
      session.shuffle(epoch);
      const n = session.positives;
      const t0 = performance.now();
      const results = await Promise.all(
        workers.map((w, shard) => {
          const start = Math.floor((n * shard) / threads);
          const end = Math.floor((n * (shard + 1)) / threads);
          return w.run({ config: session.kernelConfig(epoch, start), start, end, seed: session.shardSeed(epoch, shard) });
        }),
      );
      sgd.ms = performance.now() - t0;
      sgd.samples = results.reduce((s, r) => s + r.samples, 0);
      if (session.endEpoch(epoch, results)) break;
    }
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
  }
  return session;
}

/** Fits a hybrid model in this thread (the pure core fit, re-exported for symmetry). */
export { fitHybrid };

interface ShardWorker {
  run(task: ShardTask): Promise<ShardResult>;
  stop(): Promise<void>;
}

function spawnWorker(init: WorkerInit): ShardWorker {
  // The bundle (lib/infra/training-bundle.ts) ships the worker as hybrid-worker.mjs beside the entrypoint.
  const worker = startModuleWorker(import.meta.url, 'hybrid-worker', { workerData: init });
  let pending: { resolve: (r: ShardResult) => void; reject: (e: Error) => void } | undefined;
  let failure: Error | undefined;
  worker.on('message', (msg: { ok: true; result: ShardResult } | { ok: false; message: string }) => {
    const p = pending;
    pending = undefined;
    if (msg.ok) p?.resolve(msg.result);
    else p?.reject(new Error(`hybrid worker failed: ${msg.message}`));
  });
  const fail = (error: Error): void => {
    failure = error;
    pending?.reject(error);
    pending = undefined;
  };
  worker.on('error', fail);
  worker.on('exit', (code) => {
    if (code !== 0) fail(new Error(`hybrid worker exited with code ${code}`));
  });
  return {
    run(task) {
      if (failure !== undefined) return Promise.reject(failure);
      return new Promise<ShardResult>((resolve, reject) => {
        pending = { resolve, reject };
        worker.postMessage(task);
      });
    },
    async stop() {
      worker.removeAllListeners('exit');
      await worker.terminate();
    },
  };
}
