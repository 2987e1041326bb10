/**
 * Instantiates EASE's inverse kernel (inverse.wat, compiled into inverse-bytes.ts) over a memory of
 * its own, sized for an inversion.
 *
 * The instance is kept through a WeakRef and reused while it is large enough: a fresh memory's first
 * touch costs page faults (about 0.2 s per 72 MB, a 3,000-column matrix, on the 2-core machine), and
 * lambda 'auto' inverts five matrices of about the same size in one synchronous run, during which a
 * WeakRef's target is kept alive. Afterwards the garbage collector may free it: a wasm memory never
 * shrinks, and an 8,000-column matrix takes 512 MB. Callers write every byte they read before
 * reading it, so what an earlier inversion left in the memory does not matter.
 *
 * Pure: no I/O; single-threaded (an unshared memory).
 */
import { EASE_INVERSE_WASM_BASE64 } from './inverse-bytes.ts';

const PAGE = 65_536;
/** 32-bit wasm addresses: 4 GiB. */
const MAX_PAGES = 65_536;

/** The kernel's exports over one memory (every address a byte offset; see inverse.wat). */
export interface InverseKernel {
  /** The whole memory as doubles. */
  readonly f64: Float64Array;
  /** W tiles [0, tiles) = P·S (tiled layout; bp pivots, a multiple of 4). */
  readonly panelTimesS: (p: number, s: number, w: number, tiles: number, bp: number) => void;
  /** Rows 4I..4I+3 from byte `a`, `count` column tiles: a -= W_tile · P_tilesᵀ. */
  readonly updateTiles: (a: number, w: number, p: number, count: number, ldBytes: number, bp: number) => void;
}

let compiled: WebAssembly.Module | null | undefined;
let cached: WeakRef<InverseKernel> | undefined;

function inverseModule(): WebAssembly.Module | null {
  if (compiled === undefined) {
    try {
      const text = atob(EASE_INVERSE_WASM_BASE64);
      const bytes = new Uint8Array(text.length);
      for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
      compiled = new WebAssembly.Module(bytes);
    } catch {
      // No WebAssembly, or no SIMD: the module does not compile.
      compiled = null;
    }
  }
  return compiled;
}

/** True where WebAssembly with 128-bit SIMD is available (Node 20 and 22 have it). */
export function wasmInverseSupported(): boolean {
  return inverseModule() !== null;
}

/**
 * A kernel instance over a memory of at least `bytes` (the kept one, or a fresh one); undefined when wasm SIMD is
 * unavailable or the memory cannot be had (over 4 GiB, or the engine refuses the allocation).
 */
export function inverseKernel(bytes: number): InverseKernel | undefined {
  const module = inverseModule();
  const pages = Math.max(1, Math.ceil(bytes / PAGE));
  if (module === null || pages > MAX_PAGES) return undefined;
  const kept = cached?.deref();
  if (kept !== undefined && kept.f64.byteLength >= pages * PAGE) return kept;
  let memory: WebAssembly.Memory;
  try {
    memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
  } catch {
    return undefined;
  }
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  const kernel: InverseKernel = {
    f64: new Float64Array(memory.buffer),
    panelTimesS: instance.exports.panel_times_s as InverseKernel['panelTimesS'],
    updateTiles: instance.exports.update_tiles as InverseKernel['updateTiles'],
  };
  cached = new WeakRef(kernel);
  return kernel;
}
