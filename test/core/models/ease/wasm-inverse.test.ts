/**
 * EASE's inverse with the WebAssembly SIMD kernel (lib/core/models/ease/wasm/inverse.wat, driven by
 * sweepBlockedWasm in inverse.ts) against the matrix it inverts and against the JS kernel, at sizes
 * on and off the block (48 pivots, or a small block for several blocks at small sizes) and off the
 * 4-column tile; and fitEase with either kernel.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fitEase, invertSpdInPlace, NotPositiveDefiniteError } from '../../../../lib/core/models/ease/index.ts';
import { Rng } from '../../../../lib/core/rng.ts';
import { EASE_BYTES_PATH, compileEaseInverse, easeBytesModule } from '../../../../scripts/build-wasm.ts';
import type { Feature, TrainingData } from '../../../../lib/core/models/recommender.ts';
import { easeData } from './ease-data.ts';

/** G = XᵀX + λI for a seeded sparse 0/1 X (3n + 5 users, about a fifth of the items each): full and symmetric. */
function gram(n: number, seed: number, lambda = 2): Float64Array {
  const rng = new Rng(seed);
  const g = new Float64Array(n * n);
  for (let u = 0; u < 3 * n + 5; u++) {
    const row: number[] = [];
    for (let j = 0; j < n; j++) if (rng.next() < 0.2) row.push(j);
    for (const i of row) for (const j of row) g[i * n + j] = (g[i * n + j] as number) + 1;
  }
  for (let i = 0; i < n; i++) g[i * n + i] = (g[i * n + i] as number) + lambda;
  return g;
}

/** Largest |(G·inverse − I)_ij|. */
function identityError(g: Float64Array, inverse: Float64Array, n: number): number {
  let worst = 0;
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let d = 0;
      for (let t = 0; t < n; t++) d += (g[i * n + t] as number) * (inverse[t * n + j] as number);
      worst = Math.max(worst, Math.abs(d - (i === j ? 1 : 0)));
    }
  return worst;
}

/** Largest difference between two arrays relative to the reference's largest entry. */
function relativeDifference(reference: Float64Array, actual: Float64Array): number {
  let largest = 0;
  let diff = 0;
  for (let x = 0; x < reference.length; x++) {
    largest = Math.max(largest, Math.abs(reference[x] as number));
    diff = Math.max(diff, Math.abs((reference[x] as number) - (actual[x] as number)));
  }
  return diff / largest;
}

/** The upper triangle of g, NaN below: the inverse must read only the upper triangle. */
function upperOnly(g: Float64Array, n: number): Float64Array {
  const a = g.slice();
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) a[i * n + j] = Number.NaN;
  return a;
}

describe('the wasm inverse kernel', () => {
  it('is compiled from inverse.wat: the committed binary is what `npm run build:wasm` writes', async () => {
    expect(readFileSync(EASE_BYTES_PATH, 'utf8')).toBe(easeBytesModule(await compileEaseInverse()));
  });

  it.each([
    [1, 48],
    [2, 48],
    [3, 48],
    [47, 48],
    [48, 48],
    [49, 48],
    [97, 48],
    [200, 48],
    [47, 8],
    [49, 12],
    [97, 4],
    [200, 20],
    [130, 12],
  ])('inverts a %i-column SPD matrix with blocks of %i pivots: G·G⁻¹ = I, and the JS kernel agrees', (n, block) => {
    const g = gram(n, n);
    const wasm = invertSpdInPlace(upperOnly(g, n), n, { kernel: 'wasm', block });
    expect(identityError(g, wasm, n)).toBeLessThan(1e-10);
    // The result is symmetric (mirrored), with nothing left of the NaN lower triangle.
    for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) expect(wasm[i * n + j]).toBe(wasm[j * n + i]);
    // The JS kernel with the same blocks (its rows two at a time meet K's edges inside the matrix).
    const js = invertSpdInPlace(upperOnly(g, n), n, { kernel: 'js', block });
    expect(identityError(g, js, n)).toBeLessThan(1e-10);
    expect(relativeDifference(js, wasm)).toBeLessThan(1e-9);
  });

  it('is the default kernel and gives the same bits on every run, also in memory an earlier, larger inversion used', () => {
    const first = invertSpdInPlace(gram(97, 5), 97, { kernel: 'wasm' });
    expect(Buffer.from(invertSpdInPlace(gram(97, 5), 97).buffer).equals(Buffer.from(first.buffer))).toBe(true);
    invertSpdInPlace(gram(230, 6), 230, { kernel: 'wasm' });
    expect(Buffer.from(invertSpdInPlace(gram(97, 5), 97, { kernel: 'wasm' }).buffer).equals(Buffer.from(first.buffer))).toBe(true);
  });

  it.each([
    ['in the first block', 60, 2],
    ['in a later block, on a tile edge', 130, 96],
    ['in a later block, inside a tile', 130, 101],
    ['the last pivot', 130, 129],
  ])('names a non-positive pivot %s by its global index, leaving the matrix as it was', (_where, n, pivot) => {
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) a[i * n + i] = i === pivot ? -1 : 1 + i;
    const before = a.slice();
    expect(() => invertSpdInPlace(a, n, { kernel: 'wasm' })).toThrow(NotPositiveDefiniteError);
    expect(() => invertSpdInPlace(a, n, { kernel: 'wasm' })).toThrow(`pivot ${pivot} is -1; expected a positive value (an SPD matrix)`);
    expect(a).toEqual(before);
  });

  it('finds a pivot that only a Schur complement makes non-positive', () => {
    // [[1, 2], [2, 1]]: the second pivot is 1 − 2·2/1 = −3.
    expect(() => invertSpdInPlace(Float64Array.from([1, 2, 2, 1]), 2, { kernel: 'wasm' })).toThrow('pivot 1 is -3;');
  });

  it('rejects a block that is not a whole number of 4-column tiles', () => {
    expect(() => invertSpdInPlace(gram(10, 1), 10, { kernel: 'wasm', block: 6 })).toThrow(
      'wasm block is 6, expected a positive multiple of 4',
    );
    expect(() => invertSpdInPlace(gram(10, 1), 10, { kernel: 'js', block: 0 })).toThrow('block is 0, expected a positive integer');
  });
});

describe('fitEase with the wasm inverse', () => {
  const data = easeData;

  /**
   * The community world of ease.test.ts's lambda 'auto' test, three communities of 40 items (120
   * columns and 3 country features: several blocks of the sweep), with noise plays across communities.
   */
  function world(): TrainingData {
    const rng = new Rng(11);
    const pairs: [string, string][] = [];
    const features = new Map<string, Feature[]>();
    for (let u = 0; u < 150; u++) {
      const community = u % 3;
      features.set(`u${u}`, [[`country:${community}`, 1]]);
      for (let i = 0; i < 40; i++)
        for (let c = 0; c < 3; c++) if (rng.next() < (c === community ? 0.3 : 0.03)) pairs.push([`u${u}`, `${'abc'[c]}${i}`]);
    }
    return data(pairs, features);
  }

  it('recommends the same items in the same order as with the JS inverse, from weights that agree to 1e-9', () => {
    const d = world();
    const wasm = fitEase(d, { lambda: 20 });
    const js = fitEase(d, { lambda: 20, kernel: 'js' });
    expect(wasm.state.itemIds.length).toBe(120);
    const w = Float64Array.from(wasm.state.weights);
    const j = Float64Array.from(js.state.weights);
    expect(relativeDifference(j, w)).toBeLessThan(1e-9);
    const users = ['u0', 'u1', 'u2', 'u77', 'u149'];
    for (const userId of users) {
      const ids = (m: typeof wasm): string[] => m.recommend({ userId, now: 0 }, 20).map((r) => r.itemId);
      expect(ids(wasm)).toEqual(ids(js));
    }
    // A new listener scored from its features alone.
    const cold = (m: typeof wasm): string[] =>
      m.recommend({ userId: 'new', now: 0, features: [['country:1', 1]] }, 10).map((r) => r.itemId);
    expect(cold(wasm)).toEqual(cold(js));
    expect(cold(wasm).every((id) => id.startsWith('b'))).toBe(true);
  });

  it("chooses the same λ with lambda 'auto' as the JS inverse does", () => {
    const d = world();
    const hp = (m: ReturnType<typeof fitEase>): unknown => m.save().manifest.hyperparameters;
    expect(hp(fitEase(d, { lambda: 'auto' }))).toEqual(hp(fitEase(d, { lambda: 'auto', kernel: 'js' })));
  });

  it('rejects an unknown kernel', () => {
    expect(() => fitEase(world(), { kernel: 'gpu' as 'js' })).toThrow(/ease option kernel is "gpu"/);
  });
});
