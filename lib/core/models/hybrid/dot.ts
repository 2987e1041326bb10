/**
 * `user · rep[base .. base + d)` in four partial sums (independent additions pipeline; this is the
 * inner loop of every scan of the catalog, in serving and in validation), summed as
 * (s0 + s1 + s2 + s3) so every caller gets the same bits.
 */
export function dotAt(user: Float32Array | Float64Array, rep: Float32Array, base: number, d: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let q = 0;
  for (; q + 3 < d; q += 4) {
    s0 += (user[q] as number) * (rep[base + q] as number);
    s1 += (user[q + 1] as number) * (rep[base + q + 1] as number);
    s2 += (user[q + 2] as number) * (rep[base + q + 2] as number);
    s3 += (user[q + 3] as number) * (rep[base + q + 3] as number);
  }
  for (; q < d; q++) s0 += (user[q] as number) * (rep[base + q] as number);
  return s0 + s1 + s2 + s3;
}
