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
import { InputError } from '../core/errors.ts';
import type { InteractionColumns } from '../core/models/hybrid/problem.ts';
import type { Feature, Interaction } from '../core/models/recommender.ts';
import { count, headerColumns, parseNumber, requireId, type Warnings } from './csv-fields.ts';
import { InteractionsCsvParser, type ParsedInteractionColumns } from './interactions-csv.ts';

export { count, type ParsedInteractionColumns, type Warnings };

export interface ParsedInteractions {
  readonly interactions: Interaction[];
  readonly warnings: Warnings;
}

export interface ParsedFeatures {
  readonly rows: Map<string, Feature[]>;
  readonly warnings: Warnings;
}

const UTF8_ENCODER = new TextEncoder();

/**
 * Parses an interactions CSV (see the module comment) held in memory into typed columns over id
 * vocabularies (see interactions-csv.ts; `shelves train` streams the file through the same parser).
 */
export function parseInteractionColumns(input: string | Uint8Array, file: string): ParsedInteractionColumns {
  const parser = new InteractionsCsvParser(file);
  parser.feed(typeof input === 'string' ? UTF8_ENCODER.encode(input) : input, true);
  return parser.finish();
}

/** Parses an interactions CSV into one object per row (small files; `shelves train` reads columns). */
export function parseInteractionsCsv(text: string, file: string): ParsedInteractions {
  const { columns: c, warnings } = parseInteractionColumns(text, file);
  return { interactions: interactionsOf(c), warnings };
}

/** One object per interaction row, for models that take them. */
export function interactionsOf(c: InteractionColumns): Interaction[] {
  return Array.from({ length: c.user.length }, (_, r) => ({
    userId: c.userIds[c.user[r] as number] as string,
    itemId: c.itemIds[c.item[r] as number] as string,
    ts: c.ts[r] as number,
    weight: c.weight[r] as number,
  }));
}

/**
 * Calls `onRecord` for each record of a CSV text (RFC 4180: quoted fields with "" escapes and line
 * breaks; fields trimmed; a byte-order mark and empty lines skipped), with the record's first line
 * number. The `record` array is reused between calls. A record whose field count differs from the
 * first record's, or an unclosed quote, is a malformed-CSV InputError naming the line.
 */
export function readRecords(text: string, file: string, onRecord: (record: string[], line: number) => void): void {
  const len = text.length;
  let at = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  let width = -1;
  const record: string[] = [];
  while (at < len) {
    const startLine = line;
    record.length = 0;
    let blank = true;
    for (;;) {
      // One field.
      while (at < len && (text.charCodeAt(at) === 32 || text.charCodeAt(at) === 9)) at++;
      let value: string;
      if (at < len && text.charCodeAt(at) === 34) {
        let parts = '';
        let from = ++at;
        for (;;) {
          const q = text.indexOf('"', at);
          if (q < 0) throw new InputError('malformed CSV: a quoted field is not closed', { file, line: startLine });
          for (let k = at; k < q; k++) if (text.charCodeAt(k) === 10) line++;
          if (text.charCodeAt(q + 1) === 34) {
            parts += text.slice(from, q + 1);
            at = from = q + 2;
            continue;
          }
          parts += text.slice(from, q);
          at = q + 1;
          break;
        }
        while (at < len && (text.charCodeAt(at) === 32 || text.charCodeAt(at) === 9)) at++;
        value = parts;
        blank = false;
      } else {
        const from = at;
        while (at < len) {
          const c = text.charCodeAt(at);
          if (c === 44 || c === 10 || c === 13) break;
          at++;
        }
        let to = at;
        while (to > from && (text.charCodeAt(to - 1) === 32 || text.charCodeAt(to - 1) === 9)) to--;
        value = text.slice(from, to);
        if (to > from) blank = false;
      }
      record.push(value);
      const c = at < len ? text.charCodeAt(at) : 10;
      if (c === 44) {
        at++;
        blank = false;
        continue;
      }
      if (c === 13) at++;
      if (at < len && text.charCodeAt(at) === 10) at++;
      else if (c !== 10 && c !== 13) throw new InputError('malformed CSV: text after a closing quote', { file, line: startLine });
      line++;
      break;
    }
    if (blank && record.length === 1) continue;
    if (width < 0) width = record.length;
    else if (record.length !== width)
      throw new InputError(`malformed CSV: the row has ${record.length} fields, expected ${width} as the header`, {
        file,
        line: startLine,
      });
    onRecord(record, startLine);
  }
}

/** Parses a user or item features CSV; `side` names the id column expected. */
export function parseFeaturesCsv(text: string, file: string, side: 'user' | 'item'): ParsedFeatures {
  const idColumn = `${side}_id`;
  const { header, rows } = readCsv(text, file);
  const col = headerColumns(header, file, [idColumn, 'feature'], ['value']);
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

function readCsv(text: string, file: string): { header: string[]; rows: { record: string[]; line: number }[] } {
  if (text.trim() === '') throw new InputError('the file is empty, expected a CSV header line', { file });
  const all: { record: string[]; line: number }[] = [];
  readRecords(text, file, (record, line) => {
    all.push({ record: record.slice(), line });
  });
  const [first, ...rest] = all;
  if (first === undefined) throw new InputError('the file is empty, expected a CSV header line', { file });
  return { header: first.record.map((h) => h.toLowerCase()), rows: rest };
}
