import { describe, expect, it } from 'vitest';
import { buildIvf, extendIvf, probeRows } from '../../../../lib/core/models/hybrid/ivf.ts';
import { Rng } from '../../../../lib/core/rng.ts';

const D = 16;
function clustered(n: number, seed: number): { rep: Float32Array; bias: Float32Array } {
  const rng = new Rng(seed);
  const centres = Array.from({ length: 20 }, () => Float32Array.from({ length: D }, () => rng.normal()));
  const rep = new Float32Array(n * D);
  const bias = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const c = centres[i % 20] as Float32Array;
    for (let q = 0; q < D; q++) rep[i * D + q] = (c[q] as number) + 0.2 * rng.normal();
    bias[i] = 0.1 * rng.normal();
  }
  return { rep, bias };
}
function exactTop(rep: Float32Array, bias: Float32Array, n: number, user: Float32Array, k: number): number[] {
  const scores = Array.from({ length: n }, (_, i) => {
    let s = bias[i] as number;
    for (let q = 0; q < D; q++) s += (user[q] as number) * (rep[i * D + q] as number);
    return [i, s] as const;
  });
  return scores
    .sort((a, b) => b[1] - a[1])
    .slice(0, k)
    .map(([i]) => i);
}

describe('the IVF index', () => {
  const n = 5000;
  const { rep, bias } = clustered(n, 3);
  const index = buildIvf(rep, bias, n, D, { nlist: 32, seed: 1 });

  it('puts every item in exactly one list', () => {
    const all = index.lists.flatMap((l) => Array.from(l)).sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: n }, (_, i) => i));
  });

  it('finds most of the exact top 10 while scanning a fraction of the items', () => {
    const rng = new Rng(9);
    let found = 0;
    let scanned = 0;
    for (let u = 0; u < 50; u++) {
      const user = Float32Array.from({ length: D }, () => rng.normal());
      const rows = probeRows(index, user, D, 4);
      scanned += rows.length;
      const probed = new Set(rows);
      found += exactTop(rep, bias, n, user, 10).filter((i) => probed.has(i)).length;
    }
    expect(found / 500).toBeGreaterThan(0.9);
    expect(scanned / 50).toBeLessThan(n * 0.4);
  });

  it('respects an allowed mask and adds new items to their nearest list', () => {
    const grown = clustered(n + 10, 3);
    const extended = extendIvf(index, grown.rep, grown.bias, n + 10, D);
    expect(extended.lists.reduce((s, l) => s + l.length, 0)).toBe(n + 10);
    const allowed = new Uint8Array(n + 10);
    allowed[n + 3] = 1;
    const user = grown.rep.slice((n + 3) * D, (n + 4) * D);
    expect(Array.from(probeRows(extended, user, D, 4, allowed))).toEqual([n + 3]);
  });
});
