/**
 * In-place inverse of a symmetric positive definite matrix by the sweep operator (Gauss-Jordan
 * elimination in its symmetric form, without pivoting: safe for SPD, where every pivot is a Schur
 * complement's diagonal and hence positive).
 *
 * Sweeping pivot k maps d = a_kk, c = column k to: a_kk ← −1/d, a_ik ← c_i/d (i ≠ k), and
 * a_ij ← a_ij − c_i·c_j/d (i, j ≠ k). The matrix stays symmetric, so only the upper triangle is
 * updated; after every pivot the triangle holds −A⁻¹, which is negated and mirrored at the end.
 *
 * Sweeps commute, so pivots are swept BLOCK at a time: for a block K with current panel P = A[:, K]
 * and S = A_KK⁻¹ (the small block swept on its own), a_ij ← a_ij − (P·S)_i · P_j (i, j ∉ K),
 * a_iK ← (P·S)_i, A_KK ← −S. The rank-BLOCK update reads the matrix once per block instead of once
 * per pivot (one pass over n² doubles per pivot is what bounds the plain sweep beyond the cache):
 * 2,000 columns 18.5 s instead of 44-63 s on this 2-core machine under load. n³/2 multiply-adds.
 * The JS update takes rows two at a time (2 × 4 accumulators share the panel's loads) in a
 * top-level function rather than a closure made per row: 1,500 columns 0.88-0.93 s against
 * 1.58-1.66 s before.
 *
 * Two kernels run the blocked sweep. 'wasm' (the default where WebAssembly SIMD is available):
 * the matrix is copied into a WebAssembly memory (rows padded to whole 4-column tiles), and the two
 * products, W = P·S and the rank-b update, run in wasm/inverse.wat, f64x2, 4 rows × 4 columns of
 * accumulators per tile (see sweepBlockedWasm); the rest (the panel, the small block's sweep, the
 * block's row and column: O(n²) work against the products' n³/2) is the JS below. 'js': everything
 * in the JS below, the readable reference and the fallback. Both form each element as the same sum
 * in the same order (multiply then add, no fused multiply-add; wasm's padding adds zeros), so on finite input they
 * agree to the bit up to the sign of a zero (identical at every size measured). `npm run bench --
 * ease-inverse`, random Gram matrices, alternating pairs on the 2-core machine: 1,000 columns JS
 * 0.27-0.39 s, wasm 0.05-0.15 s; 2,000: 1.92-1.99 s, 0.42-0.55 s; 3,000: 6.6-8.4 s, 1.68-1.87 s
 * (1.34-1.57 s when the machine was quieter); 8,000 columns (EASE_HARD_MAX_COLUMNS) wasm 31 s, 1.1 GB.
 *
 * The matrix is dense, row-major, n×n, in a Float64Array overwritten with its inverse. Deterministic:
 * a fixed order of operations gives the same bits on every run.
 */
import { inverseKernel, wasmInverseSupported } from './wasm/kernel.ts';

/** A pivot that is not positive: the matrix is not positive definite (or is numerically singular). */
export class NotPositiveDefiniteError extends Error {
  override readonly name = 'NotPositiveDefiniteError';
}

/** kernel 'wasm' was asked for where it cannot run (no WebAssembly SIMD, or no memory for the matrix). */
export class WasmInverseUnavailableError extends Error {
  override readonly name = 'WasmInverseUnavailableError';
}

/** Pivots swept together; the panel (n × BLOCK doubles) stays in cache while the trailing matrix streams once. */
const BLOCK = 48;
/** Pivots swept together by the wasm kernel (a multiple of 4, its tile). */
const WASM_BLOCK = 48;

export interface InverseOptions {
  /** 'auto' (default): 'wasm' where WebAssembly SIMD is available and the matrix fits in a wasm memory, else 'js'. 'wasm' throws when it cannot run. */
  readonly kernel?: 'auto' | 'wasm' | 'js';
  /** Pivots per block; default 48 for both kernels; a multiple of 4 for 'wasm'. For tests of block edges. */
  readonly block?: number;
}

/** Overwrites `a` (n×n, row-major, SPD; only its upper triangle is read) with its inverse and returns it. */
export function invertSpdInPlace(a: Float64Array, n: number, options: InverseOptions = {}): Float64Array {
  if (a.length !== n * n) throw new RangeError(`expected a ${n}x${n} matrix (${n * n} numbers), got ${a.length} numbers`);
  const kernel = options.kernel ?? 'auto';
  if (kernel !== 'js') {
    const block = options.block ?? WASM_BLOCK;
    if (!Number.isInteger(block) || block < 4 || block % 4 !== 0)
      throw new RangeError(`wasm block is ${block}, expected a positive multiple of 4`);
    if (sweepBlockedWasm(a, n, block)) return a;
    if (kernel === 'wasm')
      throw new WasmInverseUnavailableError(
        `kernel is 'wasm' for a ${n}x${n} matrix, but WebAssembly SIMD or the memory is unavailable; expected 'auto' or 'js' here`,
      );
  }
  const block = options.block ?? BLOCK;
  if (!Number.isInteger(block) || block < 1) throw new RangeError(`block is ${block}, expected a positive integer`);
  if (n <= block) sweepUpper(a, n, 0);
  else sweepBlocked(a, n, block);
  negateAndMirror(a, n);
  return a;
}

/** Sweeps every pivot of the upper triangle one at a time; `offset` numbers pivots in error messages. */
function sweepUpper(a: Float64Array, n: number, offset: number): void {
  const c = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    // Column k of the symmetric matrix, read from the upper triangle.
    for (let i = 0; i < k; i++) c[i] = a[i * n + k] as number;
    for (let j = k; j < n; j++) c[j] = a[k * n + j] as number;
    const d = c[k] as number;
    if (!(d > 1e-12)) throw new NotPositiveDefiniteError(`pivot ${offset + k} is ${d}; expected a positive value (an SPD matrix)`);
    const inv = 1 / d;
    for (let i = 0; i < n; i++) {
      const f = (c[i] as number) * inv;
      if (f === 0) continue;
      const ri = i * n;
      for (let j = i; j < n; j++) a[ri + j] = (a[ri + j] as number) - f * (c[j] as number);
    }
    // Row and column k are overwritten (the loop above also touched them; those values are discarded).
    for (let i = 0; i < k; i++) a[i * n + k] = (c[i] as number) * inv;
    for (let j = k + 1; j < n; j++) a[k * n + j] = (c[j] as number) * inv;
    a[k * n + k] = -inv;
  }
}

/** The upper triangle holds −A⁻¹: negates it and mirrors it into the lower triangle. */
function negateAndMirror(a: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    for (let j = i; j < n; j++) {
      const v = -(a[ri + j] as number);
      a[ri + j] = v;
      a[j * n + i] = v;
    }
  }
}

/** Sweeps `block` pivots at a time (see the module comment); leaves −A⁻¹ in the upper triangle. */
function sweepBlocked(a: Float64Array, n: number, block: number): void {
  const panel = new Float64Array(n * block);
  const w = new Float64Array(n * block);
  for (let k0 = 0; k0 < n; k0 += block) {
    const k1 = Math.min(n, k0 + block);
    const b = k1 - k0;
    // Panel: columns k0..k1 of the symmetric matrix (row-major n×b), read from the upper triangle.
    for (let i = 0; i < n; i++)
      for (let t = 0; t < b; t++) {
        const j = k0 + t;
        panel[i * b + t] = i <= j ? (a[i * n + j] as number) : (a[j * n + i] as number);
      }
    // S = A_KK⁻¹ (b×b), by the unblocked sweep.
    const s = new Float64Array(b * b);
    for (let u = 0; u < b; u++) for (let t = 0; t < b; t++) s[u * b + t] = panel[(k0 + u) * b + t] as number;
    sweepUpper(s, b, k0);
    negateAndMirror(s, b);
    // W = P·S (n×b).
    for (let i = 0; i < n; i++) {
      const pi = i * b;
      for (let t = 0; t < b; t++) {
        let acc = 0;
        for (let u = 0; u < b; u++) acc += (panel[pi + u] as number) * (s[u * b + t] as number);
        w[pi + t] = acc;
      }
    }
    // Rank-b update of the upper triangle outside K: a_ij -= W_i · P_j.
    // Rows two at a time where both lie on the same side of K (row i's diagonal first, alone).
    for (let i = 0; i < n; ) {
      if (i >= k0 && i < k1) {
        i = k1;
        continue;
      }
      const pair = i + 1 < n && (i + 1 < k0 || i >= k1);
      if (!pair) {
        if (i < k0) updateRow(a, w, panel, b, n, i, i, k0);
        updateRow(a, w, panel, b, n, i, Math.max(i, k1), n);
        i++;
        continue;
      }
      updateRow(a, w, panel, b, n, i, i, i + 1);
      if (i < k0) {
        updatePair(a, w, panel, b, n, i, i + 1, k0);
        updatePair(a, w, panel, b, n, i, k1, n);
      } else updatePair(a, w, panel, b, n, i, i + 1, n);
      i += 2;
    }
    // Row/column K: a_iK = W_i (i ∉ K), a_KK = −S.
    for (let i = 0; i < n; i++) {
      if (i >= k0 && i < k1) continue;
      for (let t = 0; t < b; t++) {
        const j = k0 + t;
        const v = w[i * b + t] as number;
        if (i < j) a[i * n + j] = v;
        else a[j * n + i] = v;
      }
    }
    for (let u = 0; u < b; u++) for (let t = u; t < b; t++) a[(k0 + u) * n + k0 + t] = -(s[u * b + t] as number);
  }
}

/** a[i][from..to) -= W_i · P_j (the rank-b update of one row's columns). */
function updateRow(a: Float64Array, w: Float64Array, panel: Float64Array, b: number, n: number, i: number, from: number, to: number): void {
  const wi = i * b;
  const ri = i * n;
  let j = from;
  for (; j + 3 < to; j += 4) {
    const p0 = j * b;
    const p1 = p0 + b;
    const p2 = p1 + b;
    const p3 = p2 + b;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    for (let t = 0; t < b; t++) {
      const x = w[wi + t] as number;
      s0 += x * (panel[p0 + t] as number);
      s1 += x * (panel[p1 + t] as number);
      s2 += x * (panel[p2 + t] as number);
      s3 += x * (panel[p3 + t] as number);
    }
    a[ri + j] = (a[ri + j] as number) - s0;
    a[ri + j + 1] = (a[ri + j + 1] as number) - s1;
    a[ri + j + 2] = (a[ri + j + 2] as number) - s2;
    a[ri + j + 3] = (a[ri + j + 3] as number) - s3;
  }
  for (; j < to; j++) {
    const pj = j * b;
    let acc = 0;
    for (let t = 0; t < b; t++) acc += (w[wi + t] as number) * (panel[pj + t] as number);
    a[ri + j] = (a[ri + j] as number) - acc;
  }
}

/** Rows i and i + 1, columns [from, to): updateRow for both, sharing the panel's loads (2 × 4 accumulators). */
function updatePair(
  a: Float64Array,
  w: Float64Array,
  panel: Float64Array,
  b: number,
  n: number,
  i: number,
  from: number,
  to: number,
): void {
  const wi = i * b;
  const wk = wi + b;
  const ri = i * n;
  const rk = ri + n;
  let j = from;
  for (; j + 3 < to; j += 4) {
    const p0 = j * b;
    const p1 = p0 + b;
    const p2 = p1 + b;
    const p3 = p2 + b;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    let u0 = 0;
    let u1 = 0;
    let u2 = 0;
    let u3 = 0;
    for (let t = 0; t < b; t++) {
      const x = w[wi + t] as number;
      const y = w[wk + t] as number;
      const q0 = panel[p0 + t] as number;
      const q1 = panel[p1 + t] as number;
      const q2 = panel[p2 + t] as number;
      const q3 = panel[p3 + t] as number;
      s0 += x * q0;
      s1 += x * q1;
      s2 += x * q2;
      s3 += x * q3;
      u0 += y * q0;
      u1 += y * q1;
      u2 += y * q2;
      u3 += y * q3;
    }
    a[ri + j] = (a[ri + j] as number) - s0;
    a[ri + j + 1] = (a[ri + j + 1] as number) - s1;
    a[ri + j + 2] = (a[ri + j + 2] as number) - s2;
    a[ri + j + 3] = (a[ri + j + 3] as number) - s3;
    a[rk + j] = (a[rk + j] as number) - u0;
    a[rk + j + 1] = (a[rk + j + 1] as number) - u1;
    a[rk + j + 2] = (a[rk + j + 2] as number) - u2;
    a[rk + j + 3] = (a[rk + j + 3] as number) - u3;
  }
  if (j < to) {
    updateRow(a, w, panel, b, n, i, j, to);
    updateRow(a, w, panel, b, n, i + 1, j, to);
  }
}

/**
 * The blocked sweep with its two products in wasm (the module comment; wasm/inverse.wat for the
 * layout). The matrix is copied into the kernel's memory with ld = n rounded up to a multiple of 4
 * doubles a row (and as many rows); the panel and W are stored in tiles of 4 rows (tile I: bp × 4
 * doubles, [t][r] = P(4I + r, t)), padded with zeros to bp pivots and ld rows, so the kernel has no
 * edge cases: padding adds zeros to sums, and padded rows and columns are never copied back.
 *
 * The update runs over whole 4×4 tiles of the upper triangle outside block K's rows and columns
 * (K starts on a tile, as `block` is a multiple of 4); the diagonal tiles also update a few entries
 * below the diagonal, which nothing reads (the lower triangle is written by negateAndMirror at the
 * end). Returns false, leaving `a` untouched, when the kernel cannot run; a non-positive pivot
 * throws NotPositiveDefiniteError, also leaving `a` untouched.
 */
function sweepBlockedWasm(a: Float64Array, n: number, block: number): boolean {
  if (!wasmInverseSupported()) return false;
  const ld = Math.ceil(n / 4) * 4;
  const tiles = ld / 4;
  const bp = block;
  const tileDoubles = bp * 4;
  // Doubles: matrix (ld × ld), panel (ld × bp), W (ld × bp, twice), S (bp × bp).
  const P = ld * ld;
  const W = P + ld * bp;
  const S = W + 2 * ld * bp;
  const kernel = inverseKernel((S + bp * bp) * 8);
  if (kernel === undefined) return false;
  const m = kernel.f64;
  // Only the upper triangle is copied in and out: the lower one is never read, and pages of the
  // memory that are never touched cost no page fault (about 0.2 s per fresh 72 MB here).
  for (let i = 0; i < n; i++) m.set(a.subarray(i * n + i, i * n + n), i * ld + i);
  const ldBytes = ld * 8;
  const tileBytes = tileDoubles * 8;
  for (let k0 = 0; k0 < n; k0 += block) {
    const k1 = Math.min(n, k0 + block);
    const b = k1 - k0;
    // Panel: columns k0..k1 of the symmetric matrix, read from the upper triangle; zeros beyond n and b.
    for (let i = 0; i < ld; i++) {
      const at = P + (i >> 2) * tileDoubles + (i & 3);
      let t = 0;
      if (i < n)
        for (; t < b; t++) {
          const j = k0 + t;
          m[at + t * 4] = i <= j ? (m[i * ld + j] as number) : (m[j * ld + i] as number);
        }
      for (; t < bp; t++) m[at + t * 4] = 0;
    }
    // S = A_KK⁻¹ (b×b) by the unblocked sweep, stored bp×bp with zeros around it.
    const s = new Float64Array(b * b);
    for (let u = 0; u < b; u++) {
      const at = P + ((k0 + u) >> 2) * tileDoubles + ((k0 + u) & 3);
      for (let t = 0; t < b; t++) s[u * b + t] = m[at + t * 4] as number;
    }
    sweepUpper(s, b, k0);
    negateAndMirror(s, b);
    m.fill(0, S, S + bp * bp);
    for (let u = 0; u < b; u++) m.set(s.subarray(u * b, u * b + b), S + u * bp);
    kernel.panelTimesS(P * 8, S * 8, W * 8, tiles, bp);
    // Rank-b update, tile row by tile row, outside K's tiles [t0, t1).
    const t0 = k0 / 4;
    const t1 = Math.ceil(k1 / 4);
    for (let I = 0; I < tiles; I++) {
      if (I >= t0 && I < t1) continue;
      const row = 4 * I * ld;
      const w = (W + 2 * I * tileDoubles) * 8;
      if (I < t0) kernel.updateTiles((row + 4 * I) * 8, w, P * 8 + I * tileBytes, t0 - I, ldBytes, bp);
      const from = Math.max(I, t1);
      if (from < tiles) kernel.updateTiles((row + 4 * from) * 8, w, P * 8 + from * tileBytes, tiles - from, ldBytes, bp);
    }
    // Row/column K: a_iK = W_i (i ∉ K), a_KK = −S.
    for (let i = 0; i < n; i++) {
      if (i >= k0 && i < k1) continue;
      const at = W + 2 * ((i >> 2) * tileDoubles + (i & 3));
      for (let t = 0; t < b; t++) {
        const j = k0 + t;
        const v = m[at + t * 8] as number;
        if (i < j) m[i * ld + j] = v;
        else m[j * ld + i] = v;
      }
    }
    for (let u = 0; u < b; u++) for (let t = u; t < b; t++) m[(k0 + u) * ld + k0 + t] = -(s[u * b + t] as number);
  }
  for (let i = 0; i < n; i++) a.set(m.subarray(i * ld + i, i * ld + n), i * n + i);
  negateAndMirror(a, n);
  return true;
}
