import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CatalogItemSchema, ListeningEventSchema, type CatalogItem, type ListeningEvent } from '../../lib/core/contract.ts';
import { DataQualityError } from '../../lib/core/errors.ts';
import { checkRejectRate } from '../../lib/core/validate.ts';
import { encodeRecords, parseRecords, readRecords, writeRecords } from '../../lib/io/records.ts';

const FILE = 'test/fixtures/data/bad/events.jsonl';
const ctx = { file: FILE, knownItems: new Set(['i1', 'i2']), now: Date.parse('2026-11-28T00:00:00Z') };

describe('reading events with malformed rows', () => {
  it('sends each malformed row to rejects with its line, field and reason, and reads every good row', async () => {
    const result = await parseRecords<ListeningEvent>(readFileSync(FILE), ListeningEventSchema, ctx);
    expect(result.rows.map((r) => r.userId)).toEqual(['u1', 'u4', 'u5']);
    expect(result.rejects.map((r) => [r.line, r.reason, r.field])).toEqual([
      [2, 'bad-json', ''],
      [3, 'missing-field', 'msPlayed'],
      [4, 'wrong-type', 'msPlayed'],
      [5, 'unknown-item', 'itemId'],
      [6, 'future-timestamp', 'timestamp'],
    ]);
    expect(result.rejects.every((r) => r.file === FILE && r.raw.length > 0)).toBe(true);
    expect(result.tally.report()).toEqual({
      file: FILE, read: 8, accepted: 3, rejected: 5,
      rejectedByReason: { 'bad-json': 1, 'future-timestamp': 1, 'missing-field': 1, 'unknown-item': 1, 'wrong-type': 1 },
    });
  });

  it('fails the run when the reject rate is over the limit, naming the file, the rate and the reasons', async () => {
    const result = await parseRecords<ListeningEvent>(readFileSync(FILE), ListeningEventSchema, ctx);
    const check = () => checkRejectRate(result.tally.report(), 0.1, result.tally.examples);
    expect(check).toThrow(DataQualityError);
    expect(check).toThrow(/test\/fixtures\/data\/bad\/events\.jsonl: 62\.5% of 8 rows rejected, limit 10\.0%/);
    expect(check).toThrow(/wrong-type 1 \(line 4, field msPlayed/);
  });

  it('passes when the rate is within the limit', async () => {
    const result = await parseRecords<ListeningEvent>(readFileSync(FILE), ListeningEventSchema, ctx);
    expect(() => checkRejectRate(result.tally.report(), 0.7)).not.toThrow();
  });
});

describe('formats', () => {
  const items: CatalogItem[] = [
    { itemId: 'a', type: 'album', title: 'A, "quoted"', categories: ['jazz', 'rock'], publisher: 'p', language: 'en', publishedAt: '2026-01-01T00:00:00.000Z', durationMs: 1000 },
    { itemId: 'e', type: 'episode', title: 'E', categories: ['news'], publisher: 'p', language: 'sv', publishedAt: '2026-02-01T00:00:00.000Z', showId: 's' },
  ];
  it.each(['catalog.jsonl', 'catalog.jsonl.gz', 'catalog.csv', 'catalog.csv.gz', 'catalog.parquet'])('round-trips catalog items through %s', async (name) => {
    const bytes = encodeRecords(name, items as unknown as Record<string, unknown>[]);
    const back = await parseRecords<CatalogItem>(bytes, CatalogItemSchema, { file: name });
    expect(back.rejects).toEqual([]);
    expect(back.rows).toEqual(items);
  });
});
