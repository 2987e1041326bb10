/**
 * A simulated day's events, kept as columns of numbers (not lines) until they are written: ~23 bytes an
 * event instead of a ~220-byte string, so a million-user day stays small and the collector idle. They
 * are ordered by time with a stable radix sort and encoded straight to bytes, byte for byte what
 * JSON.stringify gives for the ListeningEvent.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { EVENT_TYPES, type EventType } from '../core/contract.ts';
import { COUNTRIES, DEVICES_WEIGHTED } from './vocabulary.ts';

/** Event types by index (EVENT_TYPES' order). */
export const EVENT_TYPE: Readonly<Record<EventType, number>> = Object.fromEntries(EVENT_TYPES.map((t, i) => [t, i])) as Record<
  EventType,
  number
>;

/** A day's events as columns; `count` are in use. */
export interface DayColumns {
  readonly count: number;
  readonly time: Int32Array;
  readonly user: Int32Array;
  readonly ref: Int32Array;
  readonly type: Uint8Array;
  readonly msPlayed: Float64Array;
  readonly share: Uint16Array;
}

/** A day's events in generation order. */
export class DayEvents implements DayColumns {
  count = 0;
  /** Milliseconds since the day's start. */
  time = new Int32Array(0);
  /** Global user index. */
  user = new Int32Array(0);
  /** Catalog id reference (Catalog.ids). */
  ref = new Int32Array(0);
  type = new Uint8Array(0);
  msPlayed = new Float64Array(0);
  /** progress × 10,000, rounded as toFixed(4) rounds. */
  share = new Uint16Array(0);

  constructor(capacity = 1024) {
    this.grow(capacity);
  }

  clear(): void {
    this.count = 0;
  }

  push(time: number, user: number, ref: number, type: number, msPlayed: number, share: number): void {
    const i = this.count;
    if (i === this.time.length) this.grow(i * 2);
    this.time[i] = time;
    this.user[i] = user;
    this.ref[i] = ref;
    this.type[i] = type;
    this.msPlayed[i] = msPlayed;
    this.share[i] = share;
    this.count = i + 1;
  }

  /** A copy of the events in `order`, each column exactly `order.length` long (to transfer to another thread). */
  permuted(order: Uint32Array): DayColumns {
    const n = order.length;
    const out = {
      count: n,
      time: new Int32Array(n),
      user: new Int32Array(n),
      ref: new Int32Array(n),
      type: new Uint8Array(n),
      msPlayed: new Float64Array(n),
      share: new Uint16Array(n),
    };
    for (let j = 0; j < n; j++) {
      const i = order[j] as number;
      out.time[j] = this.time[i] as number;
      out.user[j] = this.user[i] as number;
      out.ref[j] = this.ref[i] as number;
      out.type[j] = this.type[i] as number;
      out.msPlayed[j] = this.msPlayed[i] as number;
      out.share[j] = this.share[i] as number;
    }
    return out;
  }

  /**
   * Replaces the contents with the merge of `shards` (each in time order; shard k's users all come
   * before shard k+1's): time order, ties in shard order, which is the generation order of one thread.
   */
  merge(shards: readonly DayColumns[]): void {
    let total = 0;
    for (const s of shards) total += s.count;
    this.count = 0;
    if (total > this.time.length) this.grow(total);
    const next = new Int32Array(shards.length);
    for (let j = 0; j < total; j++) {
      let pick = -1;
      let best = 0;
      for (let k = 0; k < shards.length; k++) {
        const at = next[k] as number;
        const s = shards[k] as DayColumns;
        if (at < s.count && (pick < 0 || (s.time[at] as number) < best)) {
          pick = k;
          best = s.time[at] as number;
        }
      }
      const s = shards[pick] as DayColumns;
      const i = next[pick] as number;
      next[pick] = i + 1;
      this.time[j] = best;
      this.user[j] = s.user[i] as number;
      this.ref[j] = s.ref[i] as number;
      this.type[j] = s.type[i] as number;
      this.msPlayed[j] = s.msPlayed[i] as number;
      this.share[j] = s.share[i] as number;
    }
    this.count = total;
  }

  private grow(capacity: number): void {
    const copy = <T extends Int32Array | Uint8Array | Float64Array | Uint16Array>(old: T, made: T): T => {
      made.set(old.subarray(0, this.count) as never);
      return made;
    };
    this.time = copy(this.time, new Int32Array(capacity));
    this.user = copy(this.user, new Int32Array(capacity));
    this.ref = copy(this.ref, new Int32Array(capacity));
    this.type = copy(this.type, new Uint8Array(capacity));
    this.msPlayed = copy(this.msPlayed, new Float64Array(capacity));
    this.share = copy(this.share, new Uint16Array(capacity));
  }
}

/**
 * The indices of times[0..n) in time order, ties in index order: what a stable sort by time gives, in two
 * counting passes (times are below 2^27 ms: a day).
 */
export function orderByTime(times: Int32Array, n: number): Uint32Array {
  const LOW = 14;
  const lowMask = (1 << LOW) - 1;
  const tmp = new Uint32Array(n);
  const order = new Uint32Array(n);
  const lowCounts = new Uint32Array((1 << LOW) + 1);
  const highCounts = new Uint32Array((1 << 13) + 1);
  for (let i = 0; i < n; i++) {
    const t = times[i] as number;
    if (t < 0 || t >= 1 << 27) throw new RangeError(`event time ${t} ms is not within a day (expected 0 <= t < ${1 << 27})`);
    (lowCounts[(t & lowMask) + 1] as number)++;
    (highCounts[(t >>> LOW) + 1] as number)++;
  }
  for (let b = 1; b < lowCounts.length; b++) lowCounts[b] = (lowCounts[b] as number) + (lowCounts[b - 1] as number);
  for (let b = 1; b < highCounts.length; b++) highCounts[b] = (highCounts[b] as number) + (highCounts[b - 1] as number);
  for (let i = 0; i < n; i++) tmp[(lowCounts[(times[i] as number) & lowMask] as number)++] = i;
  for (let j = 0; j < n; j++) {
    const i = tmp[j] as number;
    order[(highCounts[(times[i] as number) >>> LOW] as number)++] = i;
  }
  return order;
}

/** progress rounded as Number(progress.toFixed(4)) rounds, × 10,000 (progress within [0, 1]). */
export function shareOf(progress: number): number {
  const x = progress * 10_000;
  const k = Math.round(x);
  // Near a tie the float product may round the other way than toFixed's exact decimal: ask toFixed.
  const exact = Math.abs(x - Math.floor(x) - 0.5) < 1e-6 ? Math.round(Number(progress.toFixed(4)) * 10_000) : k;
  return Math.max(0, Math.min(10_000, exact));
}

function ascii(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}
/** `{"userId":"u-0000000","itemId":"`: the user's digits are written over the zeros. */
const HEAD = ascii('{"userId":"u-0000000","itemId":"');
const HEAD_DIGITS_END = HEAD.length - '","itemId":"'.length;
/** `{"userId":"u-`: a user index of eight digits or more is written whole after it. */
const HEAD_PREFIX = HEAD.subarray(0, HEAD_DIGITS_END - 7);
/** `","eventType":"<type>","msPlayed":` by type index. */
const TYPE_SEGMENTS = EVENT_TYPES.map((t) => ascii(`","eventType":"${t}","msPlayed":`));
/** `Z","device":"<device>","country":"<country>","localHour":` by device and country index. */
const TAIL_SEGMENTS = DEVICES_WEIGHTED.map(([device]) =>
  COUNTRIES.map((c) => ascii(`Z","device":"${device}","country":"${c.code}","localHour":`)),
);
/** The progress values as JSON writes them: String(k / 10000) for k = 0..10000. */
const SHARE_TEXT: readonly string[] = Array.from({ length: 10_001 }, (_, k) => String(k / 10_000));

/**
 * Byte segments of the lines, each copied with one TypedArray.set (a byte loop per segment cost ~1 µs
 * an event): ids by catalog reference, and `,"progress":<p>,"timestamp":"<day>T` by progress for the
 * day being written.
 */
export class LineSegments {
  private readonly ids: Uint8Array[] = [];
  /** Built on first use each day (a small world's day uses few of the 10,001). */
  private progress: (Uint8Array | undefined)[] = [];
  private day = '';

  /** Brings the id segments up to date with the catalog's ids and the progress segments to `dayPrefix`. */
  update(ids: readonly string[], dayPrefix: string): void {
    for (let r = this.ids.length; r < ids.length; r++) this.ids.push(ascii(ids[r] as string));
    if (this.day !== dayPrefix) {
      this.day = dayPrefix;
      this.progress = new Array<Uint8Array | undefined>(SHARE_TEXT.length).fill(undefined);
    }
  }
  id(ref: number): Uint8Array {
    return this.ids[ref] as Uint8Array;
  }
  progressAt(share: number): Uint8Array {
    let bytes = this.progress[share];
    if (bytes === undefined) this.progress[share] = bytes = ascii(`,"progress":${SHARE_TEXT[share]},"timestamp":"${this.day}`);
    return bytes;
  }
}

const CHUNK = 1 << 20;
/** Room enough for one event line (ids are short: ~230 bytes in practice). */
const LINE_MAX = 4096;

/** Writes bytes to a file in 1 MiB chunks, synchronously (the simulator has nothing else to do meanwhile). */
export class ByteSink {
  private readonly fd: number;
  readonly buf = Buffer.allocUnsafe(CHUNK);
  pos = 0;
  constructor(path: string) {
    this.fd = openSync(path, 'w');
  }
  /** Makes room for `n` bytes. */
  room(n: number): void {
    if (this.pos + n > CHUNK) this.flush();
  }
  /** Appends a string's UTF-8 bytes. */
  text(s: string): void {
    if (s.length * 3 > CHUNK - this.pos) {
      this.flush();
      if (s.length * 3 > CHUNK) {
        writeSync(this.fd, s);
        return;
      }
    }
    this.pos += this.buf.write(s, this.pos);
  }
  flush(): void {
    let at = 0;
    while (at < this.pos) at += writeSync(this.fd, this.buf, at, this.pos - at);
    this.pos = 0;
  }
  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}

/** Per-user columns the event lines need (the simulated user's device and country). */
export interface UserColumns {
  readonly device: Uint8Array;
  readonly country: Uint8Array;
}

/** Writes events in `order` (else as they are) as JSON lines to `sink`; returns the number written. */
export function writeDayEvents(
  events: DayColumns,
  order: Uint32Array | undefined,
  users: UserColumns,
  segments: LineSegments,
  sink: ByteSink,
): number {
  const { time, user, ref, type, msPlayed, share } = events;
  const buf = sink.buf;
  const n = order === undefined ? events.count : order.length;
  // Segments are copied byte by byte: they are 10 to 60 bytes, where a TypedArray.set call costs more
  // than the copy. Digits use int32 arithmetic (times, user indices and msPlayed are below 2^31).
  for (let j = 0; j < n; j++) {
    const i = order === undefined ? j : (order[j] as number);
    if (sink.pos + LINE_MAX > CHUNK) sink.flush();
    let p = sink.pos;
    const u = user[i] as number;
    if (u < 10_000_000) {
      p = copy(buf, p, HEAD);
      // Seven digits over the template's zeros.
      let x = u;
      for (let k = p - ITEM_KEY.length - 1; x > 0; k--) {
        const q = (x / 10) | 0;
        buf[k] = 48 + x - q * 10;
        x = q;
      }
    } else {
      p = copy(buf, p, HEAD_PREFIX);
      p = putInt(buf, p, u);
      p = copy(buf, p, ITEM_KEY);
    }
    p = copy(buf, p, segments.id(ref[i] as number));
    p = copy(buf, p, TYPE_SEGMENTS[type[i] as number] as Uint8Array);
    const ms = msPlayed[i] as number;
    p = ms < 2_147_483_648 ? putInt32(buf, p, ms | 0) : putInt(buf, p, ms);
    p = copy(buf, p, segments.progressAt(share[i] as number));
    let t = time[i] as number;
    const h = (t / 3_600_000) | 0;
    t -= h * 3_600_000;
    const m = (t / 60_000) | 0;
    t -= m * 60_000;
    const s = (t / 1000) | 0;
    t -= s * 1000;
    const h10 = (h / 10) | 0;
    const m10 = (m / 10) | 0;
    const s10 = (s / 10) | 0;
    const t100 = (t / 100) | 0;
    const t10 = ((t - t100 * 100) / 10) | 0;
    buf[p] = 48 + h10;
    buf[p + 1] = 48 + h - h10 * 10;
    buf[p + 2] = 58; // :
    buf[p + 3] = 48 + m10;
    buf[p + 4] = 48 + m - m10 * 10;
    buf[p + 5] = 58;
    buf[p + 6] = 48 + s10;
    buf[p + 7] = 48 + s - s10 * 10;
    buf[p + 8] = 46; // .
    buf[p + 9] = 48 + t100;
    buf[p + 10] = 48 + t10;
    buf[p + 11] = 48 + t - t100 * 100 - t10 * 10;
    p += 12;
    p = copy(buf, p, (TAIL_SEGMENTS[users.device[u] as number] as Uint8Array[])[users.country[u] as number] as Uint8Array);
    if (h < 10) buf[p++] = 48 + h;
    else {
      buf[p] = 48 + h10;
      buf[p + 1] = 48 + h - h10 * 10;
      p += 2;
    }
    buf[p] = 125; // }
    buf[p + 1] = 10; // \n
    sink.pos = p + 2;
  }
  return n;
}

function copy(buf: Uint8Array, p: number, bytes: Uint8Array): number {
  buf.set(bytes, p);
  return p + bytes.length;
}

/** Decimal digits of a non-negative int32, as String(n) gives them. */
function putInt32(buf: Uint8Array, p: number, n: number): number {
  let digits = 1;
  for (let x = n; x >= 10; x = (x / 10) | 0) digits++;
  let x = n;
  for (let k = p + digits - 1; k > p; k--) {
    const q = (x / 10) | 0;
    buf[k] = 48 + x - q * 10;
    x = q;
  }
  buf[p] = 48 + x;
  return p + digits;
}

const ITEM_KEY = ascii('","itemId":"');

/** Decimal digits of a non-negative integer, as String(n) gives them below 1e21. */
function putInt(buf: Uint8Array, p: number, n: number): number {
  if (n < 10) {
    buf[p] = 48 + n;
    return p + 1;
  }
  let digits = 1;
  for (let x = n; x >= 10; x = Math.floor(x / 10)) digits++;
  let x = n;
  for (let k = p + digits - 1; k >= p; k--) {
    const q = Math.floor(x / 10);
    buf[k] = 48 + (x - q * 10);
    x = q;
  }
  return p + digits;
}
