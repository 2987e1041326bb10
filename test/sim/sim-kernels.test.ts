import { describe, expect, it } from 'vitest';
import { hashString, Rng } from '../../lib/core/rng.ts';
import { orderByTime, shareOf } from '../../lib/sim/day-events.ts';
import { fnvContinue, SimRng } from '../../lib/sim/sim-rng.ts';

describe("the simulator's kernels", () => {
  it('SimRng gives the core Rng numbers for the same seed, also after reseeding in place', () => {
    const sim = new SimRng();
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
});
