/**
 * The simulated catalog: items with latent profiles, shows' episodes, the pools that discovery draws
 * from by popularity, and the catalog lines in the data contract. Everything here is replayed from the
 * seed alone (never from users), so a worker that simulates a share of the users rebuilds the same
 * catalog day by day instead of receiving it.
 */
import type { CatalogItem } from '../core/contract.ts';
import type { Rng } from '../core/rng.ts';
import { CATEGORIES, GENRES, TASTE_DIMS } from './vocabulary.ts';

export const DAY = 86_400_000;
export const MINUTE = 60_000;
/** Dimensions of the taste space. */
export const DIMS = TASTE_DIMS.length;

export type Kind = 'show' | 'playlist' | 'album' | 'audiobook';
export const KINDS: readonly Kind[] = ['show', 'playlist', 'album', 'audiobook'];
export const SHOW = 0;
export const PLAYLIST = 1;
export const ALBUM = 2;
export const AUDIOBOOK = 3;
/** Item and user languages; users and items compare them by index. */
export const LANGUAGES: readonly string[] = ['en', 'sv', 'de', 'es', 'pt', 'hi', 'ja'];

export interface Episode {
  readonly id: string;
  readonly at: number;
  readonly durationMs: number;
  /** Position in Catalog.ids. */
  readonly ref: number;
}

export interface SimItem {
  /** Position in Catalog.items. */
  readonly index: number;
  readonly id: string;
  /** Position in Catalog.ids. */
  readonly ref: number;
  readonly kind: Kind;
  /** KINDS index (SHOW, PLAYLIST, ALBUM, AUDIOBOOK). */
  readonly kindIndex: number;
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
  /** LANGUAGES index of `language`. */
  readonly languageIndex: number;
  readonly publisher: string;
  /** Shows: their episodes, oldest first. */
  readonly episodes: Episode[];
}

/** Items of one kind (and one primary dimension, or all), with cumulative quality for popularity-weighted draws. */
export interface Pool {
  /** Item indices; the first `size` are in use. */
  indices: Int32Array;
  size: number;
  /** Rebuilt lazily after items were added. */
  cumulative: Float64Array | undefined;
  /**
   * guide[j]: the first index whose cumulative quality exceeds j·step (step = total / guide buckets), so
   * that a draw binary-searches one bucket instead of the whole pool (same index as the whole search).
   */
  guide: Int32Array | undefined;
  step: number;
}

/**
 * What discovery reads of every candidate, in one 128-byte record per item (two cache lines: objects
 * and their Float32Arrays were scattered over the heap, and a million-user world's catalog does not fit
 * in cache), seen through three views of one buffer: as doubles, [0] published time, [1] log
 * quality, [2] a show's latest episode time; as int32, [6] a mark discovery uses to skip familiar
 * items, [7] language index | kind index << 8; as float32, [8..31] the latent profile (its own float32
 * values). A show's episode count is in `episodeCounts`.
 */
export const RECORD_BYTES = 128;
export const F64_STRIDE = RECORD_BYTES / 8;
export const F32_STRIDE = RECORD_BYTES / 4;
export const F64_PUBLISHED = 0;
export const F64_LOG_QUALITY = 1;
/** Shows: the latest episode's publish time (-Infinity before the first). */
export const F64_LAST_EPISODE = 2;
export const I32_MARK = 6;
/** Language index | kind index << 8. */
export const I32_LANGUAGE_KIND = 7;
export const F32_LATENT = 8;

/** The item records (see RECORD_BYTES), as doubles, int32 and float32. */
export interface ItemRecords {
  readonly f64: Float64Array;
  readonly i32: Int32Array;
  readonly f32: Float32Array;
  /** Shows' episode counts by item. */
  readonly episodeCounts: Int32Array;
}

function records(items: number): ItemRecords {
  const buffer = new ArrayBuffer(items * RECORD_BYTES);
  return {
    f64: new Float64Array(buffer),
    i32: new Int32Array(buffer),
    f32: new Float32Array(buffer),
    episodeCounts: new Int32Array(items),
  };
}

const ITEM_LANGUAGES = [
  ['en', 0.55],
  ['sv', 0.1],
  ['de', 0.1],
  ['es', 0.08],
  ['pt', 0.07],
  ['hi', 0.05],
  ['ja', 0.05],
] as const;

export function pickWeighted<T>(rng: Rng, options: readonly (readonly [T, number])[]): T {
  let total = 0;
  for (const [, w] of options) total += w;
  let r = rng.next() * total;
  for (const [value, w] of options) {
    r -= w;
    if (r <= 0) return value;
  }
  return (options[options.length - 1] as readonly [T, number])[0];
}

/** Weights for pickIndex, with their total summed in order (as pickWeighted sums them). */
export interface IndexWeights {
  readonly weights: Float64Array;
  readonly total: number;
}

export function indexWeights(weights: readonly number[]): IndexWeights {
  let total = 0;
  for (const w of weights) total += w;
  return { weights: Float64Array.from(weights), total };
}

/** pickWeighted's draw, returning the option's index: the same random number, the same choice. */
export function pickIndex(rng: Rng, options: IndexWeights): number {
  const weights = options.weights;
  let r = rng.next() * options.total;
  for (let i = 0; i < weights.length; i++) {
    r -= weights[i] as number;
    if (r <= 0) return i;
  }
  return weights.length - 1;
}

export function poissonDraw(next: () => number, lambda: number): number {
  const l = Math.exp(-lambda);
  let k = 0;
  let p = 1;
  do {
    k++;
    p *= next();
  } while (p > l && k < 20);
  return k - 1;
}

/** 'YYYY-MM-DDT' of each day met (days since the epoch): iso() formats a day's date once. */
const dayPrefixes = new Map<number, string>();
const TWO_DIGITS = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));
const THREE_DIGITS = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));

/** Years 1970 to 9999 have the 'YYYY-MM-DDT' prefix; iso() leaves other times to toISOString. */
const ISO_FAST_END = Date.UTC(10_000, 0, 1);

/** new Date(ms).toISOString(): for an integer `ms` from 1970 to 9999, the date part from toISOString itself, once a day. */
export function iso(ms: number): string {
  if (!Number.isInteger(ms) || ms < 0 || ms >= ISO_FAST_END) return new Date(ms).toISOString();
  const day = Math.floor(ms / DAY);
  let rest = ms - day * DAY;
  let prefix = dayPrefixes.get(day);
  if (prefix === undefined) {
    prefix = new Date(day * DAY).toISOString().slice(0, 11);
    dayPrefixes.set(day, prefix);
  }
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const m = Math.floor(rest / MINUTE);
  rest -= m * MINUTE;
  const s = Math.floor(rest / 1000);
  return `${prefix}${TWO_DIGITS[h]}:${TWO_DIGITS[m]}:${TWO_DIGITS[s]}.${THREE_DIGITS[rest - s * 1000]}Z`;
}

export class Catalog {
  readonly items: SimItem[] = [];
  /** pools[kind][dim]: items of `kind` whose primary dimension is `dim`; pools[kind][DIMS]: all of `kind`. */
  readonly pools: Pool[][] = KINDS.map(() =>
    Array.from(
      { length: DIMS + 1 },
      (): Pool => ({ indices: new Int32Array(16), size: 0, cumulative: undefined, guide: undefined, step: 0 }),
    ),
  );
  /** One record per item (see RECORD_BYTES); replaced when it grows. */
  records: ItemRecords = records(1024);
  readonly publishers: { name: string; dim: number; lean: Float32Array }[] = [];
  /** Every item and episode id, in the order they were made: events name them by position. */
  readonly ids: string[] = [];
  /** Catalog lines not yet written (only kept when `keepLines`). */
  lines: string[] = [];
  private seq = 0;

  /** `keepLines`: build the catalog's JSON lines (the writer does; a worker that only simulates users does not). */
  constructor(
    prng: Rng,
    private readonly keepLines: boolean,
  ) {
    for (let p = 0; p < 80; p++) {
      const dim = prng.int(DIMS);
      const lean = new Float32Array(DIMS);
      lean[dim] = 0.5;
      lean[prng.int(DIMS)]! += 0.25;
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
    const latent = new Float32Array(DIMS);
    latent[primaryIndex] = 1;
    if (secondary >= 0 && secondary !== primaryIndex) latent[secondary]! += 0.5;
    if (publisher) for (let d = 0; d < latent.length; d++) latent[d]! += 0.6 * (publisher.lean[d] as number);
    for (let d = 0; d < latent.length; d++) latent[d]! += 0.05 * rng.next();
    const quality = Math.exp(rng.normal() * 1.2) * (rng.next() < hitChance ? 15 : 1);
    this.seq++;
    const id = `${kind === 'show' ? 'sh' : kind === 'playlist' ? 'pl' : kind === 'album' ? 'al' : 'ab'}-${String(this.seq).padStart(6, '0')}`;
    const durationMs =
      kind === 'audiobook'
        ? (5 + rng.int(8)) * 3_600_000
        : kind === 'album'
          ? (35 + rng.int(30)) * MINUTE
          : kind === 'playlist'
            ? (60 + rng.int(120)) * MINUTE
            : 0;
    const cadence = kind === 'show' ? (rng.next() < 0.3 ? 1 : 7) : 0;
    const language = pickWeighted(rng, ITEM_LANGUAGES);
    const kindIndex = KINDS.indexOf(kind);
    const item: SimItem = {
      index: this.items.length,
      id,
      ref: this.ids.push(id) - 1,
      kind,
      kindIndex,
      latent,
      quality,
      logQuality: Math.log(quality),
      publishedAt: at,
      durationMs,
      cadence,
      primary: TASTE_DIMS[primaryIndex] as string,
      publisher: publisher?.name ?? 'independent',
      language,
      languageIndex: LANGUAGES.indexOf(language),
      episodes: [],
    };
    this.items.push(item);
    if (this.records.f64.length < this.items.length * F64_STRIDE) {
      const grown = records((this.records.f64.length / F64_STRIDE) * 2);
      // Bytes, not doubles: the int32 and float32 fields need not be valid doubles.
      new Uint8Array(grown.f64.buffer).set(new Uint8Array(this.records.f64.buffer));
      grown.episodeCounts.set(this.records.episodeCounts);
      this.records = grown;
    }
    const { f64, i32, f32 } = this.records;
    f64[item.index * F64_STRIDE + F64_PUBLISHED] = at;
    f64[item.index * F64_STRIDE + F64_LOG_QUALITY] = item.logQuality;
    f64[item.index * F64_STRIDE + F64_LAST_EPISODE] = Number.NEGATIVE_INFINITY;
    i32[item.index * F32_STRIDE + I32_LANGUAGE_KIND] = item.languageIndex | (kindIndex << 8);
    f32.set(latent, item.index * F32_STRIDE + F32_LATENT);
    for (const pool of [(this.pools[kindIndex] as Pool[])[primaryIndex] as Pool, (this.pools[kindIndex] as Pool[])[DIMS] as Pool]) {
      if (pool.size === pool.indices.length) {
        const grown = new Int32Array(pool.size * 2);
        grown.set(pool.indices);
        pool.indices = grown;
      }
      pool.indices[pool.size++] = item.index;
      pool.cumulative = undefined;
    }
    if (this.keepLines) {
      const categories = [item.primary, ...(secondary >= 0 && secondary !== primaryIndex ? [TASTE_DIMS[secondary] as string] : [])];
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
      this.lines.push(JSON.stringify(record));
    }
    return item;
  }

  addEpisode(show: SimItem, at: number, rng: Rng): void {
    const n = show.episodes.length + 1;
    const id = `${show.id}-ep${String(n).padStart(4, '0')}`;
    const durationMs = (20 + rng.int(50)) * MINUTE;
    show.episodes.push({ id, at, durationMs, ref: this.ids.push(id) - 1 });
    this.records.f64[show.index * F64_STRIDE + F64_LAST_EPISODE] = at;
    this.records.episodeCounts[show.index] = show.episodes.length;
    if (this.keepLines) {
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
      this.lines.push(JSON.stringify(record));
    }
  }

  /** The catalog at the start: `scale` grows it slower than the audience (a big service does not have proportionally more shows). */
  seed(crng: Rng, start: number, scale: number): void {
    const initial: Record<Kind, number> = {
      show: Math.round(250 * scale),
      playlist: Math.round(200 * scale),
      album: Math.round(300 * scale),
      audiobook: Math.round(80 * scale),
    };
    for (const kind of KINDS) {
      for (let i = 0; i < initial[kind]; i++) {
        const item = this.addItem(kind, start - (30 + crng.int(700)) * DAY, crng, 0.02);
        if (kind === 'show')
          for (let e = 4; e >= 1; e--) this.addEpisode(item, start - e * item.cadence * DAY - crng.int(6) * 3_600_000, crng);
      }
    }
  }

  /** A day's releases: shows and playlists every day (at least one of each), albums and audiobooks most days, episodes on each show's cadence. */
  release(drng: Rng, dayStart: number, scale: number): void {
    const releases: [Kind, number][] = [
      ['show', 3 * scale],
      ['playlist', 2 * scale],
      ['album', 2 * scale],
      ['audiobook', 0.3 * scale],
    ];
    for (const [kind, mean] of releases) {
      const atLeast = kind === 'show' || kind === 'playlist' ? 1 : 0;
      for (let n = atLeast + poissonDraw(() => drng.next(), Math.max(0, mean - atLeast)); n > 0; n--)
        this.addItem(kind, dayStart + drng.int(DAY), drng, 0.05);
    }
    for (const show of this.items) {
      if (show.kind !== 'show' || show.publishedAt >= dayStart + DAY) continue;
      const last = show.episodes[show.episodes.length - 1]?.at ?? show.publishedAt - show.cadence * DAY;
      if (dayStart + DAY - last >= show.cadence * DAY)
        this.addEpisode(show, Math.max(dayStart, show.publishedAt) + (5 + drng.int(4)) * 3_600_000, drng);
    }
  }

  /** The ground-truth line of every item (the simulated users' responses read them). */
  truthLine(i: SimItem): string {
    return JSON.stringify({
      itemId: i.id,
      kind: i.kind,
      publishedAt: iso(i.publishedAt),
      quality: Number(i.quality.toFixed(5)),
      latent: Array.from(i.latent, (x) => Number(x.toFixed(5))),
    });
  }

  /** The cumulative qualities of a pool (built on first use after items were added). */
  cumulativeOf(pool: Pool): Float64Array {
    let cumulative = pool.cumulative;
    if (cumulative === undefined) {
      cumulative = new Float64Array(pool.size);
      let total = 0;
      for (let i = 0; i < pool.size; i++) cumulative[i] = total += (this.items[pool.indices[i] as number] as SimItem).quality;
      guidePool(pool, cumulative);
    }
    return cumulative;
  }
}

/** Sets the pool's cumulative qualities (non-decreasing, last > 0) and builds its guide: one bucket per item. */
export function guidePool(pool: Pool, cumulative: Float64Array): void {
  pool.cumulative = cumulative;
  const buckets = Math.max(1, cumulative.length);
  const step = (cumulative[cumulative.length - 1] as number) / buckets;
  const guide = new Int32Array(buckets + 1);
  let i = 0;
  for (let j = 0; j <= buckets; j++) {
    const bound = j * step;
    while (i < cumulative.length - 1 && (cumulative[i] as number) <= bound) i++;
    guide[j] = i;
  }
  pool.guide = guide;
  pool.step = step;
}

/**
 * The first position whose cumulative quality exceeds r (the last if none): the binary search of the
 * whole pool, done within r's guide bucket j (j·step <= r < (j+1)·step, computed as the guide was),
 * whose answer lies in [guide[j], guide[j+1]] (the last bucket: up to the end). Built by cumulativeOf.
 */
export function searchCumulative(pool: Pool, r: number): number {
  const cumulative = pool.cumulative as Float64Array;
  const guide = pool.guide as Int32Array;
  const step = pool.step;
  const buckets = guide.length - 1;
  let j = Math.max(0, Math.min(buckets - 1, Math.floor(r / step)));
  while (j > 0 && j * step > r) j--;
  while (j + 1 < buckets && (j + 1) * step <= r) j++;
  let lo = guide[j] as number;
  let hi = j + 1 < buckets ? (guide[j + 1] as number) : cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((cumulative[mid] as number) > r) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** The number of a show's episodes published at or before `now` (episodes are in publish order). */
export function availableEpisodes(item: SimItem, now: number): number {
  const episodes = item.episodes;
  let lo = 0;
  let hi = episodes.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((episodes[mid] as Episode).at <= now) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
