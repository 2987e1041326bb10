import { describe, expect, it } from 'vitest';
import { hashString, Rng } from '../../lib/core/rng.ts';
import { guidePool, indexWeights, iso, pickIndex, pickWeighted, type Pool, searchCumulative } from '../../lib/sim/catalog.ts';
import { orderByTime, shareOf } from '../../lib/sim/day-events.ts';
import { fixed5Text, GUMBEL_BOUND } from '../../lib/sim/population.ts';
import { fnvContinue } from '../../lib/sim/sim-rng.ts';

describe("the simulator's kernels", () => {
  it('a reseeded Rng gives the numbers of a new Rng of the same seed', () => {
    const sim = new Rng(99);
    for (const seed of [0, 1, 42, 0xffffffff, 123_456_789, -7]) {
      const core = new Rng(seed);
      sim.reseed(seed);
      for (let i = 0; i < 50; i++)
        expect([sim.nextUint32(), sim.next(), sim.int(1000)]).toEqual([core.nextUint32(), core.next(), core.int(1000)]);
    }
  });

  it('continues an FNV-1a hash where hashString of the prefix stopped', () => {
    for (const [a, b] of [
      ['42:u-0000001:', '1788220800000'],
      ['', 'abc'],
      ['-3:u-1234567:', ''],
    ] as const)
      expect(fnvContinue(hashString(a), b)).toBe(hashString(a + b));
  });

  it('rounds progress as Number(progress.toFixed(4)) does, ties and float products included', () => {
    const rng = new Rng(5);
    const values = [0, 1, 0.5, 0.00005, 0.00015, 0.12345, 0.99995, 0.3 + 0.8 * 0.25 + 0.2, 1.0005 - 0.0005];
    for (let i = 0; i < 20_000; i++) values.push(rng.next(), Math.round(rng.next() * 1e5) / 1e5);
    for (const v of values) expect(shareOf(v) / 10_000, String(v)).toBe(Math.max(0, Math.min(1, Number(v.toFixed(4)))));
  });

  it('orders by time, ties in index order, as a stable sort does', () => {
    const rng = new Rng(9);
    const n = 5000;
    const times = new Int32Array(n);
    for (let i = 0; i < n; i++) times[i] = rng.next() < 0.3 ? 3_600_000 * rng.int(3) : rng.int(86_400_000);
    const expected = Array.from(times.keys()).sort((x, y) => (times[x] as number) - (times[y] as number) || x - y);
    expect(Array.from(orderByTime(times, n))).toEqual(expected);
    expect(() => orderByTime(Int32Array.of(-1), 1)).toThrow(/-1 ms is not within a day/);
  });

  it('finds in a guide bucket the index a binary search of the whole pool finds', () => {
    const rng = new Rng(11);
    const whole = (cumulative: Float64Array, r: number): number => {
      let lo = 0;
      let hi = cumulative.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if ((cumulative[mid] as number) > r) hi = mid;
        else lo = mid + 1;
      }
      return lo;
    };
    for (const size of [1, 2, 3, 17, 1000]) {
      for (const shape of ['lognormal', 'hits', 'tiny'] as const) {
        const cumulative = new Float64Array(size);
        let total = 0;
        for (let i = 0; i < size; i++) {
          const q =
            shape === 'lognormal' ? Math.exp(rng.normal() * 1.2) : shape === 'hits' ? (rng.next() < 0.02 ? 1e6 : 1) : i === 0 ? 1 : 1e-18;
          cumulative[i] = total += q;
        }
        const pool: Pool = { indices: new Int32Array(size), size, cumulative: undefined, guide: undefined, step: 0 };
        guidePool(pool, cumulative);
        const probes = [
          0,
          total,
          total * (1 - 2 ** -52),
          ...Array.from(cumulative),
          ...Array.from({ length: 2000 }, () => rng.next() * total),
        ];
        for (const r of probes) expect(searchCumulative(pool, r), `${shape} ${size} r=${r}`).toBe(whole(cumulative, r));
      }
    }
  });

  it('formats weights as String(Number(x.toFixed(5))) does, ties and float32 values included', () => {
    const rng = new Rng(13);
    const values = [0, 1, 0.5, 0.000005, 0.000015, 0.123455, 0.999995, 0.99999, 0.00001, 1e-7, Math.fround(0.1), Math.fround(1 / 3)];
    for (let i = 0; i < 20_000; i++)
      values.push(rng.next(), Math.fround(rng.next()), Math.round(rng.next() * 1e6) / 1e6, (rng.int(200_000) + 0.5) / 2e5);
    for (const v of values) expect(fixed5Text(v), String(v)).toBe(String(Number(v.toFixed(5))));
  });

  it('bounds the Gumbel noise of every uniform number in a bucket (the key a skipped candidate cannot beat)', () => {
    const rng = new Rng(17);
    const buckets = GUMBEL_BOUND.length;
    const noise = (x: number): number => -Math.log(-Math.log(x || 1e-12));
    const xs = [0, 2 ** -32, 1 - 2 ** -32];
    for (let b = 0; b < buckets; b++) xs.push(b / buckets, (b + 1) / buckets - 2 ** -32, (b + rng.next()) / buckets);
    for (let i = 0; i < 50_000; i++) xs.push(rng.next());
    for (const x of xs) expect(noise(x) <= (GUMBEL_BOUND[(x * buckets) | 0] as number), `x=${x}`).toBe(true);
    // Tight enough to skip: a bound is within 0.01 of the noise at its bucket's upper end, below the last bucket.
    expect(GUMBEL_BOUND[2048]! - noise(2049 / buckets)).toBeLessThan(0.01);
  });

  it('writes times as toISOString does', () => {
    const rng = new Rng(19);
    const times = [
      0,
      1,
      86_399_999,
      86_400_000,
      Date.UTC(2026, 8, 1),
      Date.UTC(9999, 11, 31, 23, 59, 59, 999),
      Date.UTC(10_000, 0, 1),
      -1,
      -86_400_001,
      1.5,
    ];
    for (let i = 0; i < 5000; i++) times.push(Date.UTC(2024, 0, 1) + rng.int(3 * 365 * 86_400_000));
    for (const t of times) expect(iso(t), String(t)).toBe(new Date(t).toISOString());
  });

  it('picks the index pickWeighted picks from the same draw', () => {
    const options = [
      ['a', 0.25],
      ['b', 0.18],
      ['c', 0.12],
      ['d', 0.45],
    ] as const;
    const weights = indexWeights(options.map(([, w]) => w));
    const a = new Rng(23);
    const b = new Rng(23);
    for (let i = 0; i < 5000; i++) expect(options[pickIndex(b, weights)]![0]).toBe(pickWeighted(a, options));
  });
});
