/**
 * The pump under putBatch: chunks of 25 pulled from one iterator by the writers in flight, unprocessed
 * items sent again, and a named error when they stay unprocessed. dynalite never leaves items
 * unprocessed, so throttling is played by the `send` the pump is given.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { pumpBatchWrites, UserStateWriteError } from '../../lib/aws/user-state.ts';

afterEach(() => {
  vi.useRealTimers();
});

describe('pumpBatchWrites', () => {
  it('writes every item once in requests of at most 25, pulling no more than the requests in flight', async () => {
    let pulled = 0;
    let maxAhead = 0;
    let sentItems = 0;
    function* items(): Generator<number> {
      for (let i = 0; i < 1001; i++) {
        pulled++;
        maxAhead = Math.max(maxAhead, pulled - sentItems);
        yield i;
      }
    }
    const seen: number[] = [];
    const sizes: number[] = [];
    const written = await pumpBatchWrites(
      items(),
      (i) => i,
      async (chunk) => {
        await new Promise((r) => setTimeout(r, 1));
        sizes.push(chunk.length);
        seen.push(...chunk);
        sentItems += chunk.length;
        return [];
      },
      4,
    );
    expect(written).toBe(1001);
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 1001 }, (_, i) => i));
    expect(Math.max(...sizes)).toBe(25);
    expect(maxAhead).toBeLessThanOrEqual(4 * 25);
  });

  it('sends unprocessed items again until they are written', async () => {
    const attempts = new Map<number, number>();
    const written = await pumpBatchWrites(
      [1, 2, 3],
      (i) => i,
      async (chunk) => {
        for (const i of chunk) attempts.set(i, (attempts.get(i) ?? 0) + 1);
        // Item 2 is throttled twice.
        return chunk.filter((i) => i === 2 && (attempts.get(2) ?? 0) <= 2);
      },
      1,
    );
    expect(written).toBe(3);
    expect([...attempts.entries()].sort()).toEqual([
      [1, 1],
      [2, 3],
      [3, 1],
    ]);
  });

  it('fails with UserStateWriteError naming the items left when they stay unprocessed', async () => {
    vi.useFakeTimers();
    let sends = 0;
    const pending = pumpBatchWrites(
      ['a', 'b'],
      (id) => id,
      async (chunk) => {
        sends++;
        return chunk;
      },
      1,
    );
    const outcome = expect(pending).rejects.toThrow(new UserStateWriteError(2, 9));
    await vi.runAllTimersAsync();
    await outcome;
    expect(sends).toBe(9);
  });
});
