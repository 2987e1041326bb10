/**
 * The simulated listeners of a range of user indices, as columns of typed arrays (tastes, habits, up to
 * 12 familiar items each), and their days. A user-day costs a hash continuation and a reseed when the
 * user does nothing (about a third of them), and no allocation in any case: the per-user-day work, not
 * the per-event work, is what a million-user world spends its time on.
 *
 * The order of random draws and every floating-point expression are the original simulator's, so the
 * same seed still gives the same bytes; users depend on the seed, their index and the catalog only,
 * never on each other, which lets disjoint ranges run in separate threads.
 */
import type { User } from '../core/contract.ts';
import { hashString, Rng } from '../core/rng.ts';
import {
  ALBUM,
  AUDIOBOOK,
  availableEpisodes,
  type Catalog,
  DAY,
  DIMS,
  type Episode,
  iso,
  LANGUAGES,
  MINUTE,
  PLAYLIST,
  type Pool,
  type IndexWeights,
  indexWeights,
  pickIndex,
  searchCumulative,
  F32_LATENT,
  F32_STRIDE,
  F64_LAST_EPISODE,
  F64_LOG_QUALITY,
  F64_PUBLISHED,
  F64_STRIDE,
  I32_LANGUAGE_KIND,
  I32_MARK,
  SHOW,
  type SimItem,
} from './catalog.ts';
import { type DayEvents, EVENT_TYPE, shareOf } from './day-events.ts';
import { fnvContinue } from './sim-rng.ts';
import { AGE_BANDS_WEIGHTED, COUNTRIES, DEVICES_WEIGHTED, GENRES, CATEGORIES, TASTE_DIMS } from './vocabulary.ts';

/** Familiar items a user keeps (one more slot holds a discovery before it is kept or dropped). */
const FAMILIAR = 12;
const SLOTS = FAMILIAR + 1;
/** At most 3 genres and 3 categories have weight. */
const MAX_DIMS = 6;
const EN = LANGUAGES.indexOf('en');

const PLAY = EVENT_TYPE.play;
const COMPLETE = EVENT_TYPE.complete;
const RESUME = EVENT_TYPE.resume;
const SAVE = EVENT_TYPE.save;
const IMPRESSION = EVENT_TYPE.impression;
const SKIP = EVENT_TYPE.skip;

const MODE_FAMILIAR = 0;
const MODE_SHOW = 1;
const MODE_PLAYLIST = 2;
const MODE_OTHER = 3;

const HOUR_OPTIONS = [
  [7, 2],
  [8, 3],
  [12, 1],
  [17, 2],
  [18, 2],
  [20, 3],
  [21, 2],
  [22, 1],
] as const;

/** Buckets of the uniform number behind a Gumbel draw (by its top 12 bits). */
const GUMBEL_BUCKETS = 4096;
/**
 * GUMBEL_BOUND[b]: at least -log(-log(x)) for every x in [b, b+1) / GUMBEL_BUCKETS (the noise grows with
 * x: its value at the bucket's upper end, plus a margin over the logarithms' rounding; the last bucket
 * reaches x -> 1: unbounded). score + bound <= best means score - log(-log(x)) <= best: not chosen.
 */
export const GUMBEL_BOUND = Float64Array.from({ length: GUMBEL_BUCKETS }, (_, b) => {
  const g = -Math.log(-Math.log((b + 1) / GUMBEL_BUCKETS));
  return g + 1e-9 * (1 + Math.abs(g));
});

/** One user as drawn at sign-up: what the users file says of it (as indices) and the simulation's hidden state. */
export interface CreatedUser {
  readonly index: number;
  /** Sign-up time, ms. */
  readonly signupAt: number;
  /** COUNTRIES index. */
  readonly country: number;
  /** DEVICES_WEIGHTED index. */
  readonly device: number;
  /** AGE_BANDS_WEIGHTED index. */
  readonly ageBand: number;
  /** Onboarding picks: bit d set for taste dimension d. */
  readonly picks: number;
  readonly taste: Float32Array;
  /** LANGUAGES index. */
  readonly language: number;
  readonly hours: readonly [number, number];
  readonly rate: number;
  readonly weekendFactor: number;
}

export function userId(index: number): string {
  return `u-${String(index).padStart(7, '0')}`;
}

const COUNTRY_WEIGHTS = indexWeights(COUNTRIES.map((c) => c.weight));
const DEVICE_WEIGHTS = indexWeights(DEVICES_WEIGHTED.map(([, w]) => w));
const AGE_BAND_WEIGHTS = indexWeights(AGE_BANDS_WEIGHTED.map(([, w]) => w));
const HOUR_WEIGHTS = indexWeights(HOUR_OPTIONS.map(([, w]) => w));
/** Each country's languages: their weights, and their LANGUAGES indices. */
const COUNTRY_LANGUAGE_WEIGHTS = COUNTRIES.map((c) => indexWeights(c.languages.map(([, w]) => w)));
const COUNTRY_LANGUAGES = COUNTRIES.map((c) => c.languages.map(([l]) => LANGUAGES.indexOf(l)));
/** Taste dimensions in the order their names sort (the onboarding picks are listed sorted). */
const DIMS_BY_NAME = TASTE_DIMS.map((name, d) => [name, d] as const)
  .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
  .map(([, d]) => d);
/** Vocabulary as JSON.stringify writes it (quotes and any escapes included). */
const JSON_COUNTRY = COUNTRIES.map((c) => JSON.stringify(c.code));
const JSON_DEVICE = DEVICES_WEIGHTED.map(([d]) => JSON.stringify(d));
const JSON_AGE_BAND = AGE_BANDS_WEIGHTED.map(([a]) => JSON.stringify(a));
const JSON_DIM = TASTE_DIMS.map((d) => JSON.stringify(d));

/** The generator createUser reseeds (users never share random draws; the object is only reused). */
const userRng = new Rng(0);
const topDims = new Int32Array(DIMS);
const topWeights = new Float64Array(DIMS);

/**
 * The user of `index` (its own generator: users never share random draws). Its taste is written into
 * `taste` (DIMS long): a caller that only reads it before the next user passes one scratch array for
 * all of them (an allocation per user was a third of this function's time).
 */
export function createUser(seed: number, index: number, signupAt: number, taste = new Float32Array(DIMS)): CreatedUser {
  const rng = userRng.reseed(hashString(`${seed}:user:${index}`));
  taste.fill(0);
  const genreCount = 1 + rng.int(3);
  const categoryCount = 1 + rng.int(3);
  for (let g = 0; g < genreCount; g++)
    taste[Math.min(GENRES.length - 1, Math.floor(rng.next() ** 1.3 * GENRES.length))]! += 0.3 + rng.next();
  for (let c = 0; c < categoryCount; c++)
    taste[GENRES.length + Math.min(CATEGORIES.length - 1, Math.floor(rng.next() ** 1.3 * CATEGORIES.length))]! += 0.3 + rng.next();
  let sq = 0;
  for (let d = 0; d < DIMS; d++) sq += (taste[d] as number) * (taste[d] as number);
  const norm = Math.sqrt(sq) || 1;
  for (let d = 0; d < DIMS; d++) taste[d] = (taste[d] as number) / norm;
  const country = pickIndex(rng, COUNTRY_WEIGHTS);
  // Onboarding picks walk the weighted dimensions heaviest first, ties by index (an insertion sort:
  // stable, as Array.prototype.sort); the zero-weight ones never draw.
  let top = 0;
  for (let d = 0; d < DIMS; d++) {
    const w = taste[d] as number;
    if (w <= 0) continue;
    let j = top++;
    for (; j > 0 && (topWeights[j - 1] as number) < w; j--) {
      topDims[j] = topDims[j - 1] as number;
      topWeights[j] = topWeights[j - 1] as number;
    }
    topDims[j] = d;
    topWeights[j] = w;
  }
  let picks = 0;
  let pickSize = 0;
  const pickCount = 2 + rng.int(3);
  for (let j = 0; j < top; j++)
    if (pickSize < pickCount && rng.next() < 0.85) {
      picks |= 1 << (topDims[j] as number);
      pickSize++;
    }
  if (rng.next() < 0.3) picks |= 1 << rng.int(DIMS);
  const primaryHour = (HOUR_OPTIONS[pickIndex(rng, HOUR_WEIGHTS)] as readonly [number, number])[0];
  const language = (COUNTRY_LANGUAGES[country] as number[])[pickIndex(rng, COUNTRY_LANGUAGE_WEIGHTS[country] as IndexWeights)] as number;
  const device = pickIndex(rng, DEVICE_WEIGHTS);
  const hours = [primaryHour, (primaryHour + 8 + rng.int(6)) % 24] as const;
  const rate = Math.exp(rng.normal() * 0.5) * 1.1;
  const weekendFactor = 0.6 + rng.next() * 0.8;
  const ageBand = pickIndex(rng, AGE_BAND_WEIGHTS);
  return { index, signupAt, country, device, ageBand, picks, taste, language, hours, rate, weekendFactor };
}

/** The user's record in the data contract. */
export function userRecord(user: CreatedUser): User {
  const onboardingGenres: string[] = [];
  for (const d of DIMS_BY_NAME) if ((user.picks >>> d) & 1) onboardingGenres.push(TASTE_DIMS[d] as string);
  return {
    userId: userId(user.index),
    country: (COUNTRIES[user.country] as (typeof COUNTRIES)[number]).code,
    signupAt: iso(user.signupAt),
    onboardingGenres,
    device: (DEVICES_WEIGHTED[user.device] as readonly [string, number])[0] as User['device'],
    ageBand: (AGE_BANDS_WEIGHTED[user.ageBand] as readonly [string, number])[0] as User['ageBand'],
  };
}

/** JSON.stringify(userRecord(user)), written field by field (the users file has a line per user). */
export function userLine(user: CreatedUser): string {
  let genres = '';
  for (const d of DIMS_BY_NAME) if ((user.picks >>> d) & 1) genres += genres === '' ? JSON_DIM[d] : `,${JSON_DIM[d]}`;
  return `{"userId":"${userId(user.index)}","country":${JSON_COUNTRY[user.country]},"signupAt":"${iso(user.signupAt)}","onboardingGenres":[${genres}],"device":${JSON_DEVICE[user.device]},"ageBand":${JSON_AGE_BAND[user.ageBand]}}`;
}

/** The ground-truth line of a user (its latent taste, each weight as Number(w.toFixed(5)) writes it; zero weights as 0). */
export function truthUserLine(user: CreatedUser): string {
  let taste = '';
  for (let d = 0; d < DIMS; d++) {
    const x = user.taste[d] as number;
    const text = x === 0 ? '0' : fixed5Text(x);
    taste += d === 0 ? text : `,${text}`;
  }
  return `{"userId":"${userId(user.index)}","taste":[${taste}]}`;
}

/** '.00001' .. '.99999' by k = 1..99,999: trailing zeros dropped as String(Number(...)) drops them (built on first use). */
let fiveDecimals: readonly string[] | undefined;

/**
 * String(Number(x.toFixed(5))) for x in [0, 1]: x·10^5 rounded half up (toFixed rounds the exact
 * value; near a tie, where the float product may round the other way, toFixed itself is asked).
 */
export function fixed5Text(x: number): string {
  if (!(x >= 0 && x <= 1)) return String(Number(x.toFixed(5)));
  const y = x * 100_000;
  const k = Math.abs(y - Math.floor(y) - 0.5) < 1e-6 ? Math.round(Number(x.toFixed(5)) * 100_000) : Math.round(y);
  fiveDecimals ??= Array.from({ length: 100_000 }, (_, j) => String(j / 100_000).slice(1));
  return k === 0 ? '0' : k === 100_000 ? '1' : `0${fiveDecimals[k]}`;
}

/** Sign-up times of users 0..users-1, drawn in index order from the `signups` generator. */
export function signupTimes(urng: Rng, users: number, days: number, start: number): Float64Array {
  const initialUsers = Math.round(users * 0.8);
  const out = new Float64Array(users);
  for (let i = 0; i < users; i++)
    out[i] =
      i < initialUsers
        ? start - (1 + urng.int(365)) * DAY - urng.int(DAY)
        : start + Math.floor(((i - initialUsers) / Math.max(1, users - initialUsers)) * days * DAY) + urng.int(DAY / 2);
  return out;
}

/** Users [from, to) and their state across days. */
export class Population {
  readonly size: number;
  private readonly taste: Float32Array;
  /** Each user's weighted dimensions (ascending), their count and their weights' sum. */
  private readonly dims: Uint8Array;
  private readonly dimCount: Uint8Array;
  private readonly dimTotal: Float64Array;
  private readonly signupAt: Float64Array;
  private readonly language: Uint8Array;
  private readonly hour0: Uint8Array;
  private readonly hour1: Uint8Array;
  private readonly rate: Float64Array;
  private readonly weekendFactor: Float64Array;
  /** FNV-1a state after `${seed}:${userId}:`: the day generator's seed continues it with the day's start. */
  private readonly hashPrefix: Uint32Array;
  /** Familiar items: SLOTS per user. */
  private readonly famCount: Uint8Array;
  private readonly famItem: Int32Array;
  private readonly famHour: Uint8Array;
  private readonly famPlays: Int32Array;
  private readonly famProgress: Float64Array;
  /** Shows: index of the next episode to hear. */
  private readonly famNext: Int32Array;

  // The day being simulated.
  private readonly rng = new Rng(0);
  private readonly sample = new Int32Array(24);
  private readonly weights = new Float64Array(SLOTS);
  private catalog: Catalog | undefined;
  private items: readonly SimItem[] = [];
  private f64: Float64Array = new Float64Array(0);
  private i32: Int32Array = new Int32Array(0);
  private f32: Float32Array = new Float32Array(0);
  private episodeCounts: Int32Array = new Int32Array(0);
  private pools: readonly (readonly Pool[])[] = [];
  /** An item whose record's mark is `stamp` is familiar to the user discovering now (discovery skips it). */
  private stamp = 0;
  private out: DayEvents | undefined;
  private dayStart = 0;
  private dayEnd = 0;
  /** The session clock: each logged event moves it on. */
  private ts = 0;

  constructor(
    readonly seed: number,
    readonly from: number,
    readonly to: number,
  ) {
    const n = (this.size = to - from);
    this.taste = new Float32Array(n * DIMS);
    this.dims = new Uint8Array(n * MAX_DIMS);
    this.dimCount = new Uint8Array(n);
    this.dimTotal = new Float64Array(n);
    this.signupAt = new Float64Array(n);
    this.language = new Uint8Array(n);
    this.hour0 = new Uint8Array(n);
    this.hour1 = new Uint8Array(n);
    this.rate = new Float64Array(n);
    this.weekendFactor = new Float64Array(n);
    this.hashPrefix = new Uint32Array(n);
    this.famCount = new Uint8Array(n);
    this.famItem = new Int32Array(n * SLOTS);
    this.famHour = new Uint8Array(n * SLOTS);
    this.famPlays = new Int32Array(n * SLOTS);
    this.famProgress = new Float64Array(n * SLOTS);
    this.famNext = new Int32Array(n * SLOTS);
  }

  /** Stores user `index` (within [from, to)). */
  set(index: number, user: CreatedUser): void {
    const u = index - this.from;
    this.taste.set(user.taste, u * DIMS);
    let count = 0;
    let total = 0;
    for (let d = 0; d < DIMS; d++) {
      const w = user.taste[d] as number;
      if (w > 0) {
        if (count === MAX_DIMS) throw new RangeError(`user ${index} has more than ${MAX_DIMS} taste dimensions`);
        this.dims[u * MAX_DIMS + count++] = d;
        total += w;
      }
    }
    this.dimCount[u] = count;
    this.dimTotal[u] = total;
    this.signupAt[u] = user.signupAt;
    this.language[u] = user.language;
    this.hour0[u] = user.hours[0];
    this.hour1[u] = user.hours[1];
    this.rate[u] = user.rate;
    this.weekendFactor[u] = user.weekendFactor;
    this.hashPrefix[u] = hashString(`${this.seed}:${userId(index)}:`);
  }

  /** Simulates every signed-up user's day, appending the events to `out` in generation order. */
  simulateDay(catalog: Catalog, dayStart: number, out: DayEvents): void {
    this.catalog = catalog;
    this.items = catalog.items;
    ({ f64: this.f64, i32: this.i32, f32: this.f32, episodeCounts: this.episodeCounts } = catalog.records);
    this.pools = catalog.pools;
    this.out = out;
    this.dayStart = dayStart;
    this.dayEnd = dayStart + DAY;
    const weekday = new Date(dayStart).getUTCDay();
    const weekend = weekday === 0 || weekday === 6;
    const dayText = String(dayStart);
    for (let u = 0; u < this.size; u++) {
      if ((this.signupAt[u] as number) >= this.dayEnd) continue;
      this.userDay(u, weekend, dayText);
    }
    this.out = undefined;
  }

  /** One user's day: sessions at habitual hours, each resuming something familiar or discovering. */
  private userDay(u: number, weekend: boolean, dayText: string): void {
    const rng = this.rng.reseed(fnvContinue(this.hashPrefix[u] as number, dayText));
    const dayStart = this.dayStart;
    const signupAt = this.signupAt[u] as number;
    const isNew = dayStart - signupAt < 4 * DAY;
    const lambda = (this.rate[u] as number) * (weekend ? (this.weekendFactor[u] as number) : 1) * (isNew ? 1.5 : 1);
    const l = Math.exp(-lambda);
    let k = 0;
    let p = 1;
    do {
      k++;
      p *= rng.next();
    } while (p > l && k < 20);
    const sessions = k - 1;
    if (sessions === 0) return;
    // Each session is at one of the two habitual hours; sessions at the same hour merge.
    const h0 = this.hour0[u] as number;
    const h1 = this.hour1[u] as number;
    let at0 = false;
    let at1 = false;
    for (let s = 0; s < sessions; s++) {
      if (rng.next() < 0.75) at0 = true;
      else at1 = true;
    }
    const first = at0 && at1 ? Math.min(h0, h1) : at0 ? h0 : h1;
    const second = at0 && at1 ? Math.max(h0, h1) : -1;
    let lastTs = dayStart;
    for (let session = 0; session < 2; session++) {
      const baseHour = session === 0 ? first : second;
      if (baseHour < 0) break;
      const hour = Math.max(0, Math.min(23, baseHour + (rng.next() < 0.2 ? (rng.next() < 0.5 ? -1 : 1) : 0)));
      const ts = Math.max(lastTs + MINUTE, signupAt + MINUTE, dayStart + hour * 3_600_000 + rng.int(50) * MINUTE);
      if (ts >= this.dayEnd) break;
      this.ts = ts;
      const mode = this.pickMode(u, isNew);
      if (mode === MODE_FAMILIAR) {
        const slot = this.pickFamiliar(u, hour, ts);
        if (slot >= 0) {
          this.playFamiliar(u, slot, ts, 0.8);
          lastTs = this.ts;
          continue;
        }
      }
      const kind = mode === MODE_PLAYLIST ? PLAYLIST : mode === MODE_SHOW ? SHOW : rng.next() < 0.7 ? ALBUM : AUDIOBOOK;
      this.markFamiliar(u);
      // A couple of impressions skipped before the pick: browsing.
      for (let s = rng.int(3); s > 0; s--) {
        const seenIndex = this.choose(u, kind, this.ts);
        if (seenIndex < 0) continue;
        const seen = this.items[seenIndex] as SimItem;
        const episodes = seen.episodes;
        const seenRef = kind === SHOW ? (episodes.length > 0 ? (episodes[episodes.length - 1] as Episode).ref : seen.ref) : seen.ref;
        if (rng.next() < 0.5) this.listen(u, seenRef, IMPRESSION, 0, 0);
        else this.listen(u, seenRef, SKIP, rng.int(20_000), 0);
      }
      const chosen = this.choose(u, kind, this.ts);
      if (chosen < 0) continue;
      const item = this.items[chosen] as SimItem;
      const n = this.famCount[u] as number;
      const b = u * SLOTS;
      this.famItem[b + n] = item.index;
      this.famHour[b + n] = hour;
      this.famPlays[b + n] = 0;
      this.famProgress[b + n] = 0;
      this.famNext[b + n] = Math.max(0, this.available(item.index, this.ts) - 1);
      const affinity = this.affinity(u, item.index * F32_STRIDE + F32_LATENT);
      const keep = 1 / (1 + Math.exp(-(4 * affinity + Math.log(item.quality) - 2)));
      this.playFamiliar(u, n, this.ts, keep);
      if (rng.next() < keep) {
        if (rng.next() < 0.15) this.listen(u, item.ref, SAVE, 0, this.famProgress[b + n] as number);
        this.keepFamiliar(u, n + 1);
      }
      lastTs = this.ts;
    }
  }

  /**
   * The number of the show's episodes published at or before `now`: all of them once the latest is
   * out (episodes are in publish order), else the search of availableEpisodes.
   */
  private available(index: number, now: number): number {
    const count = this.episodeCounts[index] as number;
    if (count === 0) return 0;
    if ((this.f64[index * F64_STRIDE + F64_LAST_EPISODE] as number) <= now) return count;
    return availableEpisodes(this.items[index] as SimItem, now);
  }

  /** Counts the slot just filled; past 12, forgets the first finished or barely played item (else the oldest). */
  private keepFamiliar(u: number, count: number): void {
    const b = u * SLOTS;
    if (count <= FAMILIAR) {
      this.famCount[u] = count;
      return;
    }
    let drop = 0;
    for (let j = 0; j < count; j++) {
      if ((this.famProgress[b + j] as number) >= 1 || (this.famPlays[b + j] as number) <= 1) {
        drop = j;
        break;
      }
    }
    for (let j = drop; j < count - 1; j++) {
      this.famItem[b + j] = this.famItem[b + j + 1] as number;
      this.famHour[b + j] = this.famHour[b + j + 1] as number;
      this.famPlays[b + j] = this.famPlays[b + j + 1] as number;
      this.famProgress[b + j] = this.famProgress[b + j + 1] as number;
      this.famNext[b + j] = this.famNext[b + j + 1] as number;
    }
    this.famCount[u] = count - 1;
  }

  private pickMode(u: number, isNew: boolean): number {
    const rng = this.rng;
    const r = rng.next();
    const familiar = this.famCount[u] as number;
    if (isNew) return r < 0.6 ? MODE_PLAYLIST : r < 0.8 ? MODE_SHOW : familiar > 0 ? MODE_FAMILIAR : MODE_OTHER;
    const familiarShare = familiar === 0 ? 0 : 0.72;
    if (r < familiarShare) return MODE_FAMILIAR;
    const s = rng.next();
    return s < 0.4 ? MODE_SHOW : s < 0.75 ? MODE_PLAYLIST : MODE_OTHER;
  }

  /** Which familiar item a session opens with: hour habit, frequency, progress and new episodes all pull. -1: none. */
  private pickFamiliar(u: number, hour: number, now: number): number {
    const n = this.famCount[u] as number;
    if (n === 0) return -1;
    const b = u * SLOTS;
    const weights = this.weights;
    let total = 0;
    for (let j = 0; j < n; j++) {
      const index = this.famItem[b + j] as number;
      let w = 1 + Math.log1p(this.famPlays[b + j] as number);
      const fh = this.famHour[b + j] as number;
      const dh = Math.min(Math.abs(fh - hour), 24 - Math.abs(fh - hour));
      w *= dh <= 1 ? 4 : dh <= 3 ? 1.5 : 0.5;
      const kind = (this.i32[index * F32_STRIDE + I32_LANGUAGE_KIND] as number) >> 8;
      if (kind === SHOW) {
        const available = this.available(index, now);
        w *= (this.famNext[b + j] as number) < available ? 4 : 0.3;
      } else if (kind === ALBUM || kind === AUDIOBOOK) {
        const progress = this.famProgress[b + j] as number;
        w *= progress > 0 && progress < 1 ? 3 : 0.4;
      }
      weights[j] = w;
      total += w;
    }
    let r = this.rng.next() * total;
    for (let j = 0; j < n; j++) {
      r -= weights[j] as number;
      if (r <= 0) return j;
    }
    return n - 1;
  }

  private playFamiliar(u: number, slot: number, now: number, engagement: number): void {
    const rng = this.rng;
    const f = u * SLOTS + slot;
    const item = this.items[this.famItem[f] as number] as SimItem;
    this.famPlays[f] = (this.famPlays[f] as number) + 1;
    const kind = item.kindIndex;
    if (kind === SHOW) {
      const available = this.available(item.index, now);
      const episode = item.episodes[Math.min(this.famNext[f] as number, available - 1)];
      if (episode === undefined) return;
      const share = Math.min(1, 0.3 + engagement * rng.next() + 0.2);
      this.listen(u, episode.ref, share >= 0.98 ? COMPLETE : PLAY, Math.floor(episode.durationMs * share), share);
      if (share > 0.6) this.famNext[f] = Math.min(available, (this.famNext[f] as number) + 1);
    } else if (kind === PLAYLIST) {
      const share = 0.1 + 0.5 * rng.next() * engagement;
      this.listen(u, item.ref, PLAY, item.durationMs * share, share);
    } else {
      const chunk = (kind === AUDIOBOOK ? 0.08 : 0.35) + 0.3 * rng.next() * engagement;
      const before = this.famProgress[f] as number;
      const progress = Math.min(1, before + chunk);
      this.famProgress[f] = progress;
      this.listen(u, item.ref, before > 0 ? (progress >= 1 ? COMPLETE : RESUME) : PLAY, item.durationMs * (progress - before), progress);
    }
  }

  /** Logs an event at the session clock and moves the clock past it; past midnight the rest of the session is not logged today. */
  private listen(u: number, ref: number, type: number, msPlayed: number, progress: number): void {
    const ts = this.ts;
    if (ts >= this.dayEnd) return;
    const rounded = Math.round(msPlayed);
    (this.out as DayEvents).push(ts - this.dayStart, this.from + u, ref, type, Math.max(0, rounded), shareOf(progress));
    this.ts = ts + Math.max(MINUTE, rounded) + this.rng.int(3) * MINUTE;
  }

  /** taste · latent (the item's float32 record from `at`) over the user's weighted dimensions (the others add exact zeros). */
  private affinity(u: number, at: number): number {
    const taste = this.taste;
    const latent = this.f32;
    const tb = u * DIMS;
    const db = u * MAX_DIMS;
    const n = this.dimCount[u] as number;
    let s = 0;
    for (let i = 0; i < n; i++) {
      const d = this.dims[db + i] as number;
      s += (taste[tb + d] as number) * (latent[at + d] as number);
    }
    return s;
  }

  /** A taste dimension drawn by weight. */
  private pickDim(u: number): number {
    const taste = this.taste;
    const tb = u * DIMS;
    const db = u * MAX_DIMS;
    const n = this.dimCount[u] as number;
    let r = this.rng.next() * (this.dimTotal[u] as number);
    for (let i = 0; i < n; i++) {
      const d = this.dims[db + i] as number;
      r -= taste[tb + d] as number;
      if (r <= 0) return d;
    }
    return this.dims[db + n - 1] as number;
  }

  /** An item (index) of the pool drawn with probability proportional to its quality (what charts and word of mouth do). */
  private drawFrom(pool: Pool): number {
    const cumulative = pool.cumulative ?? (this.catalog as Catalog).cumulativeOf(pool);
    return pool.indices[searchCumulative(pool, this.rng.next() * (cumulative[cumulative.length - 1] as number))] as number;
  }

  private markFamiliar(u: number): void {
    if (this.stamp === 0x7fffffff) {
      for (let i = I32_MARK; i < this.i32.length; i += F32_STRIDE) this.i32[i] = 0;
      this.stamp = 0;
    }
    const stamp = ++this.stamp;
    const b = u * SLOTS;
    const n = this.famCount[u] as number;
    for (let j = 0; j < n; j++) this.i32[(this.famItem[b + j] as number) * F32_STRIDE + I32_MARK] = stamp;
  }

  /**
   * Taste × popularity choice: candidates drawn by popularity, two thirds from the user's taste dimensions
   * and one third from the whole kind, then one picked by softmax(4·affinity + 0.5·log quality + language match)
   * among those already published and not familiar (markFamiliar first). -1: none.
   */
  private choose(u: number, kind: number, now: number): number {
    const rng = this.rng;
    const sample = this.sample;
    let m = 0;
    const pools = this.pools[kind] as readonly Pool[];
    if ((this.dimCount[u] as number) > 0) {
      for (let s = 0; s < 16; s++) {
        const pool = pools[this.pickDim(u)] as Pool;
        if (pool.size > 0) sample[m++] = this.drawFrom(pool);
      }
    }
    const any = pools[DIMS] as Pool;
    if (any.size > 0) for (let s = 0; s < 8; s++) sample[m++] = this.drawFrom(any);
    const language = this.language[u] as number;
    const f64 = this.f64;
    const i32 = this.i32;
    const stamp = this.stamp;
    let best = -1;
    let bestKey = -Infinity;
    for (let i = 0; i < m; i++) {
      const index = sample[i] as number;
      if ((f64[index * F64_STRIDE + F64_PUBLISHED] as number) > now || i32[index * F32_STRIDE + I32_MARK] === stamp) continue;
      // Gumbel-max sampling of the softmax.
      const itemLanguage = (i32[index * F32_STRIDE + I32_LANGUAGE_KIND] as number) & 0xff;
      const own = itemLanguage === language ? 1 : itemLanguage === EN ? 0.3 : 0;
      const score =
        4 * this.affinity(u, index * F32_STRIDE + F32_LATENT) + 0.5 * (f64[index * F64_STRIDE + F64_LOG_QUALITY] as number) + own;
      const x = rng.next();
      // The Gumbel noise's two logarithms only when the candidate can still win: its bucket's bound
      // says when score + noise cannot exceed the best key (most candidates, once a good one is seen).
      if (score + (GUMBEL_BOUND[(x * GUMBEL_BUCKETS) | 0] as number) <= bestKey) continue;
      const key = score - Math.log(-Math.log(x || 1e-12));
      if (key > bestKey) {
        bestKey = key;
        best = index;
      }
    }
    return best;
  }
}
