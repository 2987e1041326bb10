/**
 * Readers and writers of contract records: JSON Lines, CSV (header row; list fields such as
 * categories are `|`-separated) and Parquet (hyparquet), chosen by file extension. Every row is
 * validated; malformed rows become rejects with file, line, field and reason.
 */
import { gunzipSync } from 'node:zlib';
import { parse as parseCsv } from 'csv-parse/sync';
import { parquetReadObjects } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import type { z } from 'zod';
import { InputError } from '../core/errors.ts';
import { QualityTally, validateJsonLine, validateRecord, type Reject, type RowContext } from '../core/validate.ts';

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
export async function readRecords<T extends Checked>(bytes: Uint8Array, schema: z.ZodType<T>, ctx: Omit<RowContext, 'line'>): Promise<ReadResult<T>> {
  const format = formatOf(ctx.file);
  const data = ctx.file.endsWith('.gz') ? gunzipSync(bytes) : bytes;
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

/** Serializes records in the format of `name`. */
export function writeRecords(name: string, records: readonly Record<string, unknown>[]): Uint8Array {
  const format = formatOf(name);
  if (format === 'jsonl') return Buffer.from(records.map((r) => JSON.stringify(r)).join('\n') + (records.length ? '\n' : ''));
  const fields = [...new Set(records.flatMap((r) => Object.keys(r)))];
  const cell = (v: unknown): string => (v === undefined || v === null ? '' : Array.isArray(v) ? v.join('|') : String(v));
  if (format === 'csv') {
    const quote = (s: string): string => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
    return Buffer.from([fields.join(','), ...records.map((r) => fields.map((f) => quote(cell(r[f]))).join(','))].join('\n') + '\n');
  }
  const columnData = fields.map((name) => {
    const numeric = records.every((r) => r[name] === undefined || typeof r[name] === 'number');
    return numeric
      ? { name, data: records.map((r) => (r[name] as number | undefined) ?? null), type: 'DOUBLE' as const }
      : { name, data: records.map((r) => (r[name] === undefined ? null : cell(r[name]))), type: 'STRING' as const };
  });
  return new Uint8Array(parquetWriteBuffer({ columnData }));
}
