/**
 * Field rules shared by the bring-your-own-data CSV readers (formats.ts, interactions-csv.ts): the
 * header's columns, ids, numbers and timestamps, each refused with an InputError naming the file,
 * line and field, and warnings counted by kind.
 */
import { InputError } from '../core/errors.ts';

/** Warnings counted by kind, to print one line per kind instead of one per row. */
export type Warnings = Map<string, number>;

/** Numbers below this are epoch seconds, others epoch milliseconds (1e11 s is the year 5138). */
export const EPOCH_SECONDS_BELOW = 1e11;

export function count(warnings: Warnings, what: string, by = 1): void {
  warnings.set(what, (warnings.get(what) ?? 0) + by);
}

/** The position of each required and optional column in a (lower-cased) header. */
export function headerColumns(
  header: readonly string[],
  file: string,
  required: string[],
  optional: string[],
): Record<string, number | undefined> {
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

export function requireId(value: string | undefined, file: string, line: number, field: string): string {
  if (value === undefined || value === '') throw new InputError('is empty, expected an id', { file, line, field });
  return value;
}

export function parseNumber(value: string, file: string, line: number, field: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new InputError(`"${value}" is not a number`, { file, line, field });
  return n;
}

/** Epoch milliseconds of an ISO-8601 time or of epoch seconds / milliseconds. */
export function parseTimestamp(value: string, file: string, line: number): number {
  // The common case first, without a regular expression: whole epoch seconds or milliseconds.
  let digits = value.length > 0;
  for (let k = 0; k < value.length && digits; k++) {
    const c = value.charCodeAt(k);
    digits = c >= 48 && c <= 57;
  }
  if (digits) {
    const n = Number(value);
    return n < EPOCH_SECONDS_BELOW ? n * 1000 : n;
  }
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
