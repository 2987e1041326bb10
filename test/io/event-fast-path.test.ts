import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ListeningEventSchema, type ListeningEvent } from '../../lib/core/contract.ts';
import { eventAt } from '../../lib/io/event-columns.ts';
import { encodeRecords, fastEventTime, parseEventRecords, parseRecords } from '../../lib/io/records.ts';

const VALID: ListeningEvent = {
  userId: 'u1',
  itemId: 'i1',
  eventType: 'play',
  msPlayed: 1200,
  progress: 0.5,
  timestamp: '2026-09-01T10:00:00.000Z',
  device: 'mobile',
  country: 'SE',
  localHour: 11,
};

/** Values that probe each check's edges: types, ranges, formats, calendar days. */
const ODD_VALUES: Record<keyof ListeningEvent, unknown[]> = {
  userId: ['', 'x'.repeat(256), 'x'.repeat(257), 7, null, ['u1']],
  itemId: ['', 'i2', 'unknown-item', 0, false],
  eventType: ['play', 'complete', 'PLAY', 'pause', '', 3],
  msPlayed: [0, -1, 1.5, 2 ** 53, 2 ** 53 - 1, Number.NaN, '1200', null],
  progress: [0, 1, -0, 1.0000001, -0.1, '0.5', null],
  timestamp: [
    '2026-09-01T10:00:00Z',
    '2026-09-01T10:00:00.1Z',
    '2026-09-01T10:00:00.123456Z',
    '2026-09-01T10:00:00+02:00',
    '2026-09-01T10:00Z',
    '2026-09-01 10:00:00Z',
    '2026-02-29T00:00:00Z',
    '2024-02-29T00:00:00Z',
    '2100-02-29T00:00:00Z',
    '2000-02-29T00:00:00Z',
    '2026-04-31T00:00:00Z',
    '2026-13-01T00:00:00Z',
    '2026-09-01T24:00:00Z',
    '2026-09-01T23:60:00Z',
    '2030-01-01T00:00:00Z',
    'yesterday',
    1788220860000,
  ],
  device: ['tv', 'car', 'phone', '', null],
  country: ['GB', 'gb', 'S', 'SEE', 'S1', 46],
  localHour: [0, 23, 24, -1, 1.5, '11'],
};
const FIELDS = Object.keys(VALID) as (keyof ListeningEvent)[];

/** A row: the valid event with some fields replaced, removed, or an extra field added. */
const rowArb = fc
  .record({
    changes: fc.array(
      fc.constantFrom(...FIELDS).chain((field) => fc.tuple(fc.constant(field), fc.constantFrom(...ODD_VALUES[field], undefined))),
      { maxLength: 3 },
    ),
    extra: fc.option(fc.constantFrom('extra', '__proto__', 'userid'), { nil: undefined }),
  })
  .map(({ changes, extra }) => {
    const row: Record<string, unknown> = { ...VALID };
    for (const [field, value] of changes) {
      if (value === undefined) delete row[field];
      else row[field] = value;
    }
    if (extra !== undefined) Object.defineProperty(row, extra, { value: 1, enumerable: true, configurable: true, writable: true });
    return row;
  });

const ctx = { file: 'raw/events/dt=2026-09-01/part-0.jsonl', knownItems: new Set(['i1', 'i2']), now: Date.parse('2026-11-28T00:00:00Z') };

describe('the fast path of ListeningEventSchema', () => {
  it('vouches only for rows zod accepts, with the same values and the same epoch ms', () => {
    let vouched = 0;
    fc.assert(
      fc.property(rowArb, (row) => {
        const ts = fastEventTime(row);
        const parsed = ListeningEventSchema.safeParse(row);
        if (!Number.isNaN(ts)) {
          vouched++;
          expect(parsed.success).toBe(true);
          expect(parsed.data).toEqual(row);
          expect(ts).toBe(Date.parse(row.timestamp as string));
        }
      }),
      { numRuns: 3000, seed: 11 },
    );
    // Not vacuous: many generated rows are valid and take the fast path.
    expect(vouched).toBeGreaterThan(100);
  });

  it('vouches for the canonical rows the simulator writes', () => {
    const lines = readFileSync('test/fixtures/data/bad/events.jsonl', 'utf8').split('\n');
    const good = lines.flatMap((l) => {
      try {
        const r = JSON.parse(l);
        return ListeningEventSchema.safeParse(r).success && /Z$/.test(r.timestamp) ? [r] : [];
      } catch {
        return [];
      }
    });
    expect(good.length).toBeGreaterThan(0);
    for (const r of good) expect(fastEventTime(r)).toBe(Date.parse(r.timestamp));
    expect(fastEventTime({ ...VALID })).toBe(Date.parse(VALID.timestamp));
  });

  it.each(['jsonl', 'csv', 'parquet'] as const)(
    'reads a %s file of valid and invalid rows with the same rejects (file, line, field, reason, message) and rows as zod',
    async (format) => {
      const rows = fc.sample(rowArb, { numRuns: 600, seed: 5 });
      const name = `${ctx.file.replace(/\.jsonl$/, '')}.${format}`;
      // CSV holds flat values; a Parquet column has one type: keep the rows each format can hold as the same record.
      const flat = (r: Record<string, unknown>) => Object.values(r).every((v) => typeof v === 'string' || typeof v === 'number');
      const typed = (r: Record<string, unknown>) =>
        Object.entries(r).every(([k, v]) => k in VALID && typeof v === typeof VALID[k as keyof ListeningEvent]);
      const usable = format === 'jsonl' ? rows : rows.filter(format === 'csv' ? flat : typed);
      const bytes =
        format === 'jsonl'
          ? Buffer.from(`${rows.map((r) => JSON.stringify(r)).join('\n')}\nnot json\n[1,2]\n`)
          : encodeRecords(name, usable);
      const fileCtx = { ...ctx, file: name };
      const fast = await parseEventRecords(bytes, fileCtx);
      const slow = await parseRecords<ListeningEvent>(bytes, ListeningEventSchema, fileCtx);
      expect(fast.rejects).toEqual(slow.rejects);
      expect(fast.tally.report()).toEqual(slow.tally.report());
      expect(fast.events.length).toBe(slow.rows.length);
      expect(slow.rows.length).toBeGreaterThan(10);
      expect(fast.rejects.length).toBeGreaterThan(10);
      const asEpoch = (e: ListeningEvent) => ({ ...e, timestamp: Date.parse(e.timestamp) });
      expect(Array.from({ length: fast.events.length }, (_, i) => asEpoch(eventAt(fast.events, i)))).toEqual(slow.rows.map(asEpoch));
    },
  );
});
