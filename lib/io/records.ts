/**
 * Readers and writers of contract records: JSON Lines, CSV (header row; list fields such as
 * categories are `|`-separated) and Parquet (hyparquet), chosen by file extension. Every row is
 * validated; malformed rows become rejects with file, line, field and reason.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { parse as parseCsv } from 'csv-parse/sync';
import { parquetReadObjects } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import type { z } from 'zod';
import { InputError } from '../core/errors.ts';
import { QualityTally, validateJsonLine, validateRecord, type QualityReport, type Reject, type RowContext } from '../core/validate.ts';
import { getObjectBytes, putObjectBytes } from '../aws/s3-uri.ts';
import { readLines } from './lines.ts';
import { isS3Uri } from './store.ts';

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

/** Parses and validates the bytes of one file. `ctx` gives the file name and cross-checks (line is set per row). */
export async function parseRecords<T extends Checked>(bytes: Uint8Array, schema: z.ZodType<T>, ctx: Omit<RowContext, 'line'> & { readonly name?: string }): Promise<ReadResult<T>> {
  // `name` (default: ctx.file) picks the format; ctx.file is what rejects and the report call the file.
  const name = ctx.name ?? ctx.file;
  const format = formatOf(name);
  const data = name.endsWith('.gz') ? gunzipSync(bytes) : bytes;
  const tally = new QualityTally(ctx.file);
  const rows: T[] = [];
  const rejects: Reject[] = [];
  const take = (result: ReturnType<typeof validateRecord<T>>): void => {
    tally.add(result);
    if (result.ok) rows.push(result.row);
    else rejects.push(result.reject);
  };
  if (format === 'jsonl') {
    const text = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8');
    let line = 0;
    for (const raw of text.split('\n')) {
      line++;
      if (raw.trim() === '') continue;
      take(validateJsonLine(raw, schema, { ...ctx, line }));
    }
  } else if (format === 'csv') {
    const text = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8');
    let records: string[][];
    try {
      records = parseCsv(text, { relax_column_count: true, skip_empty_lines: true }) as string[][];
    } catch (error) {
      throw new InputError(`not valid CSV: ${(error as Error).message}`, { file: ctx.file });
    }
    const header = records[0];
    if (header === undefined) return { rows, rejects, tally };
    records.slice(1).forEach((cells, i) => {
      const record: Record<string, unknown> = {};
      header.forEach((field, c) => {
        const v = csvValue(field, cells[c] ?? '');
        if (v !== undefined) record[field] = v;
      });
      take(validateRecord(record, cells.join(','), schema, { ...ctx, line: i + 2 }));
    });
  } else {
    const buffer = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer;
    const objects = (await parquetReadObjects({ file: buffer })) as Record<string, unknown>[];
    objects.forEach((o, i) => {
      const record: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(o)) {
        if (v === null || v === undefined) continue;
        record[k] = typeof v === 'bigint' ? Number(v) : LIST_FIELDS.has(k) && typeof v === 'string' ? (v === '' ? [] : v.split('|')) : v;
      }
      take(validateRecord(record, JSON.stringify(record), schema, { ...ctx, line: i + 1 }));
    });
  }
  return { rows, rejects, tally };
}

/** Serializes records in the format of `name` (`.jsonl`, `.csv`, optionally `.gz`, or `.parquet`). */
export function encodeRecords(name: string, records: readonly Record<string, unknown>[]): Uint8Array {
  const format = formatOf(name);
  const gz = (bytes: Uint8Array): Uint8Array => (name.endsWith('.gz') ? new Uint8Array(gzipSync(bytes)) : bytes);
  if (format === 'jsonl') return gz(Buffer.from(records.map((r) => JSON.stringify(r)).join('\n') + (records.length ? '\n' : '')));
  const fields = [...new Set(records.flatMap((r) => Object.keys(r)))];
  const cell = (v: unknown): string => (v === undefined || v === null ? '' : Array.isArray(v) ? v.join('|') : String(v));
  if (format === 'csv') {
    const quote = (s: string): string => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
    return gz(Buffer.from([fields.join(','), ...records.map((r) => fields.map((f) => quote(cell(r[f]))).join(','))].join('\n') + '\n'));
  }
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
export async function readRecords<T extends Checked>(uri: string, schema: z.ZodType<T>, options: ReadOptions = {}): Promise<ReadReport<T>> {
  const { rejectsUri, ...rest } = options;
  const ctx = { ...rest, file: options.file ?? uri };
  let result: ReadResult<T>;
  if (formatOf(uri) === 'jsonl') {
    const tally = new QualityTally(ctx.file);
    const rows: T[] = [];
    const rejects: Reject[] = [];
    let line = 0;
    for await (const raw of readLines(uri)) {
      line++;
      if (raw.trim() === '') continue;
      const row = validateJsonLine(raw, schema, { ...ctx, line });
      tally.add(row);
      if (row.ok) rows.push(row.row);
      else rejects.push(row.reject);
    }
    result = { rows, rejects, tally };
  } else {
    result = await parseRecords(await readBytes(uri), schema, { ...ctx, name: uri });
  }
  const report: QualityReport = { ...result.tally.report(), file: ctx.file };
  if (rejectsUri !== undefined && result.rejects.length > 0) {
    await writeRecords(rejectsUri, result.rejects);
    report.rejectsUri = rejectsUri;
  }
  return { ...result, report };
}
