/** The hybrid's training problem: distinct pairs against a plain reference, to the bit. */
import { describe, expect, it } from 'vitest';
import { HybridSession } from '../../../../lib/core/models/hybrid/fit.ts';
import { distinctPairs, type InteractionColumns } from '../../../../lib/core/models/hybrid/problem.ts';
import { Rng } from '../../../../lib/core/rng.ts';
import { plantedWorld } from './planted.ts';

/** Pairs the obvious way: a map per (user row, item row), weights summed in row order, latest time. */
function reference(c: InteractionColumns, userRow: Int32Array, itemRow: Int32Array, nUsers: number) {
  const sums = new Map<string, { u: number; i: number; w: number; t: number }>();
  for (let r = 0; r < c.user.length; r++) {
    const u = userRow[c.user[r] as number] as number;
    const i = itemRow[c.item[r] as number] as number;
    const key = `${u}/${i}`;
    const s = sums.get(key) ?? { u, i, w: 0, t: Number.NEGATIVE_INFINITY };
    s.w += c.weight[r] as number;
    s.t = Math.max(s.t, c.ts[r] as number);
    sums.set(key, s);
  }
  const pairs = [...sums.values()].filter((s) => s.w > 0).sort((a, b) => a.u - b.u || a.i - b.i);
  const userStart = new Int32Array(nUsers + 1);
  for (const p of pairs) userStart[p.u + 1] = (userStart[p.u + 1] as number) + 1;
  for (let u = 0; u < nUsers; u++) userStart[u + 1] = (userStart[u + 1] as number) + (userStart[u] as number);
  return {
    userStart: [...userStart],
    item: pairs.map((p) => p.i),
    weight: pairs.map((p) => p.w),
    ts: pairs.map((p) => p.t),
    meanWeight: pairs.reduce((s, p) => s + p.w, 0) / pairs.length,
  };
}

/**
 * Random interaction columns (weights 1): 1-12 users, 1-40 items, 100-599 rows, half of them user 0's,
 * so one user has hundreds of rows (the sorted-keys path) and others few.
 */
function randomRows(seed: number) {
  const rng = new Rng(seed);
  const nUsers = 1 + rng.int(12);
  const nItems = 1 + rng.int(40);
  const n = 100 + rng.int(500);
  const user = Int32Array.from({ length: n }, () => (rng.next() < 0.5 ? 0 : rng.int(nUsers)));
  const item = Int32Array.from({ length: n }, () => rng.int(nItems));
  const ts = Float64Array.from({ length: n }, () => rng.int(1000));
  const columns: { -readonly [K in keyof InteractionColumns]: InteractionColumns[K] } = {
    userIds: [],
    itemIds: [],
    user,
    item,
    ts,
    weight: new Float64Array(n).fill(1),
  };
  return { rng, nUsers, nItems, n, user, columns };
}

/** The pairs as plain arrays, the shape reference() returns. */
function plain(pairs: ReturnType<typeof distinctPairs>) {
  return {
    userStart: [...pairs.userStart],
    item: [...pairs.item],
    weight: [...pairs.weight],
    ts: [...pairs.ts],
    meanWeight: pairs.meanWeight,
  };
}

describe('distinctPairs', () => {
  it.each([1, 2, 3, 4, 5, 6])('matches the reference bit for bit, heavy users and repeats included (seed %i)', (seed) => {
    const { rng, nUsers, nItems, user, columns } = randomRows(seed);
    columns.weight = Float64Array.from({ length: user.length }, () => (rng.next() < 0.1 ? 0 : rng.next() * 3));
    // Model rows in another order than the vocabulary's.
    const userRow = Int32Array.from({ length: nUsers }, (_, k) => nUsers - 1 - k);
    const coprime = nItems % 7 === 0 ? 1 : 7;
    const itemRow = Int32Array.from({ length: nItems }, (_, k) => (k * coprime) % nItems);
    const pairs = distinctPairs(columns, userRow, itemRow, nUsers, nItems);
    expect(plain(pairs)).toEqual(reference(columns, userRow, itemRow, nUsers));
    // The heavy user took the sorted-keys path (more than 32 rows).
    expect(user.filter((u) => u === 0).length).toBeGreaterThan(32);
  });

  it.each([1, 2, 3])(
    'matches the reference when every weight is 1 (weights not carried; counts), in lent memory full of garbage (seed %i)',
    (seed) => {
      const { nUsers, nItems, n, columns } = randomRows(seed);
      const userRow = Int32Array.from({ length: nUsers }, (_, k) => nUsers - 1 - k);
      const itemRow = Int32Array.from({ length: nItems }, (_, k) => k);
      const buffer = new ArrayBuffer(20 * n);
      new Uint8Array(buffer).fill(0xab);
      const pairs = distinctPairs(columns, userRow, itemRow, nUsers, nItems, { buffer, byteOffset: 0, byteLength: 20 * n });
      expect(plain(pairs)).toEqual(reference(columns, userRow, itemRow, nUsers));
      // Repeats were merged (a weight above 1) on both paths (few rows, and the heavy user's sorted keys).
      expect(Math.max(...pairs.weight)).toBeGreaterThan(1);
    },
  );

  it('builds the same pairs in lent memory, and in its own when the lent memory is too small', () => {
    const rng = new Rng(9);
    const n = 400;
    const columns: InteractionColumns = {
      userIds: [],
      itemIds: [],
      user: Int32Array.from({ length: n }, () => rng.int(20)),
      item: Int32Array.from({ length: n }, () => rng.int(30)),
      ts: Float64Array.from({ length: n }, () => rng.int(1000)),
      weight: Float64Array.from({ length: n }, () => 0.5 + rng.next()),
    };
    const userRow = Int32Array.from({ length: 20 }, (_, k) => k);
    const itemRow = Int32Array.from({ length: 30 }, (_, k) => k);
    const plain = (p: ReturnType<typeof distinctPairs>) => ({
      userStart: [...p.userStart],
      item: [...p.item],
      weight: [...p.weight],
      ts: [...p.ts],
    });
    const own = distinctPairs(columns, userRow, itemRow, 20, 30);
    // Lent memory full of garbage (as a region that held something else): every word is written first.
    const buffer = new ArrayBuffer(16 + 20 * n);
    new Uint8Array(buffer).fill(0xff);
    const lent = distinctPairs(columns, userRow, itemRow, 20, 30, { buffer, byteOffset: 16, byteLength: 20 * n });
    expect(plain(lent)).toEqual(plain(own));
    expect(lent.meanWeight).toBe(own.meanWeight);
    expect(lent.item.buffer).toBe(buffer);
    const small = distinctPairs(columns, userRow, itemRow, 20, 30, { buffer, byteOffset: 16, byteLength: 20 * n - 8 });
    expect(small.item.buffer).not.toBe(buffer);
    expect(plain(small)).toEqual(plain(own));
  });

  it('refuses interactions none of which has a positive weight', () => {
    const columns: InteractionColumns = {
      userIds: ['u'],
      itemIds: ['i'],
      user: Int32Array.of(0),
      item: Int32Array.of(0),
      ts: Float64Array.of(1),
      weight: Float64Array.of(0),
    };
    expect(() => distinctPairs(columns, Int32Array.of(0), Int32Array.of(0), 1, 1)).toThrow(/no interaction has a positive weight/);
  });
});

describe('HybridSession.shuffle', () => {
  // The kernel walks `order` over kernelData's positives; shuffle gathers the positives themselves
  // into the epoch's order (the kernel then reads them in sequence) and leaves order 0, 1, 2, ...
  it("gathers each epoch's positives from the (user, item) order, by that epoch's seeded permutation", () => {
    const session = HybridSession.prepare(plantedWorld().data, { dim: 8, epochs: 2, seed: 5 });
    const triples = (): string[] => {
      const { posUser, posItem, posWeight } = session.kernelData;
      return Array.from(posUser, (u, o) => `${u}/${posItem[o]}/${posWeight[o]}`);
    };
    const byUser = triples();
    const seen = session.kernelData.seenItem.slice();
    session.shuffle(0);
    const epoch0 = triples();
    expect(Array.from(session.order)).toEqual(Array.from(session.order, (_, o) => o));
    expect(epoch0).not.toEqual(byUser);
    expect([...epoch0].sort()).toEqual([...byUser].sort());
    // Each user's seen items (the negatives' check) stay in (user, item) order.
    expect(session.kernelData.seenItem).toEqual(seen);
    session.shuffle(1);
    expect(triples()).not.toEqual(epoch0);
    // From the (user, item) order every time, not from the previous epoch's: epoch 0 again is epoch 0.
    session.shuffle(0);
    expect(triples()).toEqual(epoch0);
  });
});
