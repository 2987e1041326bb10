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

/** A day's events in generation order. */
export class DayEvents {
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

  /** Appends events [from, to) of `other` (a shard's day, already in time order when merging). */
  append(other: DayEvents, from: number, to: number): void {
    const n = to - from;
    if (this.count + n > this.time.length) this.grow(Math.max(this.time.length * 2, this.count + n));
    const at = this.count;
    this.time.set(other.time.subarray(from, to), at);
    this.user.set(other.user.subarray(from, to), at);
    this.ref.set(other.ref.subarray(from, to), at);
    this.type.set(other.type.subarray(from, to), at);
    this.msPlayed.set(other.msPlayed.subarray(from, to), at);
    this.share.set(other.share.subarray(from, to), at);
    this.count += n;
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

const ascii = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0));
/** String(k / 10000) for every k: the progress field as JSON writes it. */
const SHARES: readonly Uint8Array[] = Array.from({ length: 10_001 }, (_, k) => ascii(String(k / 10_000)));
const TYPE_SEGMENTS = EVENT_TYPES.map((t) => ascii(`","eventType":"${t}","msPlayed":`));
const HEAD = ascii('{"userId":"u-');
const ITEM = ascii('","itemId":"');
const PROGRESS = ascii(',"progress":');
/** `","device":"<device>","country":"<country>","localHour":` by device and country index. */
const TAIL_SEGMENTS = DEVICES_WEIGHTED.map(([device]) =>
  COUNTRIES.map((c) => ascii(`Z","device":"${device}","country":"${c.code}","localHour":`)),
);
export const DEVICE_INDEX: ReadonlyMap<string, number> = new Map(DEVICES_WEIGHTED.map(([d], i) => [d, i]));
export const COUNTRY_INDEX: ReadonlyMap<string, number> = new Map(COUNTRIES.map((c, i) => [c.code, i]));

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

/** Writes events in `order` as JSON lines to `sink`; returns the number written. */
export function writeDayEvents(
  events: DayEvents,
  order: Uint32Array,
  users: UserColumns,
  ids: readonly string[],
  dayPrefix: string,
  sink: ByteSink,
): number {
  const stamp = ascii(`,"timestamp":"${dayPrefix}`);
  const { time, user, ref, type, msPlayed, share } = events;
  const buf = sink.buf;
  for (let j = 0; j < order.length; j++) {
    const i = order[j] as number;
    sink.room(LINE_MAX);
    let p = sink.pos;
    p = put(buf, p, HEAD);
    const u = user[i] as number;
    p = putPadded(buf, p, u, 7);
    p = put(buf, p, ITEM);
    const id = ids[ref[i] as number] as string;
    for (let c = 0; c < id.length; c++) buf[p++] = id.charCodeAt(c);
    p = put(buf, p, TYPE_SEGMENTS[type[i] as number] as Uint8Array);
    p = putInt(buf, p, msPlayed[i] as number);
    p = put(buf, p, PROGRESS);
    p = put(buf, p, SHARES[share[i] as number] as Uint8Array);
    p = put(buf, p, stamp);
    let t = time[i] as number;
    const h = Math.floor(t / 3_600_000);
    t -= h * 3_600_000;
    const m = Math.floor(t / 60_000);
    t -= m * 60_000;
    const s = Math.floor(t / 1000);
    t -= s * 1000;
    p = putPadded(buf, p, h, 2);
    buf[p++] = 58; // :
    p = putPadded(buf, p, m, 2);
    buf[p++] = 58;
    p = putPadded(buf, p, s, 2);
    buf[p++] = 46; // .
    p = putPadded(buf, p, t, 3);
    p = put(buf, p, (TAIL_SEGMENTS[users.device[u] as number] as Uint8Array[])[users.country[u] as number] as Uint8Array);
    p = putInt(buf, p, h);
    buf[p++] = 125; // }
    buf[p++] = 10; // \n
    sink.pos = p;
  }
  return order.length;
}

function put(buf: Uint8Array, p: number, bytes: Uint8Array): number {
  for (let k = 0; k < bytes.length; k++) buf[p + k] = bytes[k] as number;
  return p + bytes.length;
}

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

/** String(n).padStart(width, '0'). */
function putPadded(buf: Uint8Array, p: number, n: number, width: number): number {
  let digits = 1;
  for (let x = n; x >= 10; x = Math.floor(x / 10)) digits++;
  let at = p;
  for (let k = digits; k < width; k++) buf[at++] = 48;
  return putInt(buf, at, n);
}
