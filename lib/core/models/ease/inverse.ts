/**
 * In-place inverse of a symmetric positive definite matrix by the sweep operator (Gauss-Jordan
 * elimination in its symmetric form, without pivoting: safe for SPD, where every pivot is a Schur
 * complement's diagonal and hence positive).
 *
 * Sweeping pivot k maps d = a_kk, c = column k to: a_kk ← −1/d, a_ik ← c_i/d (i ≠ k), and
 * a_ij ← a_ij − c_i·c_j/d (i, j ≠ k). The matrix stays symmetric, so only the upper triangle is
 * updated (n³/2 multiply-adds instead of n³, and half the memory traffic); after every pivot the
 * triangle holds −A⁻¹, which is negated and mirrored at the end. Column k is gathered into a
 * scratch vector first, so the inner loop reads two contiguous arrays.
 *
 * The matrix is dense, row-major, n×n, in a Float64Array overwritten with its inverse. Deterministic:
 * a fixed order of operations gives the same bits on every run.
 */

/** A pivot that is not positive: the matrix is not positive definite (or is numerically singular). */
export class NotPositiveDefiniteError extends Error {
  override readonly name = 'NotPositiveDefiniteError';
}

/** Overwrites `a` (n×n, row-major, SPD; only its upper triangle is read) with its inverse and returns it. */
export function invertSpdInPlace(a: Float64Array, n: number): Float64Array {
  if (a.length !== n * n) throw new RangeError(`expected a ${n}x${n} matrix (${n * n} numbers), got ${a.length} numbers`);
  const c = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    // Column k of the symmetric matrix, read from the upper triangle.
    for (let i = 0; i < k; i++) c[i] = a[i * n + k] as number;
    for (let j = k; j < n; j++) c[j] = a[k * n + j] as number;
    const d = c[k] as number;
    if (!(d > 1e-12)) throw new NotPositiveDefiniteError(`pivot ${k} is ${d}; expected a positive value (an SPD matrix)`);
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
  // The upper triangle holds −A⁻¹: negate it and mirror it into the lower triangle.
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    for (let j = i; j < n; j++) {
      const v = -(a[ri + j] as number);
      a[ri + j] = v;
      a[j * n + i] = v;
    }
  }
  return a;
}
