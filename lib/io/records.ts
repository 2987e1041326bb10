/**
 * Readers and writers of contract records: JSON Lines, CSV (header row; list fields such as
 * categories are `|`-separated) and Parquet (hyparquet), chosen by file extension. Every row is
 * validated; malformed rows become rejects with file, line, field and reason.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip, gunzipSync, gzipSync } from 'node:zlib';
import { parse as parseCsvStream } from 'csv-parse';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects, type AsyncBuffer } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import type { z } from 'zod';
import { DEVICES, EVENT_TYPES, ListeningEventSchema, type ListeningEvent } from '../core/contract.ts';
import { InputError } from '../core/errors.ts';
import {
  checkRejectRate,
  DuplicateFilter,
  QualityTally,
  validateJsonLine,
  validateRecord,
  type QualityReport,
  type Reject,
  type RowContext,
  type RowResult,
} from '../core/validate.ts';
import { getObjectBytes, putObjectBytes } from '../aws/s3-uri.ts';
import { EventColumnsBuilder, type EventColumns } from './event-columns.ts';
import { openReadStream, readLines } from './lines.ts';
import { isS3Uri, openStore, splitUri } from './store.ts';

export type RecordFormat = 'jsonl' | 'csv' | 'parquet';

export function formatOf(name: string): RecordFormat {
  const base = name.replace(/\.gz$/, '');
  if (base.endsWith('.jsonl') || base.endsWith('.json') || base.endsWith('.ndjson')) return 'jsonl';
  if (base.endsWith('.csv')) return 'csv';
  if (base.endsWith('.parquet')) return 'parquet';
  throw new InputError('unknown file format: expected .jsonl, .csv or .parquet (optionally .gz for jsonl/csv)', { file: name });
}

const LIST_FIELDS = new Set(['categories', 'onboardingGenres']);
const NUMBER_FIELDS = new Set(['msPlayed', 'progress', 'localHour', 'durationMs']);
/** Parquet files are decoded this many rows at a time, so a large file is never one array of objects. */
const PARQUET_CHUNK_ROWS = 50_000;

/** A CSV cell as the contract expects it: lists split on `|`, numbers parsed, empty cells absent. */
function csvValue(field: string, value: string): unknown {
  if (LIST_FIELDS.has(field)) return value === '' ? [] : value.split('|');
  if (NUMBER_FIELDS.has(field)) return value === '' ? undefined : Number.isNaN(Number(value)) ? value : Number(value);
  return value === '' ? undefined : value;
}

export interface ReadResult<T> {
  readonly rows: T[];
  readonly rejects: Reject[];
  readonly tally: QualityTally;
}

type Checked = { readonly timestamp?: string; readonly itemId?: string; readonly userId?: string };

/** One row as it comes out of a file, before validation: JSON text, or an already parsed record. */
type RawRow = { readonly line: number; readonly text: string; readonly record?: Record<string, unknown> };

async function* jsonlRows(lines: AsyncIterable<string> | Iterable<string>): AsyncGenerator<RawRow> {
  let line = 0;
  for await (const text of lines) {
    line++;
    if (text.trim() !== '') yield { line, text };
  }
}

async function* csvRows(input: Readable, file: string): AsyncGenerator<RawRow> {
  const parser = input.pipe(parseCsvStream({ relax_column_count: true, skip_empty_lines: true }));
  let header: string[] | undefined;
  let index = 0;
  try {
    for await (const cells of parser as AsyncIterable<string[]>) {
      index++;
      if (header === undefined) {
        header = cells;
        continue;
      }
      const record: Record<string, unknown> = {};
      header.forEach((field, c) => {
        const v = csvValue(field, cells[c] ?? '');
        if (v !== undefined) record[field] = v;
      });
      // Line = record number counting the header (a quoted field spanning lines is still one record).
      yield { line: index, text: cells.join(','), record };
    }
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError(`not valid CSV: ${(error as Error).message}`, { file });
  }
}

async function* parquetRows(file: AsyncBuffer | ArrayBuffer, name: string): AsyncGenerator<RawRow> {
  let metadata;
  try {
    metadata = await parquetMetadataAsync(file);
  } catch (error) {
    throw new InputError(`not valid Parquet: ${(error as Error).message}`, { file: name });
  }
  const total = Number(metadata.num_rows);
  for (let rowStart = 0; rowStart < total; rowStart += PARQUET_CHUNK_ROWS) {
    const rowEnd = Math.min(total, rowStart + PARQUET_CHUNK_ROWS);
    const objects = (await parquetReadObjects({ file, metadata, rowStart, rowEnd })) as Record<string, unknown>[];
    for (let i = 0; i < objects.length; i++) {
      const record: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(objects[i] as Record<string, unknown>)) {
        if (v === null || v === undefined) continue;
        record[k] = typeof v === 'bigint' ? Number(v) : LIST_FIELDS.has(k) && typeof v === 'string' ? (v === '' ? [] : v.split('|')) : v;
      }
      yield { line: rowStart + i + 1, text: JSON.stringify(record), record };
    }
  }
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

/** A JSON Lines row with its record parsed (once: validation reuses it); unchanged when it is not a JSON object. */
function withRecord(row: RawRow): RawRow {
  if (row.record !== undefined) return row;
  try {
    const record: unknown = JSON.parse(row.text);
    return record !== null && typeof record === 'object' && !Array.isArray(record)
      ? { ...row, record: record as Record<string, unknown> }
      : row;
  } catch {
    return row;
  }
}

function validateRaw<T extends Checked>(row: RawRow, schema: z.ZodType<T>, ctx: RowContext): RowResult<T> {
  return row.record === undefined ? validateJsonLine(row.text, schema, ctx) : validateRecord(row.record, row.text, schema, ctx);
}

/** Parses and validates the bytes of one file. `ctx` gives the file name and cross-checks (line is set per row). */
export async function parseRecords<T extends Checked>(
  bytes: Uint8Array,
  schema: z.ZodType<T>,
  ctx: Omit<RowContext, 'line'> & { readonly name?: string },
  /** `keep`: valid rows it refuses are counted, not returned (a reader that needs a slice does not hold all). */
  options: { readonly keep?: (row: T) => boolean } = {},
): Promise<ReadResult<T>> {
  // `name` (default: ctx.file) picks the format; ctx.file is what rejects and the report call the file.
  const name = ctx.name ?? ctx.file;
  const format = formatOf(name);
  const data = name.endsWith('.gz') ? gunzipSync(bytes) : bytes;
  const buffer = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const source =
    format === 'jsonl'
      ? jsonlRows(buffer.toString('utf8').split('\n'))
      : format === 'csv'
        ? csvRows(Readable.from([buffer]), ctx.file)
        : parquetRows(toArrayBuffer(data), ctx.file);
  const tally = new QualityTally(ctx.file);
  const rows: T[] = [];
  const rejects: Reject[] = [];
  for await (const raw of source) {
    const result = validateRaw(raw, schema, { ...ctx, line: raw.line });
    tally.add(result);
    if (result.ok) {
      if (options.keep === undefined || options.keep(result.row)) rows.push(result.row);
    } else rejects.push(result.reject);
  }
  return { rows, rejects, tally };
}

const EVENT_TYPE_SET: ReadonlySet<unknown> = new Set(EVENT_TYPES);
const DEVICE_SET: ReadonlySet<unknown> = new Set(DEVICES);
const EVENT_FIELD_COUNT = Object.keys(ListeningEventSchema.shape).length;
/** UTC times the fast path vouches for: a subset of what z.iso.datetime({ offset: true }) accepts (no offsets, at most ms). */
const CANONICAL_UTC = /^(\d{4})-(\d{2})-(\d{2})T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d{1,3})?Z$/;
const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function isCalendarDay(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return day <= (month === 2 && leap ? 29 : (MONTH_DAYS[month - 1] as number));
}

function isUpperAlpha(code: number): boolean {
  return code >= 65 && code <= 90;
}

function isId(v: unknown): v is string {
  return typeof v === 'string' && v.length >= 1 && v.length <= 256;
}

/**
 * The fast path of ListeningEventSchema: the event's epoch ms when `r` certainly passes the schema
 * (exactly its ten fields, each within its type and range, the timestamp a real UTC calendar time),
 * else NaN, and the caller asks zod, which names the field and reason. It may say NaN for a row zod
 * accepts (e.g. a timestamp with an offset): such rows just take the slow path. It never vouches for a
 * row zod rejects (test/io/event-fast-path.test.ts checks that on valid and invalid rows).
 */
export function fastEventTime(r: Record<string, unknown>): number {
  let fields = 0;
  for (const _ in r) fields++;
  if (fields !== EVENT_FIELD_COUNT) return Number.NaN;
  const { msPlayed, progress, localHour, country, timestamp } = r;
  if (!isId(r.userId) || !isId(r.itemId) || !EVENT_TYPE_SET.has(r.eventType) || !DEVICE_SET.has(r.device)) return Number.NaN;
  if (typeof msPlayed !== 'number' || !Number.isSafeInteger(msPlayed) || msPlayed < 0) return Number.NaN;
  if (typeof progress !== 'number' || !(progress >= 0 && progress <= 1)) return Number.NaN;
  if (typeof localHour !== 'number' || !Number.isInteger(localHour) || localHour < 0 || localHour > 23) return Number.NaN;
  if (typeof country !== 'string' || country.length !== 2 || !isUpperAlpha(country.charCodeAt(0)) || !isUpperAlpha(country.charCodeAt(1)))
    return Number.NaN;
  if (typeof timestamp !== 'string') return Number.NaN;
  const m = CANONICAL_UTC.exec(timestamp);
  if (m === null || !isCalendarDay(Number(m[1]), Number(m[2]), Number(m[3]))) return Number.NaN;
  return Date.parse(timestamp);
}

/** What a tally needs of an accepted row (no per-row allocation). */
const ACCEPTED: RowResult<never> = { ok: true, row: undefined as never };

export interface EventReadResult {
  readonly events: EventColumns;
  readonly rejects: Reject[];
  readonly tally: QualityTally;
}

/**
 * Parses and validates the listening events of one file (JSON Lines, CSV or Parquet, by name as in
 * parseRecords) into columns. Rows go through the fast path (fastEventTime, then the future-time and
 * catalog checks); a row it does not vouch for goes through zod exactly as parseRecords would, so every
 * reject names the same file, line, field and reason, and the accepted rows are the same.
 */
export async function parseEventRecords(
  bytes: Uint8Array,
  ctx: Omit<RowContext, 'line'> & { readonly name?: string },
): Promise<EventReadResult> {
  const name = ctx.name ?? ctx.file;
  const format = formatOf(name);
  const data = name.endsWith('.gz') ? gunzipSync(bytes) : bytes;
  const buffer = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const tally = new QualityTally(ctx.file);
  const rejects: Reject[] = [];
  const out = new EventColumnsBuilder(1024);
  const { now, knownItems } = ctx;
  const take = (record: Record<string, unknown>, text: () => string, line: number): void => {
    const ts = fastEventTime(record);
    if (!Number.isNaN(ts) && (now === undefined || ts <= now) && (knownItems === undefined || knownItems.has(record.itemId as string))) {
      tally.add(ACCEPTED);
      out.add(record as unknown as ListeningEvent, ts);
      return;
    }
    const result = validateRecord(record, text(), ListeningEventSchema, { ...ctx, line });
    tally.add(result);
    if (result.ok) out.add(result.row, Date.parse(result.row.timestamp));
    else rejects.push(result.reject);
  };
  if (format === 'jsonl') {
    // Lines found by indexOf rather than split: a day of a million listeners is ~200 MB of text, and
    // an array of every line beside it would double that.
    const all = buffer.toString('utf8');
    for (let start = 0, i = 0; start < all.length; i++) {
      let end = all.indexOf('\n', start);
      if (end === -1) end = all.length;
      const text = all.slice(start, end);
      start = end + 1;
      if (text.trim() === '') continue;
      let record: unknown;
      try {
        record = JSON.parse(text);
      } catch {
        record = undefined;
      }
      if (record !== null && typeof record === 'object' && !Array.isArray(record))
        take(record as Record<string, unknown>, () => text, i + 1);
      else {
        // Not an object (or not JSON): the shared validator names the reason.
        const result = validateJsonLine(text, ListeningEventSchema, { ...ctx, line: i + 1 });
        tally.add(result);
        if (result.ok) out.add(result.row, Date.parse(result.row.timestamp));
        else rejects.push(result.reject);
      }
    }
  } else {
    const source = format === 'csv' ? csvRows(Readable.from([buffer]), ctx.file) : parquetRows(toArrayBuffer(data), ctx.file);
    for await (const raw of source) {
      if (raw.record !== undefined) take(raw.record, () => raw.text, raw.line);
      else {
        const result = validateRaw(raw, ListeningEventSchema, { ...ctx, line: raw.line });
        tally.add(result);
        if (result.ok) out.add(result.row, Date.parse(result.row.timestamp));
        else rejects.push(result.reject);
      }
    }
  }
  return { events: out.finish(), rejects, tally };
}

/** The raw rows of a file at `uri` (local or s3), streamed: JSON Lines and CSV line by line (gunzipping `.gz`), Parquet in row chunks. */
async function* rowsOf(uri: string, file: string): AsyncGenerator<RawRow> {
  const format = formatOf(uri);
  if (format === 'jsonl') {
    yield* jsonlRows(readLines(uri));
  } else if (format === 'csv') {
    const raw = await openReadStream(uri);
    const input = uri.endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
    try {
      yield* csvRows(input, file);
    } finally {
      raw.destroy();
    }
  } else {
    let buffer: AsyncBuffer | ArrayBuffer;
    if (isS3Uri(uri)) buffer = toArrayBuffer(await getObjectBytes(uri));
    else {
      try {
        buffer = await asyncBufferFromFile(uri);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new InputError(`file not found: ${uri}`);
        throw error;
      }
    }
    yield* parquetRows(buffer, file);
  }
}

/** Serializes records in the format of `name` (`.jsonl`, `.csv`, optionally `.gz`, or `.parquet`). */
export function encodeRecords(name: string, records: readonly Record<string, unknown>[]): Uint8Array {
  const format = formatOf(name);
  const gz = (bytes: Uint8Array): Uint8Array => (name.endsWith('.gz') ? new Uint8Array(gzipSync(bytes)) : bytes);
  if (format === 'jsonl') return gz(Buffer.from(records.map((r) => JSON.stringify(r)).join('\n') + (records.length ? '\n' : '')));
  const fields = [...new Set(records.flatMap((r) => Object.keys(r)))];
  const cell = (v: unknown): string => (v === undefined || v === null ? '' : Array.isArray(v) ? v.join('|') : String(v));
  if (format === 'csv')
    return gz(Buffer.from(`${[fields.join(','), ...records.map((r) => fields.map((f) => csvCell(r[f])).join(','))].join('\n')}\n`));
  const columnData = fields.map((name) => {
    const numeric = records.every((r) => r[name] === undefined || typeof r[name] === 'number');
    return numeric
      ? { name, data: records.map((r) => (r[name] as number | undefined) ?? null), type: 'DOUBLE' as const }
      : { name, data: records.map((r) => (r[name] === undefined ? null : cell(r[name]))), type: 'STRING' as const };
  });
  return new Uint8Array(parquetWriteBuffer({ columnData }));
}

/** Reads a whole file (local path or s3 URI). */
export async function readBytes(uri: string): Promise<Uint8Array> {
  if (isS3Uri(uri)) return getObjectBytes(uri);
  try {
    return new Uint8Array(await readFile(uri));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new InputError(`file not found: ${uri}`);
    throw error;
  }
}

/** Writes a whole file (local path, creating folders, or s3 URI). */
export async function writeBytes(uri: string, bytes: Uint8Array | string): Promise<void> {
  if (isS3Uri(uri)) return putObjectBytes(uri, bytes);
  await mkdir(dirname(uri), { recursive: true });
  await writeFile(uri, bytes);
}

/** Writes records to `uri` in the format its extension names. */
export async function writeRecords(uri: string, records: readonly object[]): Promise<void> {
  await writeBytes(uri, encodeRecords(uri, records as readonly Record<string, unknown>[]));
}

export interface ReadOptions extends Partial<Omit<RowContext, 'line'>> {
  /** Where rejected rows go, as JSON Lines, when there are any. Default: not written. */
  readonly rejectsUri?: string;
}

export interface ReadReport<T> {
  readonly rows: T[];
  readonly rejects: Reject[];
  readonly report: QualityReport;
  /** The tally behind `report`, with one example reject per reason (for checkRejectRate). */
  readonly tally: QualityTally;
}

/**
 * Reads and validates every row of `uri` (local path or s3 URI; format by extension). JSON Lines are
 * streamed line by line. Rejects are written to `options.rejectsUri` when there are any, and the
 * report names that URI. `options.file` names the file in rejects and reports (default: `uri`).
 */
export async function readRecords<T extends Checked>(
  uri: string,
  schema: z.ZodType<T>,
  options: ReadOptions & { readonly dedupe?: boolean } = {},
): Promise<ReadReport<T>> {
  const rows: T[] = [];
  const stream = streamRecords(uri, schema, options);
  for await (const row of stream) rows.push(row);
  return { rows, rejects: stream.rejects, report: stream.report(), tally: stream.tally };
}

/** Rows of one file as they are read, with the file's quality report once iteration has finished. */
export interface RecordStream<T> extends AsyncIterable<T> {
  /** The quality report; complete after the `for await` loop ends (throws before it has started). */
  report(): QualityReport;
  /** Every rejected row so far (kept: a malformed row never disappears). */
  readonly rejects: Reject[];
  readonly tally: QualityTally;
}

export interface StreamOptions extends ReadOptions {
  /** Reject later copies of an event (same user, item, type, timestamp) within the file. Default false. */
  readonly dedupe?: boolean;
  /** Largest accepted share of rejected rows (0..1); checked when the file ends, DataQualityError above it. Default: no check. */
  readonly rejectLimit?: number;
  /**
   * For a reader that needs a slice of a large file (one listener shard of a million profiles): a row
   * whose parsed record this refuses is passed over before validation, neither returned nor counted.
   * A row it cannot judge (not an object, no such field) should be kept, so that it is validated and,
   * if bad, rejected with its line.
   */
  readonly keepRecord?: (record: Record<string, unknown>) => boolean;
}

/**
 * Streams the valid rows of `uri` (local path or s3 URI; format by extension) without holding the file
 * in memory: JSON Lines and CSV line by line, Parquet in chunks of rows. Rejects are kept (they should
 * be few) and written to `options.rejectsUri` as JSON Lines when the file ends; then `rejectLimit`,
 * if given, is checked. Iterate once.
 */
export function streamRecords<T extends Checked>(uri: string, schema: z.ZodType<T>, options: StreamOptions = {}): RecordStream<T> {
  const { rejectsUri, rejectLimit, dedupe = false, keepRecord, ...rest } = options;
  const ctx = { ...rest, file: options.file ?? uri };
  const tally = new QualityTally(ctx.file);
  const duplicates = dedupe ? new DuplicateFilter() : undefined;
  const rejects: Reject[] = [];
  let report: QualityReport | undefined;
  let started = false;
  async function* rows(): AsyncGenerator<T> {
    for await (const found of rowsOf(uri, ctx.file)) {
      const raw = keepRecord === undefined ? found : withRecord(found);
      if (keepRecord !== undefined && raw.record !== undefined && !keepRecord(raw.record)) continue;
      const rowCtx = { ...ctx, line: raw.line };
      const validated = validateRaw(raw, schema, rowCtx);
      const result = duplicates === undefined ? validated : duplicates.check(validated, rowCtx, raw.text);
      tally.add(result);
      if (result.ok) yield result.row;
      else rejects.push(result.reject);
    }
    const done: QualityReport = tally.report();
    if (rejectsUri !== undefined && rejects.length > 0) {
      await writeRecords(rejectsUri, rejects);
      done.rejectsUri = rejectsUri;
    }
    report = done;
    if (rejectLimit !== undefined) checkRejectRate(done, rejectLimit, tally.examples);
  }
  return {
    rejects,
    tally,
    report() {
      if (report !== undefined) return report;
      if (!started) throw new Error(`the report of ${ctx.file} is ready only after its rows have been read`);
      return tally.report();
    },
    [Symbol.asyncIterator]() {
      if (started) throw new Error(`${ctx.file} is already being read: a record stream can be iterated once`);
      started = true;
      return rows();
    },
  };
}

export interface WriteStreamOptions {
  /** CSV column order. Default: the keys of the first row (so optional fields should be present on it). */
  readonly fields?: readonly string[];
}

/**
 * Writes rows as they come (an async iterable, e.g. a generator) to `uri` (local or s3) as JSON Lines or
 * CSV, optionally gzipped, without holding them in memory; Parquet is columnar, so its rows are
 * collected and written at the end. Returns the number of rows written.
 */
export async function writeRecordStream(
  uri: string,
  rows: AsyncIterable<object> | Iterable<object>,
  options: WriteStreamOptions = {},
): Promise<number> {
  const format = formatOf(uri);
  let count = 0;
  if (format === 'parquet') {
    const all: object[] = [];
    for await (const row of rows) all.push(row);
    await writeRecords(uri, all);
    return all.length;
  }
  async function* text(): AsyncGenerator<string> {
    let fields = options.fields;
    for await (const row of rows) {
      const record = row as Record<string, unknown>;
      count++;
      if (format === 'jsonl') {
        yield `${JSON.stringify(record)}\n`;
        continue;
      }
      if (fields === undefined) fields = Object.keys(record);
      if (count === 1) yield `${fields.join(',')}\n`;
      yield `${fields.map((f) => csvCell(record[f])).join(',')}\n`;
    }
  }
  const chunks: AsyncIterable<string | Uint8Array> = uri.endsWith('.gz') ? gzipChunks(text()) : text();
  const { parent, name } = splitUri(uri);
  await openStore(parent).putStream(name, chunks);
  return count;
}

async function* gzipChunks(source: AsyncIterable<string>): AsyncGenerator<Uint8Array> {
  const gzip: Transform = createGzip();
  const feeding = pipeline(Readable.from(source), gzip);
  for await (const chunk of gzip as AsyncIterable<Uint8Array>) yield chunk;
  await feeding;
}

function csvCell(v: unknown): string {
  const s = v === undefined || v === null ? '' : Array.isArray(v) ? v.join('|') : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
