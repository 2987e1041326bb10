/** The interactions reader of `shelves train`: columns, the fast plain-CSV path and the general RFC 4180 path agree. */
import { describe, expect, it } from 'vitest';
import { interactionsOf, parseInteractionColumns, readRecords } from '../../lib/byod/formats.ts';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSeenFile, SEEN_FILE, seenFileBytes, seenFileText, writeSeenFile } from '../../lib/byod/seen-file.ts';
import { Rng } from '../../lib/core/rng.ts';
import { interactionColumns } from '../../lib/core/models/hybrid/problem.ts';

const plain = [
  'user_id,item_id,timestamp,weight',
  'u1,i1,1714550400,1',
  'u2,i1,1714550400123,2',
  '',
  'u1,i2,2024-05-01T00:00:00Z,',
  'u1,i1,1714550401,0',
  'u3,i3,1714550402.5,0.5',
].join('\r\n');

describe('parseInteractionColumns', () => {
  it('reads plain CSV into columns over id vocabularies in order of first appearance', () => {
    const { columns, warnings } = parseInteractionColumns(plain, 'f.csv');
    expect(columns.userIds).toEqual(['u1', 'u2', 'u3']);
    expect(columns.itemIds).toEqual(['i1', 'i2', 'i3']);
    expect([...columns.user]).toEqual([0, 1, 0, 2]);
    expect([...columns.item]).toEqual([0, 0, 1, 2]);
    expect([...columns.ts]).toEqual([1714550400_000, 1714550400123, 1714521600_000, 1714550402500]);
    expect([...columns.weight]).toEqual([1, 2, 1, 0.5]);
    expect([...warnings]).toEqual([['rows with weight 0 skipped', 1]]);
  });

  it('gives the same columns on the fast path and the general path (quotes, spaces)', () => {
    const general = plain.replace('u2,i1', '"u2", i1 ');
    expect(general).toMatch(/"/);
    expect(parseInteractionColumns(general, 'f.csv')).toEqual(parseInteractionColumns(plain, 'f.csv'));
  });

  it.each([
    ['user_id,item_id,timestamp\nu,i,1,extra\n', /f.csv:2: malformed CSV: the row has 4 fields, expected 3/],
    ['user_id,item_id,timestamp\n"u,i,1\n', /f.csv:2: malformed CSV: a quoted field is not closed/],
    ['user_id,item_id,timestamp\nu,,1\n', /f.csv:2, field "item_id": is empty/],
    ['user_id,item_id,timestamp\nu,i,1\nu,i,soon\n', /f.csv:3, field "timestamp": "soon" is not a time/],
    ['user_id,item_id,timestamp\n"u",i,soon\n', /f.csv:2, field "timestamp": "soon" is not a time/],
  ])('names the file and line of a bad row: %j', (text, message) => {
    expect(() => parseInteractionColumns(text, 'f.csv')).toThrow(message);
  });

  it('interns many ids (the table grows) and keeps them distinct', () => {
    const rows = Array.from({ length: 20_000 }, (_, r) => `user-${r % 7001},item-${(r * 7) % 5003},${r}`);
    const { columns } = parseInteractionColumns(['user_id,item_id,timestamp', ...rows].join('\n'), 'f.csv');
    expect(columns.userIds).toHaveLength(7001);
    expect(columns.itemIds).toHaveLength(5003);
    const objects = interactionsOf(columns);
    expect(objects[12_345]).toEqual({ userId: `user-${12_345 % 7001}`, itemId: `item-${(12_345 * 7) % 5003}`, ts: 12_345_000, weight: 1 });
  });
});

describe('readRecords', () => {
  it('reads quoted fields with commas, escaped quotes and line breaks, and counts lines', () => {
    const seen: [string[], number][] = [];
    readRecords('\uFEFFa,b\n"x,1","say ""hi""\nthere"\n\nc , d\n', 'f.csv', (record, line) => {
      seen.push([record.slice(), line]);
    });
    expect(seen).toEqual([
      [['a', 'b'], 1],
      [['x,1', 'say "hi"\nthere'], 2],
      [['c', 'd'], 5],
    ]);
  });
});

describe('seenFileText', () => {
  it('lists users (with feature-only users), items and each user’s distinct items, as JSON.stringify would', () => {
    const interactions = [
      { userId: 'b', itemId: 'y', ts: 1, weight: 1 },
      { userId: 'a', itemId: 'x', ts: 2, weight: 1 },
      { userId: 'b', itemId: 'x', ts: 3, weight: 1 },
      { userId: 'b', itemId: 'y', ts: 4, weight: 1 },
    ];
    const text = seenFileText(interactionColumns(interactions), ['c']);
    expect(text).toBe(
      `${JSON.stringify({ format: 'home-shelves/byod-seen@1', users: ['a', 'b', 'c'], items: ['x', 'y'], seen: [[0], [0, 1], []] })}\n`,
    );
  });
});

describe('seenFileBytes', () => {
  /** seen.json as the plain code would write it: sorted ids, JSON.stringify, each user's distinct item positions. */
  const reference = (rows: [string, string][], extra: string[]): string => {
    const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
    const users = [...new Set([...rows.map(([u]) => u), ...extra])].sort(cmp);
    const items = [...new Set(rows.map(([, i]) => i))].sort(cmp);
    const seen = users.map((u) => [...new Set(rows.filter(([v]) => v === u).map(([, i]) => items.indexOf(i)))].sort((a, b) => a - b));
    return `${JSON.stringify({ format: 'home-shelves/byod-seen@1', users, items, seen })}\n`;
  };

  it('writes the same bytes as the plain code for ids of every shape (digits, prefixes, mixed), with extra users', () => {
    const rng = new Rng(5);
    const shapes: ((k: number) => string)[] = [
      (k) => `u${k}`,
      (k) => `${k}`,
      (k) => `u${String(k).padStart(3, '0')}`,
      (k) => (k % 3 === 0 ? `x${k}` : `u${k}`),
      (k) => `name ${k} "é"`,
    ];
    for (const userId of shapes) {
      for (const itemId of shapes) {
        const rows: [string, string][] = [];
        for (let r = 0; r < 300; r++) rows.push([userId(rng.int(60)), itemId(rng.int(1200))]);
        const interactions = rows.map(([u, i], r) => ({ userId: u, itemId: i, ts: r, weight: 1 }));
        const extra = [userId(7), userId(1000), 'zz', userId(1000)];
        const columns = interactionColumns(interactions);
        expect(seenFileBytes(columns, extra).toString('utf8')).toBe(reference(rows, extra));
        expect(seenFileBytes(columns).toString('utf8')).toBe(reference(rows, []));
      }
    }
  });

  it('writes seen.json piece by piece (any piece size, a list longer than a piece) as the same bytes', async () => {
    const rng = new Rng(9);
    // One heavy user (a list of ~4 KB) among light ones, and an extra user with no list.
    const interactions = Array.from({ length: 3_000 }, (_, r) => ({
      userId: r % 3 === 0 ? 'heavy' : `u${rng.int(400)}`,
      itemId: `i${rng.int(1_500)}`,
      ts: r,
      weight: 1,
    }));
    const columns = interactionColumns(interactions);
    const expected = seenFileBytes(columns, ['extra']);
    const dir = mkdtempSync(join(tmpdir(), 'seen-file-'));
    try {
      for (const chunkBytes of [1, 7, 64, 1_000, 1 << 20]) {
        await writeSeenFile(dir, columns, ['extra'], chunkBytes);
        expect(readFileSync(join(dir, SEEN_FILE)).equals(expected), `pieces of ${chunkBytes}`).toBe(true);
      }
      // Every position one digit wide, and a user with all of them: lists exactly as long as their bound.
      const full = interactionColumns(
        Array.from({ length: 40 }, (_, r) => ({ userId: r < 10 ? 'all' : `u${r % 4}`, itemId: `i${r % 10}`, ts: r, weight: 1 })),
      );
      for (let chunkBytes = 1; chunkBytes <= 40; chunkBytes++) {
        await writeSeenFile(dir, full, [], chunkBytes);
        expect(readFileSync(join(dir, SEEN_FILE)).equals(seenFileBytes(full)), `pieces of ${chunkBytes}`).toBe(true);
      }
      await writeSeenFile(dir, columns, ['extra']);
      // Read back as `shelves recommend` reads it.
      const seen = await readSeenFile(dir);
      expect(seen.users).toContain('extra');
      expect(seen.seenBy('heavy').size).toBeGreaterThan(500);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
