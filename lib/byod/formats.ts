/**
 * The CSV formats of the bring-your-own-data CLI (`shelves train` / `shelves recommend`).
 *
 * - interactions: header `user_id,item_id,timestamp[,weight]`; timestamp is ISO-8601 or epoch
 *   seconds / milliseconds (numbers below 1e11 are seconds); weight defaults to 1, must be >= 0,
 *   and rows of weight 0 are skipped with a counted warning. Every row is a positive.
 * - features: header `user_id,feature[,value]` or `item_id,feature[,value]`; value defaults to 1.
 * - id lists (users, candidates): one id per line; an optional header `user_id` / `item_id`; blank
 *   lines ignored; duplicates skipped with a counted warning.
 * Structural problems (empty file, missing header, wrong column count, empty id, bad number) throw
 * an InputError naming the file, line and field.
 */
import { CsvError, parse } from 'csv-parse/sync';
import { InputError } from '../core/errors.ts';
import type { Feature, Interaction } from '../core/models/recommender.ts';

/** Warnings counted by kind, to print one line per kind instead of one per row. */
export type Warnings = Map<string, number>;

export interface ParsedInteractions {
  readonly interactions: Interaction[];
  readonly warnings: Warnings;
}

export interface ParsedFeatures {
  readonly rows: Map<string, Feature[]>;
  readonly warnings: Warnings;
}

const EPOCH_SECONDS_BELOW = 1e11;

/** Parses an interactions CSV (see the module comment). */
export function parseInteractionsCsv(text: string, file: string): ParsedInteractions {
  const { header, rows } = readCsv(text, file);
  const col = columns(header, file, ['user_id', 'item_id', 'timestamp'], ['weight']);
  const interactions: Interaction[] = [];
  const warnings: Warnings = new Map();
  for (const { record, line } of rows) {
    const userId = requireId(record[col.user_id as number], file, line, 'user_id');
    const itemId = requireId(record[col.item_id as number], file, line, 'item_id');
    const ts = parseTimestamp(record[col.timestamp as number] ?? '', file, line);
    let weight = 1;
    if (col.weight !== undefined && (record[col.weight] ?? '') !== '') {
      weight = parseNumber(record[col.weight] ?? '', file, line, 'weight');
      if (weight < 0) throw new InputError(`weight is ${weight}, expected a number >= 0`, { file, line, field: 'weight' });
      if (weight === 0) {
        count(warnings, 'rows with weight 0 skipped');
        continue;
      }
    }
    interactions.push({ userId, itemId, ts, weight });
  }
  if (interactions.length === 0) throw new InputError('no interaction rows after the header', { file });
  return { interactions, warnings };
}

/** Parses a user or item features CSV; `side` names the id column expected. */
export function parseFeaturesCsv(text: string, file: string, side: 'user' | 'item'): ParsedFeatures {
  const idColumn = `${side}_id`;
  const { header, rows } = readCsv(text, file);
  const col = columns(header, file, [idColumn, 'feature'], ['value']);
  const out = new Map<string, Feature[]>();
  const warnings: Warnings = new Map();
  for (const { record, line } of rows) {
    const id = requireId(record[col[idColumn] as number], file, line, idColumn);
    const name = requireId(record[col.feature as number], file, line, 'feature');
    let value = 1;
    if (col.value !== undefined && (record[col.value] ?? '') !== '') value = parseNumber(record[col.value] ?? '', file, line, 'value');
    if (value === 0) {
      count(warnings, 'feature rows with value 0 skipped');
      continue;
    }
    let list = out.get(id);
    if (list === undefined) out.set(id, (list = []));
    list.push([name, value]);
  }
  if (out.size === 0) throw new InputError('no feature rows after the header', { file });
  return { rows: out, warnings };
}

/** Parses a list of ids, one per line, with an optional header naming `headerName`. */
export function parseIdList(text: string, file: string, headerName: string): { ids: string[]; warnings: Warnings } {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const ids: string[] = [];
  const seen = new Set<string>();
  const warnings: Warnings = new Map();
  lines.forEach((raw, i) => {
    const id = raw.trim();
    if (id === '' || (i === 0 && id === headerName)) return;
    if (id.includes(','))
      throw new InputError(`"${id}" contains a comma, expected one id per line`, { file, line: i + 1, field: headerName });
    if (seen.has(id)) {
      count(warnings, 'duplicate ids skipped');
      return;
    }
    seen.add(id);
    ids.push(id);
  });
  if (ids.length === 0) throw new InputError('no ids in the file', { file });
  return { ids, warnings };
}

/** Formats counted warnings as lines for stderr, one per kind. */
export function formatWarnings(file: string, warnings: Warnings): string[] {
  return [...warnings].map(([what, n]) => `warning: ${file}: ${n} ${what}`);
}

export function count(warnings: Warnings, what: string, by = 1): void {
  warnings.set(what, (warnings.get(what) ?? 0) + by);
}

function readCsv(text: string, file: string): { header: string[]; rows: { record: string[]; line: number }[] } {
  if (text.trim() === '') throw new InputError('the file is empty, expected a CSV header line', { file });
  let parsed: { record: string[]; info: { lines: number } }[];
  try {
    parsed = parse(text, { bom: true, trim: true, skip_empty_lines: true, info: true }) as unknown as {
      record: string[];
      info: { lines: number };
    }[];
  } catch (error) {
    if (error instanceof CsvError) {
      const line = (error as CsvError & { lines?: number }).lines;
      throw new InputError(`malformed CSV: ${error.message.replace(/^[^:]*:\s*/, '')}`, line !== undefined ? { file, line } : { file });
    }
    throw error;
  }
  const [first, ...rest] = parsed;
  if (first === undefined) throw new InputError('the file is empty, expected a CSV header line', { file });
  return { header: first.record.map((h) => h.toLowerCase()), rows: rest.map((r) => ({ record: r.record, line: r.info.lines })) };
}

function columns(header: string[], file: string, required: string[], optional: string[]): Record<string, number | undefined> {
  const out: Record<string, number | undefined> = {};
  for (const name of required) {
    const at = header.indexOf(name);
    if (at < 0) {
      throw new InputError(
        `header is "${header.join(',')}", expected columns ${[...required, ...optional.map((o) => `[${o}]`)].join(',')}`,
        { file, line: 1, field: name },
      );
    }
    out[name] = at;
  }
  for (const name of optional) {
    const at = header.indexOf(name);
    if (at >= 0) out[name] = at;
  }
  return out;
}

function requireId(value: string | undefined, file: string, line: number, field: string): string {
  if (value === undefined || value === '') throw new InputError('is empty, expected an id', { file, line, field });
  return value;
}

function parseNumber(value: string, file: string, line: number, field: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new InputError(`"${value}" is not a number`, { file, line, field });
  return n;
}

function parseTimestamp(value: string, file: string, line: number): number {
  if (/^\d+(\.\d+)?$/.test(value)) {
    const n = Number(value);
    return Math.round(n < EPOCH_SECONDS_BELOW ? n * 1000 : n);
  }
  const ms = Date.parse(value);
  if (value === '' || Number.isNaN(ms)) {
    throw new InputError(`"${value}" is not a time, expected ISO-8601 (2024-05-01T12:00:00Z) or epoch seconds/milliseconds`, {
      file,
      line,
      field: 'timestamp',
    });
  }
  return ms;
}
