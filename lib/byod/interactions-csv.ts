/**
 * The interactions CSV of `shelves train` (header `user_id,item_id,timestamp[,weight]`, see
 * formats.ts), read as a stream of byte chunks straight into typed columns: no string per row, no
 * object per row, and no copy of the whole file in memory (a 1 MiB buffer is reused while the file
 * streams through it).
 *
 * One reader serves every file: fields are RFC 4180 (quoted fields with "" escapes and line breaks;
 * blanks around fields trimmed; a byte-order mark and blank lines skipped; LF, CRLF or CR line ends),
 * with a fast path for the common unquoted field (one pass over its bytes that finds its end and
 * reads its trailing digits as a whole number). Ids are interned by a hash of their bytes (a string is made
 * once per distinct id). A chunk may end anywhere: the parser consumes the complete records and the
 * caller hands the rest back with the next chunk. Every bad row is an InputError naming the file, the
 * row's first line and the field; the only rows left out are weight-0 rows, counted as a warning.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { InputError } from '../core/errors.ts';
import type { InteractionColumns } from '../core/models/hybrid/problem.ts';
import { count, EPOCH_SECONDS_BELOW, headerColumns, parseNumber, parseTimestamp, requireId, type Warnings } from './csv-fields.ts';

/** Interactions read into columns (no object per row), with counted warnings. */
export interface ParsedInteractionColumns {
  readonly columns: InteractionColumns;
  readonly warnings: Warnings;
  /**
   * The latest time of the columns (their largest ts, found while reading: a pass over the column
   * afterwards ran cold and boxed a number per row until optimized, ~50 ms at 1M rows).
   */
  readonly latest: number;
}

const LF = 10;
const CR = 13;
const COMMA = 44;
const QUOTE = 34;
const SPACE = 32;
const TAB = 9;
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
/** Whole numbers of up to this many digits are exact in a double; longer ones take the general timestamp reader. */
const EXACT_DIGITS = 15;
/** Bytes read from the file at a time. */
const CHUNK_BYTES = 1 << 20;

/** Reads an interactions CSV chunk by chunk into columns: feed(...) the bytes, then finish(). */
export class InteractionsCsvParser {
  readonly warnings: Warnings = new Map();
  /** Line number of the next unread byte. */
  private line = 1;
  private started = false;
  private header: string[] | undefined;
  private width = 0;
  private cUser = -1;
  private cItem = -1;
  private cTime = -1;
  private cWeight = -1;
  private readonly users = new Interner();
  private readonly items = new Interner();
  private capacity = 0;
  private user = new Int32Array(0);
  private item = new Int32Array(0);
  private ts = new Float64Array(0);
  private weight = new Float64Array(0);
  private n = 0;
  private latest = Number.NEGATIVE_INFINITY;
  /** The unescaped bytes of the current record's quoted fields. */
  private scratch = Buffer.alloc(256);

  constructor(private readonly file: string) {}

  /** Rows read so far (weight-0 rows not counted). */
  get rows(): number {
    return this.n;
  }

  /** Makes room for `rows` rows in all (a size hint: the columns grow as needed anyway). */
  reserve(rows: number): void {
    if (rows > this.capacity) this.resize(Math.ceil(rows));
  }

  /**
   * Reads the complete records at the start of `bytes` and returns how many bytes they took; the
   * caller passes the rest again, followed by more of the file. With `last` (the end of the file),
   * every byte is read.
   */
  feed(input: Uint8Array, last = false): number {
    // A Buffer view (no copy) for its toString: TextDecoder.decode costs time in proportion to the
    // whole underlying buffer (Node 20), 20 us an id on a 24 MB file.
    const bytes = Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
    const len = bytes.length;
    const file = this.file;
    let at = 0;
    if (!this.started) {
      if (len < 3 && !last) return 0;
      if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) at = 3;
      this.started = true;
    }
    let line = this.line;
    let scratch = this.scratch;
    let latest = this.latest;
    // The header's column positions, in locals for the per-field tests (-1 until the header is read).
    let cUser = this.cUser;
    let cItem = this.cItem;
    let cTime = this.cTime;
    let cWeight = this.cWeight;
    const { users, items } = this;
    // The end of the current line: the next LF, or the end of the bytes at the end of the file.
    let eol = -1;
    records: while (at < len) {
      const start = at;
      const startLine = line;
      if (eol < at) {
        eol = bytes.indexOf(LF, at);
        if (eol < 0) {
          if (!last) break;
          eol = len;
        }
      }
      let field = 0;
      let blank = true;
      let scratchTop = 0;
      // The spans of the wanted fields: [from, to) of `bytes`, or of `scratch` when quoted.
      let uFrom = 0;
      let uTo = 0;
      let uQuoted = false;
      let uLead = 0;
      let uDigits = 0;
      let uValue = 0;
      let iFrom = 0;
      let iTo = 0;
      let iQuoted = false;
      let iLead = 0;
      let iDigits = 0;
      let iValue = 0;
      let tFrom = 0;
      let tTo = 0;
      let tQuoted = false;
      let tLead = 0;
      let tDigits = 0;
      let tValue = 0;
      let wFrom = 0;
      let wTo = 0;
      let wQuoted = false;
      const headerFields: string[] | undefined = this.header === undefined ? [] : undefined;
      let c: number;
      for (;;) {
        // One field. LF stands for the end of the line (no LF lies between `at` and `eol`).
        c = at < eol ? (bytes[at] as number) : LF;
        while (c === SPACE || c === TAB) c = ++at < eol ? (bytes[at] as number) : LF;
        let from = at;
        let to = at;
        // The field's digits after its last non-digit byte (`lead` bytes before them): a timestamp
        // is all digits (lead 0); an id like u12345 is a prefix and a number (see Interner.numbered).
        let lead = 0;
        let digits = 0;
        let value = 0;
        let quoted = false;
        if (c === QUOTE) {
          quoted = true;
          from = scratchTop;
          let k = at + 1;
          for (;;) {
            if (k >= len) {
              if (!last) {
                // The quoted field goes on in the next chunk: read this record again then.
                at = start;
                line = startLine;
                break records;
              }
              throw new InputError('malformed CSV: a quoted field is not closed', { file, line: startLine });
            }
            let b = bytes[k] as number;
            if (b === QUOTE) {
              if (k + 1 >= len && !last) {
                at = start;
                line = startLine;
                break records;
              }
              if (k + 1 < len && bytes[k + 1] === QUOTE) k++;
              else break;
            } else if (b === LF) line++;
            if (scratchTop === scratch.length) {
              const bigger = Buffer.alloc(scratch.length * 2);
              bigger.set(scratch);
              scratch = bigger;
            }
            b = bytes[k] as number;
            scratch[scratchTop++] = b;
            k++;
          }
          to = scratchTop;
          digits = -1;
          at = k + 1;
          blank = false;
          if (eol < at) {
            // The quoted field held a line break: find the end of the line it ends on.
            eol = bytes.indexOf(LF, at);
            if (eol < 0) {
              if (!last) {
                at = start;
                line = startLine;
                break records;
              }
              eol = len;
            }
          }
          c = at < eol ? (bytes[at] as number) : LF;
          while (c === SPACE || c === TAB) c = ++at < eol ? (bytes[at] as number) : LF;
          if (c !== COMMA && c !== CR && c !== LF)
            throw new InputError('malformed CSV: text after a closing quote', { file, line: startLine });
        } else {
          // The common field: its trailing digits read as a whole number on the way to its end (an
          // id's hash is taken only when the table is asked, see Interner.numbered).
          while (c !== COMMA && c !== CR && c !== LF) {
            if (c >= 48 && c <= 57) {
              value = value * 10 + (c - 48);
              digits++;
            } else {
              value = 0;
              digits = 0;
              lead = at + 1 - from;
            }
            c = ++at < eol ? (bytes[at] as number) : LF;
          }
          to = at;
          if (to > from && (bytes[to - 1] === SPACE || bytes[to - 1] === TAB)) {
            while (to > from && (bytes[to - 1] === SPACE || bytes[to - 1] === TAB)) to--;
            digits = -1;
          }
          if (to > from) blank = false;
        }
        if (headerFields !== undefined) headerFields.push((quoted ? scratch : bytes).toString('utf8', from, to));
        else if (field === cUser) {
          uFrom = from;
          uTo = to;
          uQuoted = quoted;
          uLead = lead;
          uDigits = digits;
          uValue = value;
        } else if (field === cItem) {
          iFrom = from;
          iTo = to;
          iQuoted = quoted;
          iLead = lead;
          iDigits = digits;
          iValue = value;
        } else if (field === cTime) {
          tFrom = from;
          tTo = to;
          tQuoted = quoted;
          tLead = lead;
          tDigits = digits;
          tValue = value;
        } else if (field === cWeight) {
          wFrom = from;
          wTo = to;
          wQuoted = quoted;
        }
        field++;
        if (c !== COMMA) break;
        at++;
        blank = false;
      }
      // The end of the record: CR, CRLF, LF or the end of the file.
      if (c === CR && at + 1 < len && bytes[at + 1] === LF) at++;
      at++;
      line++;
      if (blank && field === 1) continue;
      if (headerFields !== undefined) {
        this.setHeader(headerFields);
        cUser = this.cUser;
        cItem = this.cItem;
        cTime = this.cTime;
        cWeight = this.cWeight;
        continue;
      }
      if (field !== this.width)
        throw new InputError(`malformed CSV: the row has ${field} fields, expected ${this.width} as the header`, { file, line: startLine });
      if (uTo === uFrom) requireId('', file, startLine, 'user_id');
      if (iTo === iFrom) requireId('', file, startLine, 'item_id');
      const time =
        tLead === 0 && tDigits > 0 && tDigits <= EXACT_DIGITS
          ? tValue < EPOCH_SECONDS_BELOW
            ? tValue * 1000
            : tValue
          : parseTimestamp((tQuoted ? scratch : bytes).toString('utf8', tFrom, tTo), file, startLine);
      let w = 1;
      if (cWeight >= 0 && wTo > wFrom) {
        w = parseNumber((wQuoted ? scratch : bytes).toString('utf8', wFrom, wTo), file, startLine, 'weight');
        if (w < 0) throw new InputError(`weight is ${w}, expected a number >= 0`, { file, line: startLine, field: 'weight' });
        if (w === 0) {
          count(this.warnings, 'rows with weight 0 skipped');
          continue;
        }
      }
      const n = this.n;
      if (n === this.capacity) this.resize(Math.max(1024, this.capacity * 2));
      this.user[n] =
        uDigits > 0 && !uQuoted
          ? users.numbered(bytes, uFrom, uTo, uLead, uDigits, uValue)
          : users.intern(uQuoted ? scratch : bytes, uFrom, uTo);
      this.item[n] =
        iDigits > 0 && !iQuoted
          ? items.numbered(bytes, iFrom, iTo, iLead, iDigits, iValue)
          : items.intern(iQuoted ? scratch : bytes, iFrom, iTo);
      this.ts[n] = time;
      if (time > latest) latest = time;
      this.weight[n] = w;
      this.n = n + 1;
    }
    this.line = line;
    this.scratch = scratch;
    this.latest = latest;
    return Math.min(at, len);
  }

  /** The columns read (after the last chunk was fed with `last`). */
  finish(): ParsedInteractionColumns {
    const file = this.file;
    if (this.header === undefined) throw new InputError('the file is empty, expected a CSV header line', { file });
    const n = this.n;
    if (n === 0) throw new InputError('no interaction rows after the header', { file });
    // A size hint may leave unused rows: views when they are few, copies when many.
    const trimmed = <T extends Int32Array | Float64Array>(a: T): T =>
      a.length - n <= a.length / 8 ? (a.subarray(0, n) as T) : (a.slice(0, n) as T);
    return {
      columns: {
        userIds: this.users.ids,
        itemIds: this.items.ids,
        user: trimmed(this.user),
        item: trimmed(this.item),
        ts: trimmed(this.ts),
        weight: trimmed(this.weight),
      },
      warnings: this.warnings,
      latest: this.latest,
    };
  }

  private setHeader(fields: string[]): void {
    const header = fields.map((h) => h.toLowerCase());
    const col = headerColumns(header, this.file, ['user_id', 'item_id', 'timestamp'], ['weight']);
    this.header = header;
    this.width = header.length;
    this.cUser = col.user_id as number;
    this.cItem = col.item_id as number;
    this.cTime = col.timestamp as number;
    this.cWeight = col.weight ?? -1;
  }

  private resize(capacity: number): void {
    const grow = <T extends Int32Array | Float64Array>(a: T): T => {
      const b = new (a.constructor as new (length: number) => T)(capacity);
      b.set(a.subarray(0, this.n));
      return b;
    };
    this.user = grow(this.user);
    this.item = grow(this.item);
    this.ts = grow(this.ts);
    this.weight = grow(this.weight);
    this.capacity = capacity;
  }
}

/**
 * Reads an interactions CSV file into columns, 1 MiB at a time; `onChunk` sees every byte of the
 * file once, in order (for a content hash). An unreadable file is an InputError naming it.
 */
export function readInteractionsFile(file: string, onChunk?: (bytes: Uint8Array) => void): ParsedInteractionColumns {
  const fd = fileCall(file, () => openSync(file, 'r'));
  try {
    const size = fileCall(file, () => fstatSync(fd).size);
    const parser = new InteractionsCsvParser(file);
    let buffer = new Uint8Array(Math.min(CHUNK_BYTES, Math.max(4096, size + 1)));
    let held = 0;
    let sized = false;
    for (;;) {
      if (held === buffer.length) {
        // One record longer than the buffer (a long quoted field): make room for it.
        const bigger = new Uint8Array(buffer.length * 2);
        bigger.set(buffer);
        buffer = bigger;
      }
      const got = fileCall(file, () => readSync(fd, buffer, held, buffer.length - held, null));
      if (got > 0) onChunk?.(buffer.subarray(held, held + got));
      const end = held + got;
      const used = parser.feed(buffer.subarray(0, end), got === 0);
      if (got === 0) break;
      if (!sized && used > 0 && end < size) {
        // Size the columns once from the first chunk's bytes per row, so they are not regrown and copied.
        parser.reserve(((parser.rows + 1) * size * 1.05) / used);
        sized = true;
      }
      buffer.copyWithin(0, used, end);
      held = end - used;
    }
    return parser.finish();
  } finally {
    closeSync(fd);
  }
}

function fileCall<T>(file: string, call: () => T): T {
  try {
    return call();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InputError(code === 'ENOENT' ? 'no such file' : `cannot read the file (${code ?? 'unknown error'})`, { file });
  }
}

/** Digits of the number of an id found by Interner.numbered (at most 999,999,999: an int). */
const NUMBERED_DIGITS = 9;
/** Numbers up to which Interner.numbered keeps an array (4 MB at most); larger ones take the table. */
const NUMBERED_MAX = 1 << 20;

/** Numbers distinct ids in order of first appearance, by an open-addressing table over a hash of their bytes. */
class Interner {
  /** Ids numbered so far. */
  private count = 0;
  private decoded: string[] = [];
  /** The bytes of every id, one after another: id k is store[starts[k] .. starts[k + 1]). */
  private store = new Uint8Array(1 << 16);
  private starts = new Int32Array(1025);
  private hashes = new Int32Array(1024);
  private slots = new Int32Array(1 << 12).fill(-1);
  /** The prefix (bytes before the digits) of the first id that was a prefix and a number. */
  private prefix: Uint8Array | undefined;
  /** byNumber[v]: the number of the id `prefix` + v (v in decimal, no leading zero), or -1 when not met yet. */
  private byNumber = new Int32Array(0);

  /**
   * The number of the id bytes[from .. to) that ends in `digits` digits worth `value` after `lead`
   * other bytes. Ids like u12345 (one prefix and a number, the common export) are found by their
   * number in an array, without the hash table's probe and byte comparison; the table stays the
   * only place where ids are numbered (an id is put in the array after the table gave its number),
   * so every id gets the same number whichever way it is found.
   */
  numbered(bytes: Buffer, from: number, to: number, lead: number, digits: number, value: number): number {
    // No leading zero (u012 and u12 are different ids with one value), and exact in an int.
    if (digits > NUMBERED_DIGITS || (digits > 1 && bytes[from + lead] === 48) || value >= NUMBERED_MAX) return this.intern(bytes, from, to);
    let prefix = this.prefix;
    if (prefix === undefined) prefix = this.prefix = Uint8Array.from(bytes.subarray(from, from + lead));
    if (prefix.length !== lead) return this.intern(bytes, from, to);
    for (let x = 0; x < lead; x++) if (prefix[x] !== bytes[from + x]) return this.intern(bytes, from, to);
    const byNumber = this.byNumber;
    if (value < byNumber.length) {
      const known = byNumber[value] as number;
      if (known >= 0) return known;
    }
    const k = this.intern(bytes, from, to);
    if (value >= this.byNumber.length) {
      let size = Math.max(1024, this.byNumber.length);
      while (size <= value) size *= 2;
      const bigger = new Int32Array(size).fill(-1);
      bigger.set(this.byNumber);
      this.byNumber = bigger;
    }
    this.byNumber[value] = k;
    return k;
  }

  /** The number of the id bytes[from .. to). */
  intern(bytes: Buffer, from: number, to: number): number {
    let fnv = FNV_OFFSET;
    for (let k = from; k < to; k++) fnv = Math.imul(fnv ^ (bytes[k] as number), FNV_PRIME);
    // FNV-1a's low bits depend only on the low bits of the bytes ("user-1".."user-7000" fill a
    // fraction of the slots, and probing took 30 us an id); mixing the high bits down spreads them.
    let hash = fnv ^ (fnv >>> 16);
    hash = Math.imul(hash, 0x85ebca6b);
    hash ^= hash >>> 13;
    const slots = this.slots;
    const mask = slots.length - 1;
    const length = to - from;
    for (let s = hash & mask; ; s = (s + 1) & mask) {
      const k = slots[s] as number;
      if (k < 0) return this.add(bytes, from, to, hash, s);
      if (this.hashes[k] === hash) {
        const start = this.starts[k] as number;
        if ((this.starts[k + 1] as number) - start === length) {
          const store = this.store;
          let x = 0;
          while (x < length && store[start + x] === bytes[from + x]) x++;
          if (x === length) return k;
        }
      }
    }
  }

  /**
   * The ids as strings, in number order. Made once at the end from the stored bytes (one decode of
   * them all when they are ASCII, then a slice per id): a decode call per new id cost ~2 us, and a
   * million rows bring 70k ids, most of them in the first chunk.
   */
  get ids(): string[] {
    const n = this.count;
    if (this.decoded.length === n) return this.decoded;
    const { store, starts } = this;
    const top = starts[n] as number;
    let ascii = true;
    for (let x = 0; x < top && ascii; x++) ascii = (store[x] as number) < 0x80;
    const bytes = Buffer.from(store.buffer, store.byteOffset, top);
    const ids = new Array<string>(n);
    if (ascii) {
      const all = bytes.toString('latin1');
      for (let k = 0; k < n; k++) ids[k] = all.slice(starts[k] as number, starts[k + 1] as number);
    } else {
      for (let k = 0; k < n; k++) ids[k] = bytes.toString('utf8', starts[k] as number, starts[k + 1] as number);
    }
    this.decoded = ids;
    return ids;
  }

  private add(bytes: Buffer, from: number, to: number, hash: number, slot: number): number {
    const id = this.count;
    this.count = id + 1;
    if (id + 1 >= this.hashes.length) {
      const size = this.hashes.length * 2;
      const hashes = new Int32Array(size);
      hashes.set(this.hashes);
      this.hashes = hashes;
      const starts = new Int32Array(size + 1);
      starts.set(this.starts);
      this.starts = starts;
    }
    const top = this.starts[id] as number;
    if (top + (to - from) > this.store.length) {
      const store = new Uint8Array(Math.max(this.store.length * 2, top + (to - from)));
      store.set(this.store.subarray(0, top));
      this.store = store;
    }
    const store = this.store;
    for (let x = from; x < to; x++) store[top + x - from] = bytes[x] as number;
    this.starts[id + 1] = top + (to - from);
    this.hashes[id] = hash;
    this.slots[slot] = id;
    if (this.count * 2 > this.slots.length) this.rehash();
    return id;
  }

  private rehash(): void {
    const slots = new Int32Array(this.slots.length * 2).fill(-1);
    const mask = slots.length - 1;
    for (let k = 0; k < this.count; k++) {
      let s = (this.hashes[k] as number) & mask;
      while ((slots[s] as number) >= 0) s = (s + 1) & mask;
      slots[s] = k;
    }
    this.slots = slots;
  }
}
