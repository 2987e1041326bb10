/**
 * A worker thread that simulates users [from, to) of a world and encodes their lines, so that the
 * writing thread only copies bytes. It rebuilds the catalog from the seed (the same draws as the
 * writing thread), sends its users' lines and ground-truth lines first (in chunks), then answers each
 * `{ day }` with that day's event lines of its users in time order: one transferred byte buffer and the
 * lines' ends and times (for the writing thread's merge).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Rng } from '../core/rng.ts';
import { Catalog, DAY, DIMS, iso } from './catalog.ts';
import { DayEvents, type EncodedDay, GrowBytes, LineSegments, orderByTime, writeDayEvents } from './day-events.ts';
import { createUser, Population, signupTimes, truthUserLine, userLine } from './population.ts';

/** What a shard worker is started with. */
export interface ShardInit {
  readonly seed: number;
  readonly users: number;
  readonly days: number;
  /** ms of the first day's start. */
  readonly start: number;
  readonly scale: number;
  readonly from: number;
  readonly to: number;
}

export type ShardReply =
  /** A chunk of the shard's users' lines and truth lines, in user order; `last` on the final chunk. */
  | { readonly ok: true; readonly kind: 'users'; readonly users: Uint8Array; readonly truth: Uint8Array; readonly last: boolean }
  | { readonly ok: true; readonly kind: 'day'; readonly day: number; readonly lines: EncodedDay }
  | { readonly ok: false; readonly message: string };

/** Users' lines are sent in chunks of about this many bytes (a 1M-user world's are ~300 MB). */
const USER_CHUNK = 8 << 20;

const init = workerData as ShardInit;
const port = parentPort;
if (port === null) throw new Error('shard-worker.ts runs as a worker thread (parentPort is null)');

function fail(error: unknown): void {
  const reply: ShardReply = { ok: false, message: error instanceof Error ? (error.stack ?? error.message) : String(error) };
  port?.postMessage(reply);
}

const rng = new Rng(init.seed);
const catalog = new Catalog(rng.fork('publishers'), false);
const population = new Population(init.seed, init.from, init.to);
/** Device and country by global user index (only this shard's range is filled). */
const columns = { device: new Uint8Array(init.to), country: new Uint8Array(init.to) };
try {
  catalog.seed(rng.fork('catalog'), init.start, init.scale);
  const signups = signupTimes(rng.fork('signups'), init.users, init.days, init.start);
  const taste = new Float32Array(DIMS);
  let users = new GrowBytes(USER_CHUNK + (USER_CHUNK >> 2));
  let truth = new GrowBytes(USER_CHUNK + (USER_CHUNK >> 2));
  for (let i = init.from; i < init.to; i++) {
    const user = createUser(init.seed, i, signups[i] as number, taste);
    users.text(`${userLine(user)}\n`);
    truth.text(`${truthUserLine(user)}\n`);
    columns.device[i] = user.device;
    columns.country[i] = user.country;
    population.set(i, user);
    const last = i === init.to - 1;
    if (last || users.pos + truth.pos >= USER_CHUNK) {
      const reply: ShardReply = { ok: true, kind: 'users', users: users.bytes(), truth: truth.bytes(), last };
      port.postMessage(reply, [users.buf.buffer, truth.buf.buffer] as ArrayBuffer[]);
      if (!last) {
        users = new GrowBytes(USER_CHUNK + (USER_CHUNK >> 2));
        truth = new GrowBytes(USER_CHUNK + (USER_CHUNK >> 2));
      }
    }
  }
  if (init.from === init.to) {
    const reply: ShardReply = { ok: true, kind: 'users', users: new Uint8Array(0), truth: new Uint8Array(0), last: true };
    port.postMessage(reply);
  }
} catch (error) {
  fail(error);
}

const events = new DayEvents();
const segments = new LineSegments();
/** The last day's bytes: the next day's buffer starts a little larger (no growing in most days). */
let lastBytes = 1 << 20;
let nextDay = 0;
/** Buffers of days already written, given back by the writing thread: [bytes, ends, time]. */
const spare: ArrayBuffer[][] = [];

port.on('message', (msg: { day: number } | { recycle: ArrayBuffer[] }) => {
  if ('recycle' in msg) {
    spare.push(msg.recycle);
    return;
  }
  try {
    // Days are replayed in order: the catalog of day d is built on day d-1's.
    if (msg.day !== nextDay) throw new RangeError(`shard asked for day ${msg.day}, expected day ${nextDay}`);
    nextDay++;
    const dayStart = init.start + msg.day * DAY;
    catalog.release(rng.fork(`day-${msg.day}`), dayStart, init.scale);
    events.clear();
    population.simulateDay(catalog, dayStart, events);
    const order = orderByTime(events.time, events.count);
    const n = order.length;
    const [spareBytes, spareEnds, spareTime] = spare.pop() ?? [];
    const time = spareTime !== undefined && spareTime.byteLength >= n * 4 ? new Int32Array(spareTime) : new Int32Array(n + (n >> 3));
    for (let j = 0; j < n; j++) time[j] = events.time[order[j] as number] as number;
    const ends = spareEnds !== undefined && spareEnds.byteLength >= n * 4 ? new Uint32Array(spareEnds) : new Uint32Array(n + (n >> 3));
    const bytes = new GrowBytes(lastBytes + (lastBytes >> 3), spareBytes);
    segments.update(catalog.ids, `${iso(dayStart).slice(0, 10)}T`);
    writeDayEvents(events, order, columns, segments, bytes, ends);
    lastBytes = bytes.pos;
    const reply: ShardReply = { ok: true, kind: 'day', day: msg.day, lines: { count: n, bytes: bytes.bytes(), ends, time } };
    port.postMessage(reply, [bytes.buf.buffer, ends.buffer, time.buffer] as ArrayBuffer[]);
  } catch (error) {
    fail(error);
  }
});
