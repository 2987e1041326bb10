/**
 * Peak resident memory of the steps the local pipeline runs in its own process.
 *
 * A Lambda step runs here as a function call in the pipeline's process, so its memory is the growth
 * of this process's RSS while it runs. RSS is sampled by a worker thread: a step that computes
 * synchronously for seconds blocks the main event loop (a timer there would never fire during the
 * step's heaviest moment), but not a worker. The worker writes into shared memory, which the main
 * thread reads when a step ends, so nothing waits for a message the main thread cannot receive.
 */
import { Worker } from 'node:worker_threads';

/** Concurrently open measurements (steps of a Parallel, Map children); more than enough for one execution. */
const SLOTS = 64;
/** control[] fields: stop flag, last sample (KiB), highest sample since start (KiB). */
const STOP = 0;
const LAST_KIB = 1;
const MAX_KIB = 2;

/** The memory of one measured span: RSS when it opened and the highest RSS seen until it closed. */
export interface SpanMemory {
  readonly startRssBytes: number;
  readonly peakRssBytes: number;
}

/**
 * Samples this process's RSS every `intervalMs` on a worker thread and keeps the highest value per
 * open span. Figures are in bytes; spans that run at the same time each see the whole process.
 */
export class PeakRssSampler {
  private readonly control = new Int32Array(new SharedArrayBuffer(3 * 4));
  private readonly peaks = new Int32Array(new SharedArrayBuffer(SLOTS * 4));
  private readonly active = new Int32Array(new SharedArrayBuffer(SLOTS * 4));
  private readonly starts = new Float64Array(SLOTS);
  private readonly worker: Worker;

  constructor(readonly intervalMs = 50) {
    const now = rssKib();
    Atomics.store(this.control, LAST_KIB, now);
    Atomics.store(this.control, MAX_KIB, now);
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { control: this.control, peaks: this.peaks, active: this.active, intervalMs },
    });
    // The sampler must never keep a finished CLI alive.
    this.worker.unref();
  }

  /** Starts a span; returns its handle for `close`. */
  open(): number {
    const slot = this.active.indexOf(0);
    if (slot < 0) throw new RangeError(`more than ${SLOTS} memory spans open at once (expected at most ${SLOTS})`);
    const now = rssKib();
    this.starts[slot] = now;
    Atomics.store(this.peaks, slot, now);
    Atomics.store(this.active, slot, 1);
    return slot;
  }

  /** Ends a span: its starting RSS and the highest RSS sampled (or seen now) while it was open. */
  close(slot: number): SpanMemory {
    Atomics.store(this.active, slot, 0);
    const now = rssKib();
    const peak = Math.max(now, Atomics.load(this.peaks, slot));
    this.bumpMax(now);
    return { startRssBytes: (this.starts[slot] ?? now) * 1024, peakRssBytes: peak * 1024 };
  }

  /** The highest RSS sampled since the sampler started, bytes. */
  maxRssBytes(): number {
    this.bumpMax(rssKib());
    return Atomics.load(this.control, MAX_KIB) * 1024;
  }

  /** Stops the worker. */
  async stop(): Promise<void> {
    Atomics.store(this.control, STOP, 1);
    await this.worker.terminate();
  }

  private bumpMax(kib: number): void {
    if (kib > Atomics.load(this.control, MAX_KIB)) Atomics.store(this.control, MAX_KIB, kib);
  }
}

function rssKib(): number {
  return Math.ceil(process.memoryUsage.rss() / 1024);
}

/**
 * The sampler thread, plain CommonJS so that it needs no TypeScript loader. `process.memoryUsage.rss()`
 * reads the whole process's resident set, whichever thread calls it.
 */
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { control, peaks, active, intervalMs } = workerData;
const tick = () => {
  if (Atomics.load(control, ${STOP}) === 1) return;
  const kib = Math.ceil(process.memoryUsage.rss() / 1024);
  Atomics.store(control, ${LAST_KIB}, kib);
  if (kib > Atomics.load(control, ${MAX_KIB})) Atomics.store(control, ${MAX_KIB}, kib);
  for (let i = 0; i < active.length; i++)
    if (Atomics.load(active, i) === 1 && kib > Atomics.load(peaks, i)) Atomics.store(peaks, i, kib);
  setTimeout(tick, intervalMs);
};
tick();
`;
