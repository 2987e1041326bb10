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
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SCHEMA_VERSION, type CatalogItem, type DatasetManifest, type ListeningEvent, type User } from '../core/contract.ts';
import { hashString, Rng } from '../core/rng.ts';
import { AGE_BANDS_WEIGHTED, CATEGORIES, COUNTRIES, DEVICES_WEIGHTED, GENRES, TASTE_DIMS } from './vocabulary.ts';

const DAY = 86_400_000;
const MINUTE = 60_000;

export interface WorldOptions {
  readonly users: number;
  readonly days: number;
  readonly seed: number;
  /** YYYY-MM-DD of the first simulated day (UTC). */
  readonly start: string;
  readonly onProgress?: (day: number, days: number, events: number) => void;
}

export { DEFAULT_WORLD } from './vocabulary.ts';

type Kind = 'show' | 'playlist' | 'album' | 'audiobook';

interface SimItem {
  readonly id: string;
  readonly kind: Kind;
  readonly latent: Float32Array;
  readonly quality: number;
  /** log(quality), cached: discovery scores it for every candidate. */
  readonly logQuality: number;
  readonly publishedAt: number;
  readonly durationMs: number;
  /** Shows: days between episodes (1 daily, 7 weekly). */
  readonly cadence: number;
  readonly primary: string;
  readonly language: string;
  readonly publisher: string;
  /** Shows: their episodes (id, publish time), oldest first. */
  readonly episodes: { id: string; at: number; durationMs: number }[];
}

interface Familiar {
  readonly itemId: string;
  /** Hour the user usually listens to it. */
  readonly hour: number;
  plays: number;
  progress: number;
  lastAt: number;
  /** Shows: index of the next episode to hear. */
  nextEpisode: number;
}

interface SimUser {
  readonly id: string;
  readonly taste: Float32Array;
  /** The taste dimensions with weight > 0 and their weights, computed once (discovery draws from them every session). */
  readonly tasteDims: readonly (readonly [number, number])[];
  readonly signupAt: number;
  readonly country: string;
  readonly language: string;
  readonly device: string;
  readonly hours: readonly number[];
  readonly rate: number;
  readonly weekendFactor: number;
  readonly familiar: Familiar[];
}

function pickWeighted<T>(rng: Rng, options: readonly (readonly [T, number])[]): T {
  let total = 0;
  for (const [, w] of options) total += w;
  let r = rng.next() * total;
  for (const [value, w] of options) {
    r -= w;
    if (r <= 0) return value;
  }
  return (options[options.length - 1] as readonly [T, number])[0];
}

function poisson(rng: Rng, lambda: number): number {
  const l = Math.exp(-lambda);
  let k = 0;
  let p = 1;
  do {
    k++;
    p *= rng.next();
  } while (p > l && k < 20);
  return k - 1;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s;
}

/** Writes lines to a file in 256 KiB chunks, waiting for the stream to drain when its buffer is full. */
class LineWriter {
  private readonly stream: WriteStream;
  private buffer: string[] = [];
  private size = 0;
  count = 0;
  constructor(path: string) {
    this.stream = createWriteStream(path);
  }
  /** Adds a line; resolves at once unless a chunk had to be flushed. */
  write(line: string): Promise<void> | undefined {
    this.count++;
    this.buffer.push(line);
    this.size += line.length + 1;
    return this.size >= 262_144 ? this.flush() : undefined;
  }
  /** Writes lines[order[0]], lines[order[1]], ... in chunks, waiting only when the stream is full. */
  async writeAll(order: Uint32Array, lines: readonly string[]): Promise<void> {
    await this.flush();
    const CHUNK = 4096;
    for (let start = 0; start < order.length; start += CHUNK) {
      const end = Math.min(order.length, start + CHUNK);
      let chunk = '';
      for (let i = start; i < end; i++) chunk += `${lines[order[i] as number] as string}\n`;
      this.count += end - start;
      if (!this.stream.write(chunk)) await new Promise<void>((resolve) => this.stream.once('drain', resolve));
    }
  }

  private async flush(): Promise<void> {
    if (this.buffer.length === 0) return;
    const chunk = `${this.buffer.join('\n')}\n`;
    this.buffer = [];
    this.size = 0;
    if (!this.stream.write(chunk)) await new Promise<void>((resolve) => this.stream.once('drain', resolve));
  }
  async close(): Promise<void> {
    await this.flush();
    await new Promise<void>((resolve, reject) => this.stream.end((error?: Error | null) => (error ? reject(error) : resolve())));
  }
}

interface Pool {
  readonly items: SimItem[];
  cumulative: Float64Array | undefined;
}

/** choose()'s candidates, reused across calls (the simulator is single-threaded). */
const SAMPLE: SimItem[] = [];

class World {
  readonly rng: Rng;
  readonly start: number;
  readonly items: SimItem[] = [];
  /** Items by `kind:category` and by `kind:*`, with cumulative quality for popularity-weighted draws (rebuilt when items are added). */
  readonly pools = new Map<string, Pool>();
  /** The same pools by kind and taste dimension (index TASTE_DIMS.length: the whole kind), for choose()'s draws. */
  private readonly poolsByDim = new Map<Kind, (Pool | undefined)[]>();
  readonly users: SimUser[] = [];
  readonly publishers: { name: string; dim: number; lean: Float32Array }[] = [];
  catalogLines: string[] = [];
  private seq = 0;

  constructor(readonly options: WorldOptions) {
    this.rng = new Rng(options.seed);
    this.start = Date.parse(`${options.start}T00:00:00Z`);
    const prng = this.rng.fork('publishers');
    for (let p = 0; p < 80; p++) {
      const dim = prng.int(TASTE_DIMS.length);
      const lean = new Float32Array(TASTE_DIMS.length);
      lean[dim] = 0.5;
      lean[prng.int(TASTE_DIMS.length)]! += 0.25;
      this.publishers.push({ name: `publisher-${String(p).padStart(3, '0')}`, dim, lean });
    }
  }

  /** A new item of `kind` published at `at`; hits are rare and loud. */
  addItem(kind: Kind, at: number, rng: Rng, hitChance: number): SimItem {
    const isMusic = kind === 'album' || kind === 'playlist';
    const dims = isMusic ? GENRES.length : CATEGORIES.length;
    const offset = isMusic ? 0 : GENRES.length;
    const primaryIndex = offset + Math.min(dims - 1, Math.floor(rng.next() ** 1.3 * dims));
    const secondary = rng.next() < 0.5 ? offset + rng.int(dims) : -1;
    const candidates = this.publishers.filter((p) => p.dim >= offset && p.dim < offset + dims);
    const publisher =
      rng.next() < 0.7
        ? (candidates.find((p) => p.dim === primaryIndex) ?? candidates[rng.int(candidates.length)])
        : candidates[rng.int(candidates.length)];
    const latent = new Float32Array(TASTE_DIMS.length);
    latent[primaryIndex] = 1;
    if (secondary >= 0 && secondary !== primaryIndex) latent[secondary]! += 0.5;
    if (publisher) for (let d = 0; d < latent.length; d++) latent[d]! += 0.6 * (publisher.lean[d] as number);
    for (let d = 0; d < latent.length; d++) latent[d]! += 0.05 * rng.next();
    const quality = Math.exp(rng.normal() * 1.2) * (rng.next() < hitChance ? 15 : 1);
    this.seq++;
    const id = `${kind === 'show' ? 'sh' : kind === 'playlist' ? 'pl' : kind === 'album' ? 'al' : 'ab'}-${String(this.seq).padStart(6, '0')}`;
    const item: SimItem = {
      id,
      kind,
      latent,
      quality,
      logQuality: Math.log(quality),
      publishedAt: at,
      durationMs:
        kind === 'audiobook'
          ? (5 + rng.int(8)) * 3_600_000
          : kind === 'album'
            ? (35 + rng.int(30)) * MINUTE
            : kind === 'playlist'
              ? (60 + rng.int(120)) * MINUTE
              : 0,
      cadence: kind === 'show' ? (rng.next() < 0.3 ? 1 : 7) : 0,
      primary: TASTE_DIMS[primaryIndex] as string,
      publisher: publisher?.name ?? 'independent',
      language: pickWeighted(rng, [
        ['en', 0.55],
        ['sv', 0.1],
        ['de', 0.1],
        ['es', 0.08],
        ['pt', 0.07],
        ['hi', 0.05],
        ['ja', 0.05],
      ] as const),
      episodes: [],
    };
    this.items.push(item);
    for (const key of [`${kind}:${item.primary}`, `${kind}:*`]) {
      let pool = this.pools.get(key);
      if (pool === undefined) this.pools.set(key, (pool = { items: [], cumulative: undefined }));
      pool.items.push(item);
      pool.cumulative = undefined;
    }
    const categories = [item.primary, ...(secondary >= 0 && secondary !== primaryIndex ? [TASTE_DIMS[secondary] as string] : [])];
    const language = item.language;
    const record: CatalogItem = {
      itemId: id,
      type: kind,
      title: `${kind} ${this.seq} on ${item.primary}`,
      categories,
      publisher: item.publisher,
      language,
      publishedAt: iso(at),
      ...(item.durationMs > 0 ? { durationMs: item.durationMs } : {}),
    };
    this.catalogLines.push(JSON.stringify(record));
    return item;
  }

  addEpisode(show: SimItem, at: number, rng: Rng): void {
    const n = show.episodes.length + 1;
    const id = `${show.id}-ep${String(n).padStart(4, '0')}`;
    const durationMs = (20 + rng.int(50)) * MINUTE;
    show.episodes.push({ id, at, durationMs });
    const record: CatalogItem = {
      itemId: id,
      type: 'episode',
      title: `${show.id} episode ${n}`,
      categories: [show.primary],
      publisher: show.publisher,
      language: show.language,
      publishedAt: iso(at),
      showId: show.id,
      durationMs,
    };
    this.catalogLines.push(JSON.stringify(record));
  }

  addUser(index: number, signupAt: number): { user: SimUser; record: User } {
    const rng = new Rng(hashString(`${this.options.seed}:user:${index}`));
    const taste = new Float32Array(TASTE_DIMS.length);
    const genreCount = 1 + rng.int(3);
    const categoryCount = 1 + rng.int(3);
    for (let g = 0; g < genreCount; g++)
      taste[Math.min(GENRES.length - 1, Math.floor(rng.next() ** 1.3 * GENRES.length))]! += 0.3 + rng.next();
    for (let c = 0; c < categoryCount; c++)
      taste[GENRES.length + Math.min(CATEGORIES.length - 1, Math.floor(rng.next() ** 1.3 * CATEGORIES.length))]! += 0.3 + rng.next();
    const norm = Math.sqrt(dot(taste, taste)) || 1;
    for (let d = 0; d < taste.length; d++) taste[d] = (taste[d] as number) / norm;
    const country = pickWeighted(
      rng,
      COUNTRIES.map((c) => [c, c.weight] as const),
    );
    const top = [...taste].map((w, d) => [d, w] as const).sort((a, b) => b[1] - a[1]);
    const picks = new Set<string>();
    const pickCount = 2 + rng.int(3);
    for (const [d, w] of top) if (picks.size < pickCount && w > 0 && rng.next() < 0.85) picks.add(TASTE_DIMS[d] as string);
    if (rng.next() < 0.3) picks.add(TASTE_DIMS[rng.int(TASTE_DIMS.length)] as string);
    const primaryHour = pickWeighted(rng, [
      [7, 2],
      [8, 3],
      [12, 1],
      [17, 2],
      [18, 2],
      [20, 3],
      [21, 2],
      [22, 1],
    ] as const);
    const user: SimUser = {
      id: `u-${String(index).padStart(7, '0')}`,
      taste,
      tasteDims: [...taste].map((w, d) => [d, w] as const).filter(([, w]) => w > 0),
      signupAt,
      country: country.code,
      language: pickWeighted(rng, country.languages),
      device: pickWeighted(rng, DEVICES_WEIGHTED),
      hours: [primaryHour, (primaryHour + 8 + rng.int(6)) % 24],
      rate: Math.exp(rng.normal() * 0.5) * 1.1,
      weekendFactor: 0.6 + rng.next() * 0.8,
      familiar: [],
    };
    const record: User = {
      userId: user.id,
      country: user.country,
      signupAt: iso(signupAt),
      onboardingGenres: [...picks].sort(),
      device: user.device as User['device'],
      ageBand: pickWeighted(rng, AGE_BANDS_WEIGHTED) as User['ageBand'],
    };
    this.users.push(user);
    return { user, record };
  }

  /** An item of the pool drawn with probability proportional to its quality (what charts and word of mouth do). */
  draw(key: string, rng: Rng): SimItem | undefined {
    return this.drawFrom(this.pools.get(key), rng);
  }

  /** The pool of `kind` items whose primary dimension is `dim` (TASTE_DIMS.length: any). */
  private poolOf(kind: Kind, dim: number): Pool | undefined {
    let byDim = this.poolsByDim.get(kind);
    if (byDim === undefined) this.poolsByDim.set(kind, (byDim = []));
    let pool = byDim[dim];
    if (pool === undefined) {
      pool = this.pools.get(`${kind}:${dim === TASTE_DIMS.length ? '*' : TASTE_DIMS[dim]}`);
      if (pool !== undefined) byDim[dim] = pool; // pools are never replaced once created
    }
    return pool;
  }

  private drawFrom(pool: Pool | undefined, rng: Rng): SimItem | undefined {
    if (pool === undefined || pool.items.length === 0) return undefined;
    if (pool.cumulative === undefined) {
      const built = new Float64Array(pool.items.length);
      let total = 0;
      pool.items.forEach((item, i) => {
        built[i] = total += item.quality;
      });
      pool.cumulative = built;
    }
    const cumulative = pool.cumulative;
    const r = rng.next() * (cumulative[cumulative.length - 1] as number);
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((cumulative[mid] as number) > r) hi = mid;
      else lo = mid + 1;
    }
    return pool.items[lo];
  }

  /**
   * Taste × popularity choice: candidates drawn by popularity, two thirds from the user's taste dimensions
   * and one third from the whole kind, then one picked by softmax(4·affinity + 0.5·log quality + language match).
   */
  choose(user: SimUser, kind: Kind, rng: Rng, now: number, exclude: ReadonlySet<string>): SimItem | undefined {
    const sample = SAMPLE;
    sample.length = 0;
    const dims = user.tasteDims;
    for (let s = 0; s < 16 && dims.length > 0; s++) {
      const item = this.drawFrom(this.poolOf(kind, pickWeighted(rng, dims)), rng);
      if (item) sample.push(item);
    }
    const any = this.poolOf(kind, TASTE_DIMS.length);
    for (let s = 0; s < 8; s++) {
      const item = this.drawFrom(any, rng);
      if (item) sample.push(item);
    }
    let best: SimItem | undefined;
    let bestKey = -Infinity;
    for (const item of sample) {
      if (item.publishedAt > now || exclude.has(item.id)) continue;
      // Gumbel-max sampling of the softmax.
      const own = item.language === user.language ? 1 : item.language === 'en' ? 0.3 : 0;
      const key = 4 * dot(user.taste, item.latent) + 0.5 * item.logQuality + own - Math.log(-Math.log(rng.next() || 1e-12));
      if (key > bestKey) {
        bestKey = key;
        best = item;
      }
    }
    return best;
  }
}

/** Generates a world into `out` (a local folder). Returns its manifest. */
export async function generateWorld(out: string, options: WorldOptions): Promise<DatasetManifest> {
  const world = new World(options);
  const { start } = world;
  const end = start + options.days * DAY;
  await mkdir(join(out, 'catalog'), { recursive: true });
  await mkdir(join(out, 'users'), { recursive: true });
  await mkdir(join(out, 'truth'), { recursive: true });
  // The catalog grows slower than the audience (a big service does not have proportionally more shows).
  const scale = Math.max(1, (options.users / 2000) ** 0.6);
  const catalogOut = new LineWriter(join(out, 'catalog', 'catalog.jsonl'));
  const flushCatalog = async (): Promise<void> => {
    for (const line of world.catalogLines) await catalogOut.write(line);
    world.catalogLines = [];
  };
  const crng = world.rng.fork('catalog');
  const initial: Record<Kind, number> = {
    show: Math.round(250 * scale),
    playlist: Math.round(200 * scale),
    album: Math.round(300 * scale),
    audiobook: Math.round(80 * scale),
  };
  for (const kind of ['show', 'playlist', 'album', 'audiobook'] as const) {
    for (let i = 0; i < initial[kind]; i++) {
      const item = world.addItem(kind, start - (30 + crng.int(700)) * DAY, crng, 0.02);
      if (kind === 'show')
        for (let e = 4; e >= 1; e--) world.addEpisode(item, start - e * item.cadence * DAY - crng.int(6) * 3_600_000, crng);
    }
  }
  const usersOut = new LineWriter(join(out, 'users', 'users.jsonl'));
  const truthUsers = new LineWriter(join(out, 'truth', 'users.jsonl'));
  const initialUsers = Math.round(options.users * 0.8);
  const urng = world.rng.fork('signups');
  for (let i = 0; i < options.users; i++) {
    const signupAt =
      i < initialUsers
        ? start - (1 + urng.int(365)) * DAY - urng.int(DAY)
        : start + Math.floor(((i - initialUsers) / Math.max(1, options.users - initialUsers)) * options.days * DAY) + urng.int(DAY / 2);
    const { user, record } = world.addUser(i, signupAt);
    await usersOut.write(JSON.stringify(record));
    await truthUsers.write(JSON.stringify({ userId: user.id, taste: Array.from(user.taste, (x) => Number(x.toFixed(5))) }));
  }
  await usersOut.close();
  await truthUsers.close();

  const partitions: DatasetManifest['partitions'] = [];
  let totalEvents = 0;
  for (let day = 0; day < options.days; day++) {
    const dayStart = start + day * DAY;
    const drng = world.rng.fork(`day-${day}`);
    // Today's releases: shows, playlists, albums; episodes of shows on their cadence.
    const releases: [Kind, number][] = [
      ['show', 3 * scale],
      ['playlist', 2 * scale],
      ['album', 2 * scale],
      ['audiobook', 0.3 * scale],
    ];
    // Shows and playlists appear every day (at least one of each); albums and audiobooks most days.
    for (const [kind, mean] of releases) {
      const atLeast = kind === 'show' || kind === 'playlist' ? 1 : 0;
      for (let n = atLeast + poisson(drng, Math.max(0, mean - atLeast)); n > 0; n--)
        world.addItem(kind, dayStart + drng.int(DAY), drng, 0.05);
    }
    for (const show of world.items) {
      if (show.kind !== 'show' || show.publishedAt >= dayStart + DAY) continue;
      const last = show.episodes[show.episodes.length - 1]?.at ?? show.publishedAt - show.cadence * DAY;
      if (dayStart + DAY - last >= show.cadence * DAY)
        world.addEpisode(show, Math.max(dayStart, show.publishedAt) + (5 + drng.int(4)) * 3_600_000, drng);
    }
    const dt = iso(dayStart).slice(0, 10);
    const dir = join(out, 'events', `dt=${dt}`);
    await mkdir(dir, { recursive: true });
    const file = 'part-00000.jsonl';
    const writer = new LineWriter(join(dir, file));
    const weekday = new Date(dayStart).getUTCDay();
    // The day's events are kept compactly (line + time), then written in time order (stable for ties).
    const day$: DayEvents = { lines: [], times: [], dayPrefix: `${dt}T`, dayStart };
    for (const user of world.users) {
      if (user.signupAt >= dayStart + DAY) continue;
      simulateUserDay(world, user, dayStart, weekday, day$);
    }
    const { lines: dayLines, times: dayTimes } = day$;
    const order = Uint32Array.from(dayTimes.keys()).sort((x, y) => (dayTimes[x] as number) - (dayTimes[y] as number) || x - y);
    await writer.writeAll(order, dayLines);
    await writer.close();
    await flushCatalog();
    partitions.push({ dt, events: writer.count, files: [`events/dt=${dt}/${file}`] });
    totalEvents += writer.count;
    options.onProgress?.(day + 1, options.days, totalEvents);
  }

  await flushCatalog();
  const items = catalogOut.count;
  await catalogOut.close();
  const truthItems = new LineWriter(join(out, 'truth', 'items.jsonl'));
  for (const i of world.items)
    await truthItems.write(
      JSON.stringify({
        itemId: i.id,
        kind: i.kind,
        publishedAt: iso(i.publishedAt),
        quality: Number(i.quality.toFixed(5)),
        latent: Array.from(i.latent, (x) => Number(x.toFixed(5))),
      }),
    );
  await truthItems.close();
  await writeFile(
    join(out, 'truth', 'params.json'),
    `${JSON.stringify({ dims: TASTE_DIMS, affinityWeight: 4, note: 'play probability = sigmoid(4·taste·latent + log(quality) - 3)' }, null, 2)}\n`,
  );
  const manifest: DatasetManifest = {
    schemaVersion: SCHEMA_VERSION,
    generator: 'home-shelves world simulator',
    seed: options.seed,
    start: iso(start),
    end: iso(end),
    counts: { users: options.users, items, events: totalEvents, partitions: partitions.length },
    partitions,
    options: { users: options.users, days: options.days, seed: options.seed, start: options.start },
  };
  await writeFile(join(out, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/**
 * A day's event lines and their times, appended in generation order (sorted by time before writing).
 * Lines are built directly, byte for byte what JSON.stringify gives for a ListeningEvent, without an
 * object, a Date or a parse per event: the simulator's hot path.
 */
interface DayEvents {
  readonly lines: string[];
  readonly times: number[];
  /** `YYYY-MM-DDT` of the day. */
  readonly dayPrefix: string;
  readonly dayStart: number;
}

const pad2 = (n: number): string => (n < 10 ? `0${n}` : String(n));
const pad3 = (n: number): string => (n < 10 ? `00${n}` : n < 100 ? `0${n}` : String(n));

/** new Date(ms).toISOString() for a time within the day, without a Date. */
function isoInDay(ms: number, day: DayEvents): string {
  let t = ms - day.dayStart;
  const h = Math.floor(t / 3_600_000);
  t -= h * 3_600_000;
  const m = Math.floor(t / 60_000);
  t -= m * 60_000;
  const sec = Math.floor(t / 1000);
  return `${day.dayPrefix}${pad2(h)}:${pad2(m)}:${pad2(sec)}.${pad3(t - sec * 1000)}Z`;
}

/** The number of a show's episodes published at or before `now` (episodes are in publish order). */
function availableEpisodes(item: SimItem, now: number): number {
  let lo = 0;
  let hi = item.episodes.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((item.episodes[mid] as { at: number }).at <= now) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** One user's day: sessions at habitual hours, each resuming something familiar or discovering. */
function simulateUserDay(world: World, user: SimUser, dayStart: number, weekday: number, day: DayEvents): void {
  const rng = new Rng(hashString(`${world.options.seed}:${user.id}:${dayStart}`));
  // Field order and number formatting as JSON.stringify of a ListeningEvent gives (ids need no escaping).
  const head = `{"userId":"${user.id}","itemId":"`;
  const tail = `","device":"${user.device}","country":"${user.country}","localHour":`;
  const isNew = dayStart - user.signupAt < 4 * DAY;
  const weekend = weekday === 0 || weekday === 6;
  const sessions = poisson(rng, user.rate * (weekend ? user.weekendFactor : 1) * (isNew ? 1.5 : 1));
  const tz = 0; // localHour is the simulated user's own clock; timestamps are UTC at the same hour.
  let lastTs = dayStart;
  const hours = [
    ...new Set(Array.from({ length: sessions }, () => (rng.next() < 0.75 ? (user.hours[0] as number) : (user.hours[1] as number)))),
  ].sort((a, b) => a - b);
  for (const baseHour of hours) {
    const hour = Math.max(0, Math.min(23, baseHour + (rng.next() < 0.2 ? (rng.next() < 0.5 ? -1 : 1) : 0)));
    let ts = Math.max(lastTs + MINUTE, user.signupAt + MINUTE, dayStart + (hour + tz) * 3_600_000 + rng.int(50) * MINUTE);
    if (ts >= dayStart + DAY) break;
    const mode = pickMode(user, rng, isNew, ts);
    const listen = (itemId: string, eventType: ListeningEvent['eventType'], msPlayed: number, progress: number): void => {
      if (ts >= dayStart + DAY) return; // past midnight: the rest of the session is not logged today
      const ms = Math.max(0, Math.round(msPlayed));
      const share = Math.max(0, Math.min(1, Number(progress.toFixed(4))));
      day.lines.push(
        `${head}${itemId}","eventType":"${eventType}","msPlayed":${ms},"progress":${share},"timestamp":"${isoInDay(ts, day)}${tail}${Math.floor((ts - dayStart) / 3_600_000)}}`,
      );
      day.times.push(ts);
      ts += Math.max(MINUTE, Math.round(msPlayed)) + rng.int(3) * MINUTE;
    };
    if (mode === 'familiar') {
      const f = pickFamiliar(world, user, rng, hour, ts);
      if (f !== undefined) {
        playFamiliar(world, user, f, rng, ts, listen);
        lastTs = ts;
        continue;
      }
    }
    const kind: Kind = mode === 'playlist' ? 'playlist' : mode === 'show' ? 'show' : rng.next() < 0.7 ? 'album' : 'audiobook';
    const known = new Set(user.familiar.map((f) => f.itemId));
    // A couple of impressions skipped before the pick: browsing.
    for (let s = rng.int(3); s > 0; s--) {
      const seen = world.choose(user, kind, rng, ts, known);
      if (seen === undefined) continue;
      const seenId = kind === 'show' ? (seen.episodes[seen.episodes.length - 1]?.id ?? seen.id) : seen.id;
      if (rng.next() < 0.5) listen(seenId, 'impression', 0, 0);
      else listen(seenId, 'skip', rng.int(20_000), 0);
    }
    const item = world.choose(user, kind, rng, ts, known);
    if (item === undefined) continue;
    const f: Familiar = {
      itemId: item.id,
      hour,
      plays: 0,
      progress: 0,
      lastAt: ts,
      nextEpisode: Math.max(0, availableEpisodes(item, ts) - 1),
    };
    const affinity = dot(user.taste, item.latent);
    const keep = 1 / (1 + Math.exp(-(4 * affinity + Math.log(item.quality) - 2)));
    playFamiliar(world, user, f, rng, ts, listen, keep);
    if (rng.next() < keep) {
      if (rng.next() < 0.15) listen(item.id, 'save', 0, f.progress);
      user.familiar.push(f);
      if (user.familiar.length > 12)
        user.familiar.splice(
          Math.max(
            0,
            user.familiar.findIndex((x) => x.progress >= 1 || x.plays <= 1),
          ),
          1,
        );
    }
    lastTs = ts;
  }
}

function pickMode(user: SimUser, rng: Rng, isNew: boolean, now: number): 'familiar' | 'show' | 'playlist' | 'other' {
  const r = rng.next();
  if (isNew) return r < 0.6 ? 'playlist' : r < 0.8 ? 'show' : user.familiar.length > 0 ? 'familiar' : 'other';
  const familiarShare = user.familiar.length === 0 ? 0 : 0.72;
  if (r < familiarShare) return 'familiar';
  const s = rng.next();
  void now;
  return s < 0.4 ? 'show' : s < 0.75 ? 'playlist' : 'other';
}

/** Which familiar item a session opens with: hour habit, frequency, progress and new episodes all pull. */
function pickFamiliar(world: World, user: SimUser, rng: Rng, hour: number, now: number): Familiar | undefined {
  const options: [Familiar, number][] = [];
  for (const f of user.familiar) {
    const item = itemById(world, f.itemId);
    if (item === undefined) continue;
    let w = 1 + Math.log1p(f.plays);
    const dh = Math.min(Math.abs(f.hour - hour), 24 - Math.abs(f.hour - hour));
    w *= dh <= 1 ? 4 : dh <= 3 ? 1.5 : 0.5;
    if (item.kind === 'show') {
      const available = availableEpisodes(item, now);
      w *= f.nextEpisode < available ? 4 : 0.3;
    } else if (item.kind === 'album' || item.kind === 'audiobook') {
      w *= f.progress > 0 && f.progress < 1 ? 3 : 0.4;
    }
    options.push([f, w]);
  }
  return options.length === 0 ? undefined : pickWeighted(rng, options);
}

const itemIndex = new WeakMap<World, Map<string, SimItem>>();
function itemById(world: World, id: string): SimItem | undefined {
  let index = itemIndex.get(world);
  if (index === undefined || index.size !== world.items.length) {
    index = new Map(world.items.map((i) => [i.id, i]));
    itemIndex.set(world, index);
  }
  return index.get(id);
}

function playFamiliar(
  world: World,
  user: SimUser,
  f: Familiar,
  rng: Rng,
  now: number,
  listen: (itemId: string, type: ListeningEvent['eventType'], ms: number, progress: number) => void,
  engagement = 0.8,
): void {
  const item = itemById(world, f.itemId);
  if (item === undefined) return;
  f.plays++;
  f.lastAt = now;
  if (item.kind === 'show') {
    const available = availableEpisodes(item, now);
    const episode = item.episodes[Math.min(f.nextEpisode, available - 1)];
    if (episode === undefined) return;
    const share = Math.min(1, 0.3 + engagement * rng.next() + 0.2);
    listen(episode.id, share >= 0.98 ? 'complete' : 'play', Math.floor(episode.durationMs * share), share);
    if (share > 0.6) f.nextEpisode = Math.min(available, f.nextEpisode + 1);
  } else if (item.kind === 'playlist') {
    const share = 0.1 + 0.5 * rng.next() * engagement;
    listen(item.id, 'play', item.durationMs * share, share);
  } else {
    const chunk = (item.kind === 'audiobook' ? 0.08 : 0.35) + 0.3 * rng.next() * engagement;
    const before = f.progress;
    f.progress = Math.min(1, before + chunk);
    listen(item.id, before > 0 ? (f.progress >= 1 ? 'complete' : 'resume') : 'play', item.durationMs * (f.progress - before), f.progress);
  }
  void user;
}
