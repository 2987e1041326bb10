/**
 * Runs the WebAssembly SIMD kernel (kernel.wat, the same algorithm as ../kernel.ts) over training
 * arrays that live in one shared WebAssembly memory.
 *
 * - WasmArena: an Alloc (see ../features.ts) whose typed arrays are views of a shared
 *   WebAssembly.Memory, so HybridSession.prepare builds its data and parameters straight into the
 *   kernel's memory. The memory is shared (its buffer is a SharedArrayBuffer) whatever the number of
 *   threads: growing it keeps earlier views valid, and worker threads instantiate the kernel over
 *   the very same memory (Hogwild).
 * - ShardSlot: one thread's control block and scratch vectors inside that memory.
 * - WasmShardRunner: one kernel instance; run() writes the control block and processes a shard.
 *
 * Pure: no I/O; the binary comes from the generated kernel-bytes.ts.
 */
import type { Rng } from '../../../rng.ts';
import type { Alloc } from '../features.ts';
import {
  ADAM_BETA1,
  ADAM_BETA2,
  LOSS_BPR,
  OPT_ADAGRAD_ROWWISE,
  OPT_ADAM,
  type KernelConfig,
  type KernelData,
  type KernelParams,
  type ShardResult,
} from '../kernel.ts';
import { KERNEL_WASM_BASE64 } from './kernel-bytes.ts';
import { CONTROL_BYTES, CONTROL_LAYOUT, readControlI32, writeControl } from './layout.ts';

const PAGE = 65_536;
const MAX_PAGES = 65_536;
const ALIGN = 16;

let compiled: WebAssembly.Module | undefined;

function kernelModule(): WebAssembly.Module {
  if (compiled === undefined) {
    const text = atob(KERNEL_WASM_BASE64);
    const bytes = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    compiled = new WebAssembly.Module(bytes);
  }
  return compiled;
}

let supported: boolean | undefined;

/** True where WebAssembly with SIMD and shared memory is available (Node 20 and 22 have both). */
export function wasmKernelSupported(): boolean {
  if (supported === undefined) {
    try {
      kernelModule();
      new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
      supported = true;
    } catch {
      supported = false;
    }
  }
  return supported;
}

/** The kernel's requirement on the embedding size: whole SIMD lanes. */
export function wasmKernelFits(dim: number): boolean {
  return dim % 4 === 0;
}

/** The training arrays do not fit in one wasm memory. */
export class WasmMemoryLimitError extends RangeError {
  override readonly name = 'WasmMemoryLimitError';
}

/** A bump allocator over a shared WebAssembly memory of at most `maxPages` 64 KiB pages (default 4 GiB). */
export class WasmArena {
  readonly memory: WebAssembly.Memory;
  /** Offset 0 stays unused, so no array sits at the null address. */
  private top = ALIGN;

  constructor(private readonly maxPages: number = MAX_PAGES) {
    this.memory = new WebAssembly.Memory({ initial: 1, maximum: maxPages, shared: true });
  }

  readonly alloc: Alloc = <T extends Int32Array | Float32Array>(kind: 'int32' | 'float32', length: number): T => {
    const offset = this.reserve(length * 4);
    const buffer = this.memory.buffer;
    return (kind === 'int32' ? new Int32Array(buffer, offset, length) : new Float32Array(buffer, offset, length)) as T;
  };

  /** Reserves `bytes` (16-byte aligned), growing the memory as needed; returns the offset. */
  reserve(bytes: number): number {
    const offset = this.top;
    this.top = offset + Math.ceil(Math.max(bytes, 1) / ALIGN) * ALIGN;
    const have = this.memory.buffer.byteLength;
    if (this.top > have) {
      const pages = Math.ceil((this.top - have) / PAGE);
      if (have / PAGE + pages > this.maxPages)
        throw new WasmMemoryLimitError(`training arrays need ${this.top} bytes, over the ${this.maxPages * PAGE} of the wasm memory`);
      this.memory.grow(pages);
    }
    return offset;
  }

  /**
   * Reserves `bytes` and returns them as a region: its place, and an Alloc that hands out
   * zero-filled arrays inside it (16-byte aligned, as reserve does), for memory that is lent to
   * temporaries first (see HybridSession's build). Throws when the region is too small.
   */
  region(bytes: number): ArenaRegion {
    const byteOffset = this.reserve(bytes);
    let top = byteOffset;
    const end = byteOffset + bytes;
    const alloc: Alloc = <T extends Int32Array | Float32Array>(kind: 'int32' | 'float32', length: number): T => {
      const offset = top;
      top = offset + Math.ceil(Math.max(length * 4, 1) / ALIGN) * ALIGN;
      if (top > end) throw new RangeError(`arena region of ${bytes} bytes is full, expected room for ${length} more words`);
      const buffer = this.memory.buffer;
      const a = kind === 'int32' ? new Int32Array(buffer, offset, length) : new Float32Array(buffer, offset, length);
      a.fill(0);
      return a as T;
    };
    return { buffer: this.memory.buffer, byteOffset, byteLength: bytes, alloc };
  }

  /** A control block and scratch space for one thread. */
  slot(dim: number, maxSampled: number): ShardSlot {
    return {
      ctx: this.reserve(CONTROL_BYTES),
      scratch: this.reserve(4 * dim * 4),
      scratchFloats: 4 * dim,
      logTable: this.reserve((maxSampled + 1) * 8),
    };
  }
}

/** A reserved part of an arena's memory (see WasmArena.region). */
export interface ArenaRegion {
  readonly buffer: ArrayBufferLike;
  readonly byteOffset: number;
  readonly byteLength: number;
  readonly alloc: Alloc;
}

/** Bytes an arena (or a region of it) takes for arrays of these lengths in 4-byte words. */
export function arenaBytes(lengths: readonly number[]): number {
  let bytes = 0;
  for (const length of lengths) bytes += Math.ceil(Math.max(length * 4, 1) / ALIGN) * ALIGN;
  return bytes;
}

/** Byte offsets of one thread's control block, scratch (4 × dim floats) and rank-weight table. */
export interface ShardSlot {
  readonly ctx: number;
  readonly scratch: number;
  /** Size of the scratch area in 4-byte words. */
  readonly scratchFloats: number;
  readonly logTable: number;
}

/** One instance of the kernel over a shared memory, running shards through one slot. */
export class WasmShardRunner {
  private readonly run: (ctx: number, start: number, end: number) => number;
  private readonly draws: (ctx: number, out: number, n: number) => void;
  private readonly scoreFourExport: (users: number, rep: number, bias: number, dim: number, n: number, scores: number) => void;
  private readonly scratchFloats: number;

  constructor(
    private readonly memory: WebAssembly.Memory,
    private readonly slot: ShardSlot,
  ) {
    const instance = new WebAssembly.Instance(kernelModule(), { env: { memory, exp: Math.exp, log1p: Math.log1p } });
    this.run = instance.exports.run as (ctx: number, start: number, end: number) => number;
    this.draws = instance.exports.rng_draws as (ctx: number, out: number, n: number) => void;
    this.scoreFourExport = instance.exports.score_four as (
      users: number,
      rep: number,
      bias: number,
      dim: number,
      n: number,
      scores: number,
    ) => void;
    this.scratchFloats = slot.scratchFloats;
  }

  /** Positives order[start .. end-1], as runShard in ../kernel.ts does; every array must live in this memory. */
  runShard(
    data: KernelData,
    params: KernelParams,
    config: KernelConfig,
    order: Int32Array,
    start: number,
    end: number,
    rng: Rng,
  ): ShardResult {
    const buffer = this.memory.buffer;
    const { ctx, scratch, logTable } = this.slot;
    const dim = data.dim;
    const maxSampled = Math.max(1, config.maxSampled | 0);
    const at = (a: Int32Array | Float32Array): number => a.byteOffset;
    const [rngA, rngB, rngC, rngD] = rng.state();
    writeControl(buffer, ctx, {
      dim,
      nItems: data.nItems,
      userPtr: at(data.userPtr),
      userFeat: at(data.userFeat),
      userWeight: at(data.userWeight),
      itemPtr: at(data.itemPtr),
      itemFeat: at(data.itemFeat),
      itemWeight: at(data.itemWeight),
      coldPtr: at(data.itemColdPtr),
      coldFeat: at(data.itemColdFeat),
      coldWeight: at(data.itemColdWeight),
      posUser: at(data.posUser),
      posItem: at(data.posItem),
      posWeight: at(data.posWeight),
      seenPtr: at(data.seenPtr),
      seenItem: at(data.seenItem),
      order: at(order),
      userEmb: at(params.userEmb),
      userAcc: at(params.userAcc),
      userMom: at(params.userMom),
      itemEmb: at(params.itemEmb),
      itemAcc: at(params.itemAcc),
      itemMom: at(params.itemMom),
      itemBias: at(params.itemBias),
      itemBiasAcc: at(params.itemBiasAcc),
      itemBiasMom: at(params.itemBiasMom),
      loss: config.loss === LOSS_BPR ? 1 : 0,
      optimizer: config.optimizer === OPT_ADAM ? 1 : config.optimizer === OPT_ADAGRAD_ROWWISE ? 2 : 0,
      maxSampled,
      scratchUser: scratch,
      scratchPos: scratch + dim * 4,
      scratchNeg: scratch + dim * 8,
      scratchGrad: scratch + dim * 12,
      rngA,
      rngB,
      rngC,
      rngD,
      logTable,
      samples: 0,
      learningRate: config.learningRate,
      l2: config.l2,
      identityDropout: Math.max(config.identityDropout, 0),
      beta1Pow: ADAM_BETA1 ** config.stepOffset,
      beta2Pow: ADAM_BETA2 ** config.stepOffset,
    });
    const table = new Float64Array(buffer, logTable, maxSampled + 1);
    for (let s = 1; s <= maxSampled; s++) table[s] = Math.log(Math.floor((data.nItems - 1) / s));
    const loss = this.run(ctx, start, end);
    return { loss, samples: readControlI32(buffer, ctx, 'samples') };
  }

  /**
   * Validation scores of four users (fit.ts scoreFour, to the bit): scores[j × n + i] = bias[i] +
   * users[j] · rep[i]; every array must live in this memory (users: 4 × dim f64, scores: 4 × n f64).
   */
  scoreFour(users: Float64Array, rep: Float32Array, bias: Float32Array, dim: number, n: number, scores: Float64Array): void {
    this.scoreFourExport(users.byteOffset, rep.byteOffset, bias.byteOffset, dim, n, scores.byteOffset);
  }

  /** `n` raw 32-bit draws of the kernel's own generator, started from `rng`'s state (for tests). */
  rngDraws(rng: Rng, n: number): Uint32Array {
    const { ctx, scratch } = this.slot;
    const buffer = this.memory.buffer;
    const [rngA, rngB, rngC, rngD] = rng.state();
    const view = new DataView(buffer, ctx, CONTROL_BYTES);
    view.setInt32(CONTROL_LAYOUT.rngA.offset, rngA | 0, true);
    view.setInt32(CONTROL_LAYOUT.rngB.offset, rngB | 0, true);
    view.setInt32(CONTROL_LAYOUT.rngC.offset, rngC | 0, true);
    view.setInt32(CONTROL_LAYOUT.rngD.offset, rngD | 0, true);
    const out = new Uint32Array(n);
    // The slot's scratch holds 4 × dim floats: draw in chunks of that size.
    const chunk = Math.max(1, this.scratchFloats);
    for (let done = 0; done < n; done += chunk) {
      const m = Math.min(chunk, n - done);
      this.draws(ctx, scratch, m);
      out.set(new Uint32Array(this.memory.buffer, scratch, m), done);
    }
    return out;
  }
}
