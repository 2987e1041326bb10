/**
 * Worker thread of the Hogwild trainer: runs the core SGD kernel over its shard of each epoch, on
 * parameters shared with the other workers through SharedArrayBuffers (lock-free, as Hogwild! and
 * LightFM's OpenMP loop do).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { makeScratch, runShard, type KernelConfig, type KernelData, type KernelParams } from '../core/models/hybrid/kernel.ts';
import { WasmShardRunner, type ShardSlot } from '../core/models/hybrid/wasm/runner.ts';
import { Rng } from '../core/rng.ts';

export interface WorkerInit {
  readonly data: KernelData;
  readonly params: KernelParams;
  readonly order: Int32Array;
  /** Present when the wasm kernel runs: the shared memory every array lives in, and this worker's slot. */
  readonly wasm?: { readonly memory: WebAssembly.Memory; readonly slot: ShardSlot };
}

export interface ShardTask {
  readonly config: KernelConfig;
  readonly start: number;
  readonly end: number;
  readonly seed: number;
}

const init = workerData as WorkerInit;
const scratch = makeScratch(init.data.dim);
const runner = init.wasm === undefined ? undefined : new WasmShardRunner(init.wasm.memory, init.wasm.slot);
const port = parentPort;
if (port === null) throw new Error('hybrid-worker must run as a worker thread');

port.on('message', (task: ShardTask) => {
  try {
    const rng = new Rng(task.seed);
    const result =
      runner !== undefined
        ? runner.runShard(init.data, init.params, task.config, init.order, task.start, task.end, rng)
        : runShard(init.data, init.params, task.config, init.order, task.start, task.end, rng, scratch);
    port.postMessage({ ok: true, result });
  } catch (error) {
    port.postMessage({ ok: false, message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  }
});
