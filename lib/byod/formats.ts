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
const UTF8 = new TextDecoder();
const UTF8_ENCODER = new TextEncoder();

/** Interactions read into columns (no object per row), with counted warnings. */
export interface ParsedInteractionColumns {
  readonly columns: InteractionColumns;
  readonly warnings: Warnings;
}

/**
 * Parses an interactions CSV (see the module comment) in one pass over the text, into typed columns
 * over id vocabularies: a million rows cost their columns (24 bytes a row) and one string per
 * distinct id, not a million objects.
 */
export function parseInteractionColumns(input: string | Uint8Array, file: string): ParsedInteractionColumns {
  // Plain CSV (no quotes, no blanks to trim: what programs write) has a fast reader over the bytes;
  // the general RFC 4180 reader handles the rest. Both give the same columns, warnings and errors.
  const bytes = typeof input === 'string' ? UTF8_ENCODER.encode(input) : input;
  if (bytes.indexOf(34) < 0 && bytes.indexOf(9) < 0 && bytes.indexOf(32) < 0) {
    const plain = parsePlainInteractions(bytes, file);
    if (plain !== undefined) return plain;
  }
  const text = typeof input === 'string' ? input : UTF8.decode(input);
  const warnings: Warnings = new Map();
  const userIndex = new Map<string, number>();
  const itemIndex = new Map<string, number>();
  let capacity = 1024;
  let user = new Int32Array(capacity);
  let item = new Int32Array(capacity);
  let ts = new Float64Array(capacity);
  let weight = new Float64Array(capacity);
  let n = 0;
  let col: Record<string, number | undefined> | undefined;
  readRecords(text, file, (record, line) => {
    if (col === undefined) {
      col = columns(
        record.map((h) => h.toLowerCase()),
        file,
        ['user_id', 'item_id', 'timestamp'],
        ['weight'],
      );
      return;
    }
    const userId = requireId(record[col.user_id as number], file, line, 'user_id');
    const itemId = requireId(record[col.item_id as number], file, line, 'item_id');
    const time = parseTimestamp(record[col.timestamp as number] ?? '', file, line);
    let w = 1;
    if (col.weight !== undefined && (record[col.weight] ?? '') !== '') {
      w = parseNumber(record[col.weight] ?? '', file, line, 'weight');
      if (w < 0) throw new InputError(`weight is ${w}, expected a number >= 0`, { file, line, field: 'weight' });
      if (w === 0) {
        count(warnings, 'rows with weight 0 skipped');
        return;
      }
    }
    if (n === capacity) {
      capacity *= 2;
      user = grow(user, capacity);
      item = grow(item, capacity);
      ts = grow(ts, capacity);
      weight = grow(weight, capacity);
    }
    let u = userIndex.get(userId);
    if (u === undefined) userIndex.set(userId, (u = userIndex.size));
    let i = itemIndex.get(itemId);
    if (i === undefined) itemIndex.set(itemId, (i = itemIndex.size));
    user[n] = u;
    item[n] = i;
    ts[n] = time;
    weight[n] = w;
    n++;
  });
  if (col === undefined) throw new InputError('the file is empty, expected a CSV header line', { file });
  if (n === 0) throw new InputError('no interaction rows after the header', { file });
  return {
    columns: {
      userIds: [...userIndex.keys()],
      itemIds: [...itemIndex.keys()],
      user: user.slice(0, n),
      item: item.slice(0, n),
      ts: ts.slice(0, n),
      weight: weight.slice(0, n),
    },
    warnings,
  };
}

/**
 * The fast reader of parseInteractionColumns, for bytes without quotes, tabs or spaces: one scan of
 * the characters, ids interned by a hash of their characters (a string is made only for a new id),
 * whole-number timestamps read digit by digit. Undefined when the header is not plain.
 */
function parsePlainInteractions(bytes: Uint8Array, file: string): ParsedInteractionColumns | undefined {
  const len = bytes.length;
  let at = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  let line = 1;
  // Skip blank lines before the header.
  while (at < len && ((bytes[at] as number) === 10 || (bytes[at] as number) === 13)) {
    if ((bytes[at] as number) === 10) line++;
    at++;
  }
  if (at >= len) return undefined;
  let eol = bytes.indexOf(10, at);
  if (eol < 0) eol = len;
  const headerLine = line;
  const header = UTF8.decode(bytes.subarray(at, eol > at && bytes[eol - 1] === 13 ? eol - 1 : eol))
    .split(',')
    .map((h) => h.toLowerCase());
  const col = columns(header, file, ['user_id', 'item_id', 'timestamp'], ['weight']);
  if (header.length === 0 || headerLine < 1) return undefined;
  const width = header.length;
  const cUser = col.user_id as number;
  const cItem = col.item_id as number;
  const cTime = col.timestamp as number;
  const cWeight = col.weight ?? -1;
  at = eol + 1;
  line++;
  const users = new Interner();
  const items = new Interner();
  const warnings: Warnings = new Map();
  let capacity = Math.max(1024, Math.ceil(len / 24));
  let user = new Int32Array(capacity);
  let item = new Int32Array(capacity);
  let ts = new Float64Array(capacity);
  let weight = new Float64Array(capacity);
  let n = 0;
  while (at < len) {
    let c = bytes[at] as number;
    if (c === 10 || c === 13) {
      // A blank line.
      if (c === 10) line++;
      at++;
      continue;
    }
    let u = -1;
    let i = -1;
    let time = 0;
    let w = 1;
    let field = 0;
    for (;;) {
      const from = at;
      let hash = 0x811c9dc5;
      let digits = 0;
      let value = 0;
      c = at < len ? (bytes[at] as number) : 10;
      while (c !== 44 && c !== 10 && c !== 13) {
        hash = Math.imul(hash ^ c, 0x01000193);
        if (c >= 48 && c <= 57) {
          value = value * 10 + (c - 48);
          digits++;
        } else digits = -1_000_000; // not a whole number (an int, not -Infinity: keeps the loop's arithmetic in small integers)
        at++;
        c = at < len ? (bytes[at] as number) : 10;
      }
      if (field === cUser) {
        if (at === from) requireId('', file, line, 'user_id');
        u = users.intern(bytes, from, at, hash);
      } else if (field === cItem) {
        if (at === from) requireId('', file, line, 'item_id');
        i = items.intern(bytes, from, at, hash);
      } else if (field === cTime) {
        // Whole numbers of up to 15 digits are exact in a double; anything else goes the slow way.
        time =
          digits > 0 && digits <= 15
            ? value < EPOCH_SECONDS_BELOW
              ? value * 1000
              : value
            : parseTimestamp(UTF8.decode(bytes.subarray(from, at)), file, line);
      } else if (field === cWeight && at > from) {
        w = parseNumber(UTF8.decode(bytes.subarray(from, at)), file, line, 'weight');
      }
      field++;
      if (c === 44) {
        at++;
        continue;
      }
      break;
    }
    if (field !== width)
      throw new InputError(`malformed CSV: the row has ${field} fields, expected ${width} as the header`, { file, line });
    if (c === 13) at++;
    if (at < len && (bytes[at] as number) === 10) at++;
    if (w < 0) throw new InputError(`weight is ${w}, expected a number >= 0`, { file, line, field: 'weight' });
    if (w === 0) {
      count(warnings, 'rows with weight 0 skipped');
      line++;
      continue;
    }
    if (n === capacity) {
      capacity *= 2;
      user = grow(user, capacity);
      item = grow(item, capacity);
      ts = grow(ts, capacity);
      weight = grow(weight, capacity);
    }
    user[n] = u;
    item[n] = i;
    ts[n] = time;
    weight[n] = w;
    n++;
    line++;
  }
  if (n === 0) throw new InputError('no interaction rows after the header', { file });
  return {
    columns: {
      userIds: users.ids,
      itemIds: items.ids,
      user: user.slice(0, n),
      item: item.slice(0, n),
      ts: ts.slice(0, n),
      weight: weight.slice(0, n),
    },
    warnings,
  };
}

/** Numbers distinct ids in order of first appearance, by an open-addressing table over a hash of their bytes. */
class Interner {
  readonly ids: string[] = [];
  /** Where each id's bytes first appeared, to compare candidates byte by byte without making strings. */
  private starts = new Int32Array(0);
  private ends = new Int32Array(0);
  private hashes = new Int32Array(0);
  private slots = new Int32Array(1 << 12).fill(-1);

  /** The number of the id bytes[from .. to-1], whose FNV-1a hash is `hash`. */
  intern(bytes: Uint8Array, from: number, to: number, hash: number): number {
    const mask = this.slots.length - 1;
    const length = to - from;
    for (let s = hash & mask; ; s = (s + 1) & mask) {
      const k = this.slots[s] as number;
      if (k < 0) return this.add(bytes, from, to, hash, s);
      if (this.hashes[k] === hash) {
        const start = this.starts[k] as number;
        if ((this.ends[k] as number) - start === length) {
          let same = true;
          for (let x = 0; x < length && same; x++) same = bytes[start + x] === bytes[from + x];
          if (same) return k;
        }
      }
    }
  }

  private add(bytes: Uint8Array, from: number, to: number, hash: number, slot: number): number {
    const id = this.ids.length;
    this.ids.push(UTF8.decode(bytes.subarray(from, to)));
    if (id >= this.hashes.length) {
      const size = Math.max(1024, this.hashes.length * 2);
      this.hashes = grow(this.hashes, size);
      this.starts = grow(this.starts, size);
      this.ends = grow(this.ends, size);
    }
    this.hashes[id] = hash;
    this.starts[id] = from;
    this.ends[id] = to;
    this.slots[slot] = id;
    if (this.ids.length * 2 > this.slots.length) this.rehash();
    return id;
  }

  private rehash(): void {
    const slots = new Int32Array(this.slots.length * 2).fill(-1);
    const mask = slots.length - 1;
    for (let k = 0; k < this.ids.length; k++) {
      let s = (this.hashes[k] as number) & mask;
      while ((slots[s] as number) >= 0) s = (s + 1) & mask;
      slots[s] = k;
    }
    this.slots = slots;
  }
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

function grow<T extends Int32Array | Float64Array>(a: T, capacity: number): T {
  const b = new (a.constructor as new (n: number) => T)(capacity);
  b.set(a);
  return b;
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
  const all: { record: string[]; line: number }[] = [];
  readRecords(text, file, (record, line) => {
    all.push({ record: record.slice(), line });
  });
  const [first, ...rest] = all;
  if (first === undefined) throw new InputError('the file is empty, expected a CSV header line', { file });
  return { header: first.record.map((h) => h.toLowerCase()), rows: rest };
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
