/**
 * A worker thread that simulates users [from, to) of a world, day by day on request: it rebuilds the
 * catalog from the seed (the same draws as the writing thread), then answers each `{ day }` with that
 * day's events of its users in time order, as transferred typed arrays.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Rng } from '../core/rng.ts';
import { Catalog, DAY, DIMS } from './catalog.ts';
import { DayEvents, orderByTime } from './day-events.ts';
import { createUser, Population, signupTimes } from './population.ts';

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
  | {
      readonly ok: true;
      readonly day: number;
      readonly events: import('./day-events.ts').DayColumns;
    }
  | { readonly ok: false; readonly message: string };

const init = workerData as ShardInit;
const port = parentPort;
if (port === null) throw new Error('shard-worker.ts runs as a worker thread (parentPort is null)');

const rng = new Rng(init.seed);
const catalog = new Catalog(rng.fork('publishers'), false);
catalog.seed(rng.fork('catalog'), init.start, init.scale);
const signups = signupTimes(rng.fork('signups'), init.users, init.days, init.start);
const population = new Population(init.seed, init.from, init.to);
const taste = new Float32Array(DIMS);
for (let i = init.from; i < init.to; i++) population.set(i, createUser(init.seed, i, signups[i] as number, taste));
const events = new DayEvents();
let nextDay = 0;

port.on('message', (msg: { day: number }) => {
  try {
    // Days are replayed in order: the catalog of day d is built on day d-1's.
    if (msg.day !== nextDay) throw new RangeError(`shard asked for day ${msg.day}, expected day ${nextDay}`);
    nextDay++;
    const dayStart = init.start + msg.day * DAY;
    catalog.release(rng.fork(`day-${msg.day}`), dayStart, init.scale);
    events.clear();
    population.simulateDay(catalog, dayStart, events);
    const sorted = events.permuted(orderByTime(events.time, events.count));
    const reply: ShardReply = { ok: true, day: msg.day, events: sorted };
    port.postMessage(reply, [
      sorted.time.buffer,
      sorted.user.buffer,
      sorted.ref.buffer,
      sorted.type.buffer,
      sorted.msPlayed.buffer,
      sorted.share.buffer,
    ] as ArrayBuffer[]);
  } catch (error) {
    const reply: ShardReply = { ok: false, message: error instanceof Error ? (error.stack ?? error.message) : String(error) };
    port.postMessage(reply);
  }
});
