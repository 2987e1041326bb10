/**
 * Shortcuts transforms: the candidates of a user's Shortcuts shelf (their own recent items) and the
 * features the ranker scores them by. The batch path (training examples at many decision points) and
 * the request path (serving) call the same two functions, so they cannot disagree.
 */
import type { HistoryEvent, ItemMeta } from '../models/recommender.ts';
import type { RankingExamples, ShortcutCatalog } from '../models/shortcuts/types.ts';
import { DAY_MS as DAY, HOUR_MS as HOUR, TRANSFORM_CONSTANTS as C } from './constants.ts';
import { isListen } from './entities.ts';

export { historyOf } from './entities.ts';

export const SHORTCUT_TYPES = ['show', 'album', 'audiobook', 'playlist'] as const;

export const SHORTCUT_FEATURE_NAMES: readonly string[] = [
  'log_hours_since_last',
  'log_plays_1d',
  'log_plays_7d',
  'log_plays_28d',
  'hour_affinity',
  'weekday_affinity',
  'last_progress',
  'finished',
  'new_episode',
  'recency_rank',
  ...SHORTCUT_TYPES.map((t) => `type_${t}`),
];
const F = SHORTCUT_FEATURE_NAMES.length;

/**
 * The item a shortcut points at: an episode's show; a track's album when known (the contract's one
 * parent field, showId, names it); a show, album, audiobook or playlist, or an unknown id, itself.
 */
export function shortcutUnit(itemId: string, meta: ReadonlyMap<string, ItemMeta>): string {
  const m = meta.get(itemId);
  return (m?.type === 'episode' || m?.type === 'track') && m.showId !== undefined ? m.showId : itemId;
}

/** Catalog facts for the transforms: metadata and each show's episode publish times, ascending. */
export function shortcutCatalog(meta: ReadonlyMap<string, ItemMeta>): ShortcutCatalog {
  const lists = new Map<string, number[]>();
  for (const m of meta.values()) {
    if (m.type !== 'episode' || m.showId === undefined || m.publishedAt === undefined) continue;
    let list = lists.get(m.showId);
    if (list === undefined) lists.set(m.showId, (list = []));
    list.push(m.publishedAt);
  }
  const episodesByShow = new Map<string, Float64Array>();
  for (const [show, times] of lists) episodesByShow.set(show, Float64Array.from(times).sort());
  return { meta, episodesByShow };
}

/** Index of the first history event at or after `now` (history is sorted by ts). */
function endIndex(history: readonly HistoryEvent[], now: number): number {
  let lo = 0;
  let hi = history.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((history[mid] as HistoryEvent).ts < now) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Distinct units the user listened to before `now` within the lookback, most recent first. */
export function shortcutCandidates(
  history: readonly HistoryEvent[],
  now: number,
  catalog: ShortcutCatalog,
  options: { maxCandidates?: number; lookbackDays?: number } = {},
): string[] {
  const max = options.maxCandidates ?? C.maxCandidates;
  const since = now - (options.lookbackDays ?? C.lookbackDays) * DAY;
  const out: string[] = [];
  const seen = new Set<string>();
  for (let i = endIndex(history, now) - 1; i >= 0 && out.length < max; i--) {
    const e = history[i] as HistoryEvent;
    if (e.ts < since) break;
    if (!isListen(e.eventType)) continue;
    const unit = shortcutUnit(e.itemId, catalog.meta);
    if (!seen.has(unit)) {
      seen.add(unit);
      out.push(unit);
    }
  }
  return out;
}

function hourDistance(a: number, b: number): number {
  const d = Math.abs(a - b) % 24;
  return Math.min(d, 24 - d);
}

/** Features of each candidate (rows × SHORTCUT_FEATURE_NAMES.length, row-major); only history before `now` counts. */
export function shortcutFeatures(
  history: readonly HistoryEvent[],
  candidates: readonly string[],
  ctx: { readonly now: number; readonly localHour: number; readonly weekday: number },
  catalog: ShortcutCatalog,
): Float32Array {
  const out = new Float32Array(candidates.length * F);
  const row = new Map<string, number>();
  candidates.forEach((c, i) => {
    row.set(c, i);
  });
  const last = new Float64Array(candidates.length).fill(-1);
  const lastProgress = new Float32Array(candidates.length);
  const finished = new Uint8Array(candidates.length);
  const plays1 = new Float32Array(candidates.length);
  const plays7 = new Float32Array(candidates.length);
  const plays28 = new Float32Array(candidates.length);
  const nearHour = new Float32Array(candidates.length);
  const sameDay = new Float32Array(candidates.length);
  const since = ctx.now - C.lookbackDays * DAY;
  for (let i = endIndex(history, ctx.now) - 1; i >= 0; i--) {
    const e = history[i] as HistoryEvent;
    if (e.ts < since) break;
    if (!isListen(e.eventType)) continue;
    const r = row.get(shortcutUnit(e.itemId, catalog.meta));
    if (r === undefined) continue;
    const age = ctx.now - e.ts;
    if (last[r] === -1) {
      last[r] = e.ts;
      lastProgress[r] = e.progress;
      finished[r] = e.eventType === 'complete' || e.progress >= C.finishedProgress ? 1 : 0;
    }
    plays28[r]! += 1;
    if (age < 7 * DAY) plays7[r]! += 1;
    if (age < DAY) plays1[r]! += 1;
    if (hourDistance(e.localHour, ctx.localHour) <= C.hourWindow) nearHour[r]! += 1;
    if (new Date(e.ts).getUTCDay() === ctx.weekday) sameDay[r]! += 1;
  }
  candidates.forEach((unit, r) => {
    const o = r * F;
    const n = plays28[r] as number;
    const lastTs = last[r] as number;
    out[o] = Math.log1p(lastTs < 0 ? C.lookbackDays * 24 : (ctx.now - lastTs) / HOUR);
    out[o + 1] = Math.log1p(plays1[r] as number);
    out[o + 2] = Math.log1p(plays7[r] as number);
    out[o + 3] = Math.log1p(n);
    out[o + 4] = n > 0 ? (nearHour[r] as number) / n : 0;
    out[o + 5] = n > 0 ? (sameDay[r] as number) / n : 0;
    out[o + 6] = lastProgress[r] as number;
    out[o + 7] = finished[r] as number;
    const episodes = catalog.episodesByShow.get(unit);
    out[o + 8] = episodes !== undefined && lastTs >= 0 && hasBetween(episodes, lastTs, ctx.now) ? 1 : 0;
    out[o + 9] = candidates.length > 1 ? r / (candidates.length - 1) : 0;
    const type = catalog.meta.get(unit)?.type;
    SHORTCUT_TYPES.forEach((t, k) => {
      out[o + 10 + k] = type === t ? 1 : 0;
    });
  });
  return out;
}

/** True when a sorted list holds a value in (after, until]. */
function hasBetween(sorted: Float64Array, after: number, until: number): boolean {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as number) <= after) lo = mid + 1;
    else hi = mid;
  }
  return lo < sorted.length && (sorted[lo] as number) <= until;
}

/** Weekday (0 = Sunday) of an epoch-ms time, in UTC. */
export function weekdayOf(ts: number): number {
  return new Date(ts).getUTCDay();
}

/** Starts of listening sessions (a gap of more than 30 minutes since the previous listen) in [from, to). */
export function sessionStarts(history: readonly HistoryEvent[], from: number, to: number): number[] {
  const starts: number[] = [];
  let previous = -Infinity;
  history.forEach((e, i) => {
    if (!isListen(e.eventType)) return;
    if (e.ts >= from && e.ts < to && e.ts - previous > C.sessionGapMs) starts.push(i);
    previous = e.ts;
  });
  return starts;
}

/**
 * Training examples for the ranker: at each session start in [from, to), the user's candidates at that
 * moment, labelled 1 for the unit the session opens with. Sessions whose first unit is not a candidate
 * (something new) teach the ranker nothing and are left out. At most `maxGroupsPerUser` latest sessions a user.
 */
export function buildShortcutsExamples(
  historyByUser: ReadonlyMap<string, readonly HistoryEvent[]>,
  catalog: ShortcutCatalog,
  window: { readonly from: number; readonly to: number; readonly maxGroupsPerUser?: number },
): RankingExamples {
  const chunks: Float32Array[] = [];
  const labels: number[] = [];
  const groups: number[] = [0];
  const itemIds: string[] = [];
  const users = [...historyByUser.keys()].sort();
  for (const user of users) {
    const history = historyByUser.get(user) as readonly HistoryEvent[];
    const starts = sessionStarts(history, window.from, window.to).slice(-(window.maxGroupsPerUser ?? C.maxGroupsPerUser));
    for (const index of starts) {
      const event = history[index] as HistoryEvent;
      const candidates = shortcutCandidates(history, event.ts, catalog);
      const target = shortcutUnit(event.itemId, catalog.meta);
      if (candidates.length < 2 || !candidates.includes(target)) continue;
      chunks.push(
        shortcutFeatures(history, candidates, { now: event.ts, localHour: event.localHour, weekday: weekdayOf(event.ts) }, catalog),
      );
      for (const c of candidates) {
        labels.push(c === target ? 1 : 0);
        itemIds.push(c);
      }
      groups.push(labels.length);
    }
  }
  const features = new Float32Array(labels.length * F);
  let offset = 0;
  for (const chunk of chunks) {
    features.set(chunk, offset);
    offset += chunk.length;
  }
  return {
    featureNames: SHORTCUT_FEATURE_NAMES,
    features,
    labels: Float32Array.from(labels),
    groups: Int32Array.from(groups),
    itemIds,
    catalog: catalog.meta,
  };
}
