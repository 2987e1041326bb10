/** seen.json built aside (in a worker thread, while `shelves train` trains): the same bytes as in this thread. */
import { describe, expect, it } from 'vitest';
import { seenFileBytes, seenFileBytesAside } from '../../lib/byod/seen-file.ts';
import { Rng } from '../../lib/core/rng.ts';

/** Columns of `rows` random interactions over prefixed and plain ids (some users with several items, repeats). */
function columns(rows: number, seed: number) {
  const rng = new Rng(seed);
  const nUsers = Math.max(1, Math.floor(rows / 8));
  const nItems = Math.max(1, Math.floor(rows / 20));
  const userIds = Array.from({ length: nUsers }, (_, u) => (u % 3 === 0 ? `${u}` : `user-${u}`));
  const itemIds = Array.from({ length: nItems }, (_, i) => (i % 5 === 0 ? `é${i}` : `i${i}`));
  const user = new Int32Array(rows);
  const item = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    user[r] = rng.int(nUsers);
    item[r] = rng.int(nItems);
  }
  return { userIds, itemIds, user, item };
}

describe('seenFileBytesAside', () => {
  it('gives the bytes seenFileBytes gives, built by a worker thread', async () => {
    for (const [rows, extra] of [
      [5_000, []],
      [20_000, ['new-user', 'user-1', '0']],
      [1, ['only-features']],
    ] as const) {
      const c = columns(rows, rows);
      const aside = seenFileBytesAside(c, extra);
      const bytes = await aside.bytes();
      expect(Buffer.from(bytes).equals(seenFileBytes(c, extra))).toBe(true);
      expect(await aside.builtBy).toBe('worker');
    }
  }, 60_000);

  it('builds small inputs in this thread (under minRows rows), the same bytes', async () => {
    const c = columns(5_000, 3);
    const aside = seenFileBytesAside(c, ['x'], 5_001);
    expect(await aside.builtBy).toBe('this thread');
    expect(Buffer.from(await aside.bytes()).equals(seenFileBytes(c, ['x']))).toBe(true);
  });

  it('gives the same bytes when the worker is stopped (built in this thread instead)', async () => {
    const c = columns(200_000, 7);
    const aside = seenFileBytesAside(c, ['x']);
    aside.cancel();
    expect(Buffer.from(await aside.bytes()).equals(seenFileBytes(c, ['x']))).toBe(true);
    expect(['worker', 'this thread']).toContain(await aside.builtBy);
  }, 60_000);
});
