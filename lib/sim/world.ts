/**
 * The streaming-world simulator: a service history in the data contract, generated day by day and
 * streamed to disk (events are never all in memory), plus the ground truth (latent tastes and item
 * profiles) that simulated users later respond with.
 *
 * What makes it a fair test bed for the shelves:
 * - users have sparse latent tastes over genres and podcast categories; an item's latent profile comes
 *   from its categories and its publisher, so metadata predicts who will like a new item;
 * - popularity is heavy-tailed (log-normal quality), and a few new releases become hits;
 * - habits: users follow shows (new episodes pull them back), leave albums and audiobooks half-way and
 *   resume them, and listen at habitual hours on habitual days: the next familiar item depends on hour,
 *   frequency, progress and new episodes, not only on recency;
 * - discovery by taste × popularity; new users sign up daily, their onboarding picks drawn from their
 *   tastes, and their first days are spent mostly on playlists.
 * Same options and seed give the same bytes.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { SCHEMA_VERSION, type DatasetManifest } from '../core/contract.ts';
import { Rng } from '../core/rng.ts';
import { Catalog, DAY, DIMS, iso } from './catalog.ts';
import { ByteSink, DayEvents, LineSegments, orderByTime, writeDayEvents } from './day-events.ts';
import { createUser, Population, signupTimes, truthUserLine, userLine } from './population.ts';
import { ShardPool, shardWorkerBundle } from './shards.ts';
import { TASTE_DIMS } from './vocabulary.ts';

export interface WorldOptions {
  readonly users: number;
  readonly days: number;
  readonly seed: number;
  /** YYYY-MM-DD of the first simulated day (UTC). */
  readonly start: string;
  /**
   * Worker threads that simulate the users (contiguous ranges) while this thread writes; 0: all in this
   * thread. The bytes are the same for any number. Default: workersFor(users).
   */
  readonly workers?: number;
  readonly onProgress?: (day: number, days: number, events: number) => void;
}

/** Below this many users a world is written in one thread (a worker's start-up, ~1 s of CPU, would cost more than it saves). */
export const WORKER_THRESHOLD_USERS = 50_000;

/**
 * The default number of worker threads: one per core for a large world on a machine with idle cores;
 * none for a small world or a busy machine (workers add ~1 s of CPU each and replay the catalog: on
 * cores other processes already fill, they made a 100k-user world slower, 75 s against 51 s at load 25
 * on 2 cores). Only the speed depends on this: the bytes are the same for any number of workers.
 */
export function workersFor(users: number, cores = availableParallelism(), load = loadavg()[0] ?? 0): number {
  if (users < WORKER_THRESHOLD_USERS || cores < 2) return 0;
  return load <= cores - 1 ? cores : 0;
}

export { DEFAULT_WORLD } from './vocabulary.ts';

/** The catalog grows slower than the audience (a big service does not have proportionally more shows). */
export function catalogScale(users: number): number {
  return Math.max(1, (users / 2000) ** 0.6);
}

/** Generates a world into `out` (a local folder). Returns its manifest. */
export async function generateWorld(out: string, options: WorldOptions): Promise<DatasetManifest> {
  const requested = options.workers ?? workersFor(options.users);
  if (!Number.isInteger(requested) || requested < 0) throw new RangeError(`workers must be a whole number >= 0, got ${options.workers}`);
  const rng = new Rng(options.seed);
  const start = Date.parse(`${options.start}T00:00:00Z`);
  const end = start + options.days * DAY;
  const catalog = new Catalog(rng.fork('publishers'), true);
  for (const dir of ['catalog', 'users', 'truth']) mkdirSync(join(out, dir), { recursive: true });
  const scale = catalogScale(options.users);
  const catalogOut = new ByteSink(join(out, 'catalog', 'catalog.jsonl'));
  let items = 0;
  const flushCatalog = (): void => {
    for (const line of catalog.lines) catalogOut.text(`${line}\n`);
    items += catalog.lines.length;
    catalog.lines = [];
  };
  catalog.seed(rng.fork('catalog'), start, scale);
  const workers = Math.min(requested, options.users);
  const pool =
    workers > 0
      ? new ShardPool(workers, { seed: options.seed, users: options.users, days: options.days, start, scale }, await shardWorkerBundle())
      : undefined;
  try {
    return await write(out, options, { rng, catalog, start, end, scale, catalogOut, pool, flushCatalog, items: () => items });
  } finally {
    await pool?.close();
  }
}

interface WorldState {
  readonly rng: Rng;
  readonly catalog: Catalog;
  readonly start: number;
  readonly end: number;
  readonly scale: number;
  readonly catalogOut: ByteSink;
  readonly pool: ShardPool | undefined;
  readonly flushCatalog: () => void;
  readonly items: () => number;
}

async function write(out: string, options: WorldOptions, state: WorldState): Promise<DatasetManifest> {
  const { rng, catalog, start, end, scale, catalogOut, pool, flushCatalog } = state;
  pool?.request(0);
  const signups = signupTimes(rng.fork('signups'), options.users, options.days, start);
  // With workers, they hold the users' state; this thread writes the users and their events.
  const population = pool === undefined ? new Population(options.seed, 0, options.users) : undefined;
  const columns = { device: new Uint8Array(options.users), country: new Uint8Array(options.users) };
  const usersOut = new ByteSink(join(out, 'users', 'users.jsonl'));
  const truthUsers = new ByteSink(join(out, 'truth', 'users.jsonl'));
  const taste = new Float32Array(DIMS);
  for (let i = 0; i < options.users; i++) {
    const user = createUser(options.seed, i, signups[i] as number, taste);
    usersOut.text(`${userLine(user)}\n`);
    truthUsers.text(`${truthUserLine(user)}\n`);
    columns.device[i] = user.device;
    columns.country[i] = user.country;
    population?.set(i, user);
  }
  usersOut.close();
  truthUsers.close();

  const partitions: DatasetManifest['partitions'] = [];
  let totalEvents = 0;
  const events = new DayEvents();
  const segments = new LineSegments();
  for (let day = 0; day < options.days; day++) {
    const dayStart = start + day * DAY;
    catalog.release(rng.fork(`day-${day}`), dayStart, scale);
    const dt = iso(dayStart).slice(0, 10);
    const dir = join(out, 'events', `dt=${dt}`);
    mkdirSync(dir, { recursive: true });
    const file = 'part-00000.jsonl';
    let order: Uint32Array | undefined;
    if (pool !== undefined) {
      const shards = await pool.take(day);
      if (day + 1 < options.days) pool.request(day + 1);
      events.merge(shards);
    } else {
      events.clear();
      (population as Population).simulateDay(catalog, dayStart, events);
      // Written in time order, ties in generation order.
      order = orderByTime(events.time, events.count);
    }
    const sink = new ByteSink(join(dir, file));
    segments.update(catalog.ids, `${dt}T`);
    const count = writeDayEvents(events, order, columns, segments, sink);
    sink.close();
    flushCatalog();
    partitions.push({ dt, events: count, files: [`events/dt=${dt}/${file}`] });
    totalEvents += count;
    options.onProgress?.(day + 1, options.days, totalEvents);
    // Let the progress line out (and timers run) between days.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }

  flushCatalog();
  catalogOut.close();
  const truthItems = new ByteSink(join(out, 'truth', 'items.jsonl'));
  for (const i of catalog.items) truthItems.text(`${catalog.truthLine(i)}\n`);
  truthItems.close();
  writeFileSync(
    join(out, 'truth', 'params.json'),
    `${JSON.stringify({ dims: TASTE_DIMS, affinityWeight: 4, note: 'play probability = sigmoid(4·taste·latent + log(quality) - 3)' }, null, 2)}\n`,
  );
  const manifest: DatasetManifest = {
    schemaVersion: SCHEMA_VERSION,
    generator: 'home-shelves world simulator',
    seed: options.seed,
    start: iso(start),
    end: iso(end),
    counts: { users: options.users, items: state.items(), events: totalEvents, partitions: partitions.length },
    partitions,
    options: { users: options.users, days: options.days, seed: options.seed, start: options.start },
  };
  writeFileSync(join(out, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}
