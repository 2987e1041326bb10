/**
 * The streaming interactions reader of `shelves train`: fed in chunks of any size it reads what the
 * general RFC 4180 reader (readRecords) reads, row for row; bad rows are errors naming the file, the
 * row's line and the field, wherever the chunks end; nothing but weight-0 rows (counted) is left out.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseNumber, parseTimestamp, requireId } from '../../lib/byod/csv-fields.ts';
import { parseInteractionColumns, readRecords } from '../../lib/byod/formats.ts';
import { InteractionsCsvParser, type ParsedInteractionColumns, readInteractionsFile } from '../../lib/byod/interactions-csv.ts';
import { InputError } from '../../lib/core/errors.ts';
import { Rng } from '../../lib/core/rng.ts';

/** Feeds `text` to a parser `size` bytes at a time, handing back what each call left, as readInteractionsFile does. */
function parseInChunks(text: string | Uint8Array, size: number): ParsedInteractionColumns {
  const bytes = typeof text === 'string' ? new TextEncoder().encode(text) : text;
  const parser = new InteractionsCsvParser('f.csv');
  let held = new Uint8Array(0);
  for (let at = 0; ; at += size) {
    const next = bytes.subarray(at, at + size);
    const buffer = new Uint8Array(held.length + next.length);
    buffer.set(held);
    buffer.set(next, held.length);
    const last = next.length === 0;
    const used = parser.feed(buffer, last);
    if (last) return parser.finish();
    held = buffer.slice(used);
  }
}

/** The columns as the general RFC 4180 reader and the field rules give them, one record at a time. */
function reference(text: string): { userIds: string[]; itemIds: string[]; rows: [string, string, number, number][]; skipped: number } {
  let header: string[] | undefined;
  const rows: [string, string, number, number][] = [];
  let skipped = 0;
  readRecords(text, 'f.csv', (record, line) => {
    if (header === undefined) {
      header = record.map((h) => h.toLowerCase());
      return;
    }
    const col = (name: string): number => (header as string[]).indexOf(name);
    const user = requireId(record[col('user_id')], 'f.csv', line, 'user_id');
    const item = requireId(record[col('item_id')], 'f.csv', line, 'item_id');
    const ts = parseTimestamp(record[col('timestamp')] ?? '', 'f.csv', line);
    const raw = col('weight') >= 0 ? (record[col('weight')] ?? '') : '';
    const weight = raw === '' ? 1 : parseNumber(raw, 'f.csv', line, 'weight');
    if (weight === 0) skipped++;
    else rows.push([user, item, ts, weight]);
  });
  return { userIds: [...new Set(rows.map((r) => r[0]))], itemIds: [...new Set(rows.map((r) => r[1]))], rows, skipped };
}

function rowsOf({ columns: c }: ParsedInteractionColumns): [string, string, number, number][] {
  return Array.from({ length: c.user.length }, (_, r) => [
    c.userIds[c.user[r] as number] as string,
    c.itemIds[c.item[r] as number] as string,
    c.ts[r] as number,
    c.weight[r] as number,
  ]);
}

/** Where two parses differ ('none' when they do not): a cheap check for large columns. */
function firstDifference(a: ParsedInteractionColumns, b: ParsedInteractionColumns): string {
  if (a.columns.userIds.join('\n') !== b.columns.userIds.join('\n')) return 'userIds';
  if (a.columns.itemIds.join('\n') !== b.columns.itemIds.join('\n')) return 'itemIds';
  for (const key of ['user', 'item', 'ts', 'weight'] as const) {
    const x = a.columns[key];
    const y = b.columns[key];
    if (x.length !== y.length) return `${key}: ${x.length} rows against ${y.length}`;
    for (let r = 0; r < x.length; r++) if (x[r] !== y[r]) return `${key}[${r}]: ${x[r]} against ${y[r]}`;
  }
  return JSON.stringify([...a.warnings]) === JSON.stringify([...b.warnings]) ? 'none' : 'warnings';
}

const tricky = [
  '\uFEFFUser_ID, item_id ,timestamp,weight',
  'u1,i1,1714550400,1',
  '"u,2","i ""quoted""",1714550400123,2',
  '',
  '  ',
  'u1,  i2  ,2024-05-01T00:00:00Z,',
  '"u\nwith a line break",i1,1714550401,0',
  'u3,i3,1714550402.5,0.5',
  'u\u00e9,"i3" ,  1714550403 ,"3"',
].join('\r\n');

/** A seeded CSV of n rows with every kind of field the reader knows: quotes, blanks, line breaks, line ends. */
function generated(seed: number, n: number): string {
  const rng = new Rng(seed);
  const ends = ['\n', '\r\n', '\r'];
  const end = ends[rng.int(3)] as string;
  const id = (prefix: string): string => {
    const base = `${prefix}${rng.int(40)}`;
    const k = rng.int(10);
    if (k === 0) return `"${base}"`;
    if (k === 1) return ` ${base} `;
    if (k === 2) return `"${base},""x"""`;
    if (k === 3 && end !== '\r') return `"${base}\nnext"`;
    return base;
  };
  const lines = ['user_id,item_id,timestamp,weight'];
  for (let r = 0; r < n; r++) {
    if (rng.int(20) === 0) lines.push('');
    const ts = rng.int(4) === 0 ? new Date(1_700_000_000_000 + rng.int(1e9)).toISOString() : `${1_700_000_000 + rng.int(1e6)}`;
    const weight = ['', '1', '0', '2.5', '"1"'][rng.int(5)] as string;
    lines.push(`${id('u')},${id('i')},${ts},${weight}`);
  }
  return lines.join(end) + (rng.int(2) === 0 ? end : '');
}

describe('InteractionsCsvParser', () => {
  it('reads what the general RFC 4180 reader reads: quotes, escapes, line breaks, blanks, BOM, CRLF', () => {
    const parsed = parseInteractionColumns(tricky, 'f.csv');
    const expected = reference(tricky);
    expect(rowsOf(parsed)).toEqual(expected.rows);
    expect(parsed.columns.userIds).toEqual(expected.userIds);
    expect(parsed.columns.itemIds).toEqual(expected.itemIds);
    expect([...parsed.warnings]).toEqual([['rows with weight 0 skipped', 1]]);
    // The row of weight 0 names an id nowhere else: skipped rows add no id.
    expect(parsed.columns.userIds).not.toContain('u\nwith a line break');
  });

  it('numbers ids that are a prefix and a number as the table does: leading zeros, other prefixes, quoted and padded twins, large numbers', () => {
    const rng = new Rng(9);
    const shapes = [
      (k: number): string => `u${k}`,
      (k: number): string => `u0${k}`,
      (k: number): string => `${k}`,
      (k: number): string => `v${k}`,
      (k: number): string => `uu${k}`,
      (k: number): string => `"u${k}"`,
      (k: number): string => ` u${k} `,
      (k: number): string => `u${k}x`,
      (k: number): string => `u${k + 1_048_570}`, // around the array's limit
      (k: number): string => `u${k + 999_999_990}`, // 9 and 10 digits
      (k: number): string => `u${k}0000000000`,
    ];
    const lines = ['user_id,item_id,timestamp'];
    for (let r = 0; r < 3000; r++) {
      const user = (shapes[rng.int(shapes.length)] as (k: number) => string)(rng.int(25));
      const item = (shapes[rng.int(shapes.length)] as (k: number) => string)(rng.int(25));
      lines.push(`${user},${item},${1_700_000_000 + r}`);
    }
    const text = lines.join('\n');
    const expected = reference(text);
    for (const size of [13, text.length + 1]) {
      const parsed = parseInChunks(text, size);
      expect(parsed.columns.userIds).toEqual(expected.userIds);
      expect(parsed.columns.itemIds).toEqual(expected.itemIds);
      expect(rowsOf(parsed)).toEqual(expected.rows);
    }
  });

  it('gives the same columns whatever the chunk size, byte by byte up to the whole file', () => {
    const whole = parseInteractionColumns(tricky, 'f.csv');
    const length = new TextEncoder().encode(tricky).length;
    for (let size = 1; size <= length; size++) expect(parseInChunks(tricky, size), `chunks of ${size} bytes`).toEqual(whole);
  });

  it.each([1, 2, 3, 4, 5])('reads seeded files as the general reader does, in chunks of 1 to 97 bytes (seed %i)', (seed) => {
    const text = generated(seed, 300);
    const expected = reference(text);
    for (const size of [1, 7, 31, 97, text.length + 1]) {
      const parsed = parseInChunks(text, size);
      expect(rowsOf(parsed), `chunks of ${size}`).toEqual(expected.rows);
      expect(parsed.columns.userIds).toEqual(expected.userIds);
      expect(parsed.columns.itemIds).toEqual(expected.itemIds);
      // The latest time is the largest of the column's (a weight-0 row's time counts for nothing).
      expect(parsed.latest).toBe(parsed.columns.ts.reduce((a, b) => Math.max(a, b), Number.NEGATIVE_INFINITY));
      // Nothing dropped silently: every data row is a column row or a counted weight-0 row.
      expect(parsed.columns.user.length + (parsed.warnings.get('rows with weight 0 skipped') ?? 0)).toBe(
        expected.rows.length + expected.skipped,
      );
    }
  });

  it('gives the latest time of the rows kept, not of a skipped weight-0 row, in any chunking', () => {
    const text =
      'user_id,item_id,timestamp,weight\nu1,i1,1714550400,1\nu2,i1,2024-05-01T00:00:00Z,2\nu3,i2,1900000000,0\nu1,i2,1714550400123,\n';
    for (const size of [1, 5, 64, text.length + 1]) {
      const parsed = parseInChunks(text, size);
      expect([...parsed.columns.ts]).toEqual([1714550400_000, 1714521600_000, 1714550400123]);
      expect(parsed.latest, `chunks of ${size}`).toBe(1714550400123);
      // The first row's time when it is the latest.
      expect(parseInChunks('user_id,item_id,timestamp\nu,i,50\nu,j,7\n', size).latest).toBe(50_000);
    }
  });

  const bad: [string, string, RegExp][] = [
    ['a short row', 'user_id,item_id,timestamp\nu,i,1\nu,i\n', /^f\.csv:3: malformed CSV: the row has 2 fields, expected 3 as the header$/],
    ['a long row', 'user_id,item_id,timestamp\nu,i,1,extra\n', /^f\.csv:2: malformed CSV: the row has 4 fields, expected 3/],
    ['an unclosed quote', 'user_id,item_id,timestamp\nu,i,1\n"u,i,1\n', /^f\.csv:3: malformed CSV: a quoted field is not closed$/],
    ['text after a quote', 'user_id,item_id,timestamp\n"u"x,i,1\n', /^f\.csv:2: malformed CSV: text after a closing quote$/],
    ['an empty user', 'user_id,item_id,timestamp\n ,i,1\n', /^f\.csv:2, field "user_id": is empty, expected an id$/],
    ['an empty quoted item', 'user_id,item_id,timestamp\nu,"",1\n', /^f\.csv:2, field "item_id": is empty, expected an id$/],
    [
      'a bad time after a quoted line break',
      'user_id,item_id,timestamp\n"u\n\n",i,1\nu,i,soon\n',
      /^f\.csv:5, field "timestamp": "soon" is not a time/,
    ],
    ['a bad time after CRLF line ends', 'user_id,item_id,timestamp\r\nu,i,1\r\n\r\nu,i,soon\r\n', /^f\.csv:4, field "timestamp"/],
    ['a bad time after CR line ends', 'user_id,item_id,timestamp\ru,i,1\r\ru,i,soon\r', /^f\.csv:4, field "timestamp"/],
    ['a bad weight', 'user_id,item_id,timestamp,weight\nu,i,1,heavy\n', /^f\.csv:2, field "weight": "heavy" is not a number$/],
    [
      'a negative weight',
      'user_id,item_id,timestamp,weight\nu,i,1,-3\n',
      /^f\.csv:2, field "weight": weight is -3, expected a number >= 0$/,
    ],
    ['a missing column', 'user,item_id,timestamp\nu,i,1\n', /^f\.csv:1, field "user_id": header is "user,item_id,timestamp"/],
    ['no rows', 'user_id,item_id,timestamp\n\n', /^f\.csv: no interaction rows after the header$/],
    ['only weight-0 rows', 'user_id,item_id,timestamp,weight\nu,i,1,0\n', /^f\.csv: no interaction rows after the header$/],
    ['nothing', '\uFEFF\n\n', /^f\.csv: the file is empty, expected a CSV header line$/],
  ];
  it.each(bad)('refuses %s with an InputError naming the file, line and field, in any chunking', (_, text, message) => {
    for (const size of [1, 2, 5, 64]) {
      let error: unknown;
      try {
        parseInChunks(text, size);
      } catch (e) {
        error = e;
      }
      expect(error, `chunks of ${size}`).toBeInstanceOf(InputError);
      expect((error as Error).message, `chunks of ${size}`).toMatch(message);
    }
  });
});

describe('readInteractionsFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'interactions-csv-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('streams a file of several chunks into the columns the whole text gives, showing every byte once', () => {
    const rows = Array.from(
      { length: 80_000 },
      (_, r) => `user-${(r * 31) % 9973},item-${(r * 7) % 5003},${1_700_000_000 + r},${1 + (r % 3)}`,
    );
    const text = `user_id,item_id,timestamp,weight\n${rows.join('\n')}\n`;
    expect(text.length).toBeGreaterThan(2 << 20);
    const file = join(dir, 'big.csv');
    writeFileSync(file, text);
    const hash = createHash('sha256');
    const streamed = readInteractionsFile(file, (chunk) => hash.update(chunk));
    expect(hash.digest('hex')).toBe(createHash('sha256').update(text).digest('hex'));
    expect(firstDifference(streamed, parseInteractionColumns(text, file))).toBe('none');
    expect(streamed.columns.userIds).toHaveLength(9973);
    expect(streamed.columns.user).toHaveLength(80_000);
    expect(streamed.latest).toBe(1_700_000_000_000 + 79_999_000);
  });

  it('reads a quoted field longer than its buffer', () => {
    const long = 'x'.repeat(3 << 20);
    const file = join(dir, 'long.csv');
    writeFileSync(file, `user_id,item_id,timestamp\n"${long}",i,1\nu,i,2\n`);
    expect(readInteractionsFile(file).columns.userIds).toEqual([long, 'u']);
  });

  it('names a missing file', () => {
    expect(() => readInteractionsFile(join(dir, 'nope.csv'))).toThrow(/nope\.csv: no such file/);
  });
});
