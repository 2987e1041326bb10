import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CatalogItemSchema, ListeningEventSchema, type CatalogItem, type ListeningEvent } from '../../lib/core/contract.ts';
import { DataQualityError } from '../../lib/core/errors.ts';
import { checkRejectRate } from '../../lib/core/validate.ts';
import { encodeRecords, parseRecords, readRecords, streamRecords, writeRecordStream } from '../../lib/io/records.ts';

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
      file: FILE,
      read: 8,
      accepted: 3,
      rejected: 5,
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
    {
      itemId: 'a',
      type: 'album',
      title: 'A, "quoted"',
      categories: ['jazz', 'rock'],
      publisher: 'p',
      language: 'en',
      publishedAt: '2026-01-01T00:00:00.000Z',
      durationMs: 1000,
    },
    {
      itemId: 'e',
      type: 'episode',
      title: 'E',
      categories: ['news'],
      publisher: 'p',
      language: 'sv',
      publishedAt: '2026-02-01T00:00:00.000Z',
      showId: 's',
    },
  ];
  it.each(['catalog.jsonl', 'catalog.jsonl.gz', 'catalog.csv', 'catalog.csv.gz', 'catalog.parquet'])(
    'round-trips catalog items through %s',
    async (name) => {
      const bytes = encodeRecords(name, items as unknown as Record<string, unknown>[]);
      const back = await parseRecords<CatalogItem>(bytes, CatalogItemSchema, { file: name });
      expect(back.rejects).toEqual([]);
      expect(back.rows).toEqual(items);
    },
  );
});

describe('streaming files', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shelves-records-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const events: ListeningEvent[] = Array.from({ length: 300 }, (_, i) => ({
    userId: `u${i % 7}`,
    itemId: `i${i % 11}`,
    eventType: i % 5 === 0 ? 'resume' : 'play',
    msPlayed: i * 1000,
    progress: (i % 10) / 10,
    timestamp: new Date(Date.UTC(2026, 8, 1) + i * 60_000).toISOString(),
    device: 'mobile',
    country: 'SE',
    localHour: i % 24,
  }));
  async function* generate(): AsyncGenerator<ListeningEvent> {
    for (const e of events) yield e;
  }

  it.each(['events.jsonl', 'events.jsonl.gz', 'events.csv', 'events.csv.gz', 'events.parquet'])(
    'writes a generator of rows to %s and streams them back',
    async (name) => {
      const uri = join(dir, name);
      expect(await writeRecordStream(uri, generate())).toBe(300);
      const stream = streamRecords<ListeningEvent>(uri, ListeningEventSchema, { file: name });
      const back: ListeningEvent[] = [];
      for await (const row of stream) back.push(row);
      expect(back).toEqual(events);
      expect(stream.report()).toEqual({ file: name, read: 300, accepted: 300, rejected: 0, rejectedByReason: {} });
    },
  );

  it('writes JSON Lines byte for byte as one JSON object per line', async () => {
    const uri = join(dir, 'plain.jsonl.gz');
    await writeRecordStream(uri, events.slice(0, 2));
    expect(gunzipSync(await readFile(uri)).toString()).toBe(
      events
        .slice(0, 2)
        .map((e) => `${JSON.stringify(e)}\n`)
        .join(''),
    );
  });

  it('streams the same rows and rejects as the whole-file reader, and writes the rejects file at the end', async () => {
    const rejectsUri = join(dir, 'bad.rejects.jsonl');
    const stream = streamRecords<ListeningEvent>(FILE, ListeningEventSchema, { ...ctx, rejectsUri });
    const rows: ListeningEvent[] = [];
    for await (const row of stream) rows.push(row);
    const whole = await parseRecords<ListeningEvent>(readFileSync(FILE), ListeningEventSchema, ctx);
    expect(rows).toEqual(whole.rows);
    expect(stream.rejects).toEqual(whole.rejects);
    expect(stream.report()).toEqual({ ...whole.tally.report(), rejectsUri });
    const written = (await readFile(rejectsUri, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { line: number; reason: string; raw: string });
    expect(written.map((r) => [r.line, r.reason])).toEqual(whole.rejects.map((r) => [r.line, r.reason]));
    expect(written[0]?.raw).toBe(readFileSync(FILE, 'utf8').split('\n')[1]);
  });

  it('throws DataQualityError once the file ends when the reject rate is over the limit', async () => {
    const stream = streamRecords<ListeningEvent>(FILE, ListeningEventSchema, { ...ctx, rejectLimit: 0.5 });
    const seen: string[] = [];
    const drain = async (): Promise<void> => {
      for await (const row of stream) seen.push(row.userId);
    };
    await expect(drain()).rejects.toThrow(/62\.5% of 8 rows rejected, limit 50\.0%: .*bad-json 1 \(line 2/);
    expect(seen).toEqual(['u1', 'u4', 'u5']);
  });

  it('passes over rows keepRecord refuses, and still rejects by its line a row it cannot judge', async () => {
    const stream = streamRecords<ListeningEvent>(FILE, ListeningEventSchema, {
      ...ctx,
      keepRecord: (r) => typeof r.userId !== 'string' || r.userId !== 'u1',
    });
    const rows: ListeningEvent[] = [];
    for await (const row of stream) rows.push(row);
    const whole = await parseRecords<ListeningEvent>(readFileSync(FILE), ListeningEventSchema, ctx);
    // u1's valid row is not returned; every other row is as the whole-file reader has it.
    expect(whole.rows.some((r) => r.userId === 'u1')).toBe(true);
    expect(rows).toEqual(whole.rows.filter((r) => r.userId !== 'u1'));
    // u1's broken JSON (line 2) has no record to judge: it is still rejected, with its line.
    expect(whole.rejects.some((r) => r.line === 2)).toBe(true);
    expect(stream.rejects.map((r) => [r.line, r.reason])).toEqual(whole.rejects.map((r) => [r.line, r.reason]));
  });

  it('rejects a second copy of an event as a duplicate naming the first line, when asked to', async () => {
    const uri = join(dir, 'twice.jsonl');
    await writeRecordStream(uri, [events[0], events[1], events[0], { ...events[0], eventType: 'skip' }] as ListeningEvent[]);
    const plain = await readRecords<ListeningEvent>(uri, ListeningEventSchema);
    expect(plain.rows).toHaveLength(4);
    const deduped = await readRecords<ListeningEvent>(uri, ListeningEventSchema, { dedupe: true });
    expect(deduped.rows).toEqual([events[0], events[1], { ...events[0], eventType: 'skip' }]);
    expect(deduped.rejects.map((r) => [r.line, r.reason, r.message])).toEqual([
      [3, 'duplicate', 'same userId, itemId, eventType and timestamp as line 1'],
    ]);
    expect(deduped.report.rejectedByReason).toEqual({ duplicate: 1 });
  });

  it('has no report before its rows are read', () => {
    expect(() => streamRecords(FILE, ListeningEventSchema).report()).toThrow(/only after its rows have been read/);
  });
});

describe('parseRecords with keep', () => {
  it('returns only the valid rows keep accepts, and still counts and rejects every row', async () => {
    const event = (userId: string) => ({
      userId,
      itemId: 'i1',
      eventType: 'play',
      msPlayed: 1000,
      progress: 0.5,
      timestamp: '2026-10-01T10:00:00Z',
      device: 'mobile',
      country: 'SE',
      localHour: 10,
    });
    const lines = [event('a'), event('b'), { ...event('c'), country: 'sweden' }, event('a')].map((e) => JSON.stringify(e));
    const bytes = new TextEncoder().encode(`${lines.join('\n')}\n`);
    const result = await parseRecords<ListeningEvent>(bytes, ListeningEventSchema, { file: 'e.jsonl' }, { keep: (e) => e.userId === 'a' });
    expect(result.rows.map((e) => e.userId)).toEqual(['a', 'a']);
    expect(result.rejects).toHaveLength(1);
    expect(result.tally.report()).toMatchObject({ read: 4, accepted: 3, rejected: 1 });
  });
});
