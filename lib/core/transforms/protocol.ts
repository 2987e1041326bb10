/**
 * The evaluation protocol of each shelf, on one temporal split: events before the cut-off train,
 * events in [cutoff, cutoff + testDays) test. Every model and baseline is then scored on exactly
 * the same users, candidates and exclusions (the EvalSet).
 *
 *   podcasts  — users who exist at the cut-off; relevant: shows they start in the test window that
 *               they had never played; excluded: shows played before; candidates: every show
 *               published before the window ends. (Users who sign up in the window would be asked at
 *               a time before they existed; they are the playlists shelf's users.)
 *   playlists — users who sign up in the test window; relevant: playlists they play in their first
 *               3 days; they have no history, only features (onboarding picks, country, device, age).
 *   shortcuts — users active before and in the window; relevant: the familiar items of their first
 *               session in the window; each model ranks the user's own recent items.
 */
import { toEpochMs, type CatalogItem, type ListeningEvent, type Shelf, type User } from '../contract.ts';
import type { EvalCase, EvalSet } from '../eval/eval-set.ts';
import type { Feature, FeatureRows, HistoryEvent, ItemMeta, TrainingData, UserMeta } from '../models/recommender.ts';
import type { RankingExamples } from '../models/shortcuts/types.ts';
import { TRANSFORM_CONSTANTS } from './constants.ts';
import { historyOf, isListen, isPositiveListen, itemFeatures, itemMeta, userFeatures, userMeta } from './entities.ts';
import { aggregateInteractions } from './interactions.ts';
import { buildShortcutsExamples, sessionStarts, shortcutCandidates, shortcutCatalog, shortcutUnit, weekdayOf } from './shortcuts.ts';
import { TRANSFORM_VERSION } from './version.ts';

const DAY = 86_400_000;
/** Users who signed up this close to the cut-off count as new in slices. */
const NEW_USER_DAYS = 14;
/** How far back the Shortcuts ranker's training examples reach. */
const SHORTCUT_EXAMPLE_DAYS = 21;
/** History a context carries (latest events). */
const CONTEXT_HISTORY = 500;

export interface ShelfDataInput {
  readonly events: readonly ListeningEvent[];
  readonly catalog: readonly CatalogItem[];
  readonly users: readonly User[];
  /** Epoch ms of the train/test boundary. */
  readonly cutoff: number;
  readonly testDays: number;
  readonly snapshot: string;
}

export interface ShelfData {
  /** Training data; its item features cover only items published before the cut-off. */
  readonly train: TrainingData;
  readonly eval: EvalSet;
  /** Features of every rankable item of the shelf, including items published after the cut-off. */
  readonly itemFeatures: FeatureRows;
  /** Features of every user, including users who sign up after the cut-off. */
  readonly userFeatures: FeatureRows;
  /** Shortcuts only: the ranker's training examples, decision points in the 21 days before the cut-off. */
  readonly shortcutExamples?: RankingExamples;
}

const UNIT_TYPES: Readonly<Record<Shelf, readonly string[]>> = {
  podcasts: ['show'],
  playlists: ['playlist'],
  shortcuts: ['show', 'album', 'audiobook', 'playlist'],
};

/** Builds the training data and the evaluation set of one shelf. */
export function buildShelfData(shelf: Shelf, input: ShelfDataInput): ShelfData {
  const { cutoff } = input;
  const end = cutoff + input.testDays * DAY;
  const meta = new Map<string, ItemMeta>();
  for (const item of input.catalog) meta.set(item.itemId, itemMeta(item));
  const catalog = shortcutCatalog(meta);
  const unitTypes = new Set(UNIT_TYPES[shelf]);
  const units = input.catalog.filter((i) => unitTypes.has(i.type));
  const itemFeatureRows = new Map<string, readonly Feature[]>(units.map((i) => [i.itemId, itemFeatures(i)]));
  const unitMeta = new Map<string, ItemMeta>(units.map((i) => [i.itemId, meta.get(i.itemId) as ItemMeta]));
  const usersById = new Map(input.users.map((u) => [u.userId, u]));
  const userFeatureRows = new Map<string, readonly Feature[]>(input.users.map((u) => [u.userId, userFeatures(u)]));
  const usersMeta = new Map<string, UserMeta>(input.users.map((u) => [u.userId, userMeta(u)]));

  // One pass over the raw events: everything before the end of the test window, per user, sorted.
  // Training reads only the part of each history before the cut-off.
  const history = historyOf(input.events.filter((e) => toEpochMs(e.timestamp) < end));
  const trainListens: { userId: string; unit: string; ts: number }[] = [];
  const playedBefore = new Map<string, Set<string>>();
  const activity = new Map<string, number>();
  for (const [userId, events] of history) {
    const played = new Set<string>();
    let listens = 0;
    for (let i = 0, n = countBefore(events, cutoff); i < n; i++) {
      const e = events[i] as HistoryEvent;
      if (!isListen(e.eventType)) continue;
      listens++;
      const unit = shortcutUnit(e.itemId, meta);
      if (!unitTypes.has(meta.get(unit)?.type ?? '')) continue;
      played.add(unit);
      if (isPositiveListen(e)) trainListens.push({ userId, unit, ts: e.ts });
    }
    if (listens > 0) activity.set(userId, listens);
    if (played.size > 0) playedBefore.set(userId, played);
  }
  const interactions = aggregateInteractions(trainListens);
  const trainItemCounts = new Map<string, number>();
  for (const i of interactions) trainItemCounts.set(i.itemId, (trainItemCounts.get(i.itemId) ?? 0) + 1);
  const slicer = sliceLabeller(activity, usersById, cutoff);

  // Training knows the catalog as it was at the cut-off; later items reach a model through
  // indexItems (evaluation and serving), as content published between retrains does.
  const trainItemFeatures = new Map<string, readonly Feature[]>(
    units.filter((i) => toEpochMs(i.publishedAt) < cutoff).map((i) => [i.itemId, itemFeatureRows.get(i.itemId) ?? []]),
  );
  const train: TrainingData = {
    interactions,
    userFeatures: userFeatureRows,
    itemFeatures: trainItemFeatures,
    items: shelf === 'shortcuts' ? meta : unitMeta,
    users: usersMeta,
    cutoff,
    snapshot: input.snapshot,
    transformVersion: TRANSFORM_VERSION,
  };

  const cases: EvalCase[] = [];
  let candidates: string[] | undefined;
  let shortcutExamples: RankingExamples | undefined;
  const contextOf = (userId: string, now: number, hist: readonly HistoryEvent[] | undefined): EvalCase['context'] => {
    const user = usersById.get(userId);
    return {
      userId,
      now,
      ...(user ? { features: userFeatureRows.get(userId) ?? [], meta: usersMeta.get(userId) ?? {} } : {}),
      ...(hist ? { history: hist.slice(-CONTEXT_HISTORY) } : {}),
    };
  };

  if (shelf === 'podcasts') {
    candidates = units
      .filter((i) => toEpochMs(i.publishedAt) < end)
      .map((i) => i.itemId)
      .sort();
    for (const [userId, events] of [...history].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const signup = usersMeta.get(userId)?.signupAt;
      if (signup !== undefined && signup >= cutoff) continue;
      const before = playedBefore.get(userId) ?? new Set<string>();
      const relevant = new Map<string, number>();
      for (const e of events) {
        if (e.ts < cutoff || !isPositiveListen(e)) continue;
        const unit = shortcutUnit(e.itemId, meta);
        if (unitTypes.has(meta.get(unit)?.type ?? '') && !before.has(unit)) relevant.set(unit, 1);
      }
      if (relevant.size === 0) continue;
      const past = events.slice(0, countBefore(events, cutoff));
      cases.push({ context: contextOf(userId, cutoff, past), relevant, exclude: before, slices: slicer(userId) });
    }
  } else if (shelf === 'playlists') {
    candidates = units
      .filter((i) => toEpochMs(i.publishedAt) < end)
      .map((i) => i.itemId)
      .sort();
    for (const user of [...input.users].sort((a, b) => (a.userId < b.userId ? -1 : 1))) {
      const signup = toEpochMs(user.signupAt);
      if (signup < cutoff || signup >= end) continue;
      const relevant = new Map<string, number>();
      for (const e of history.get(user.userId) ?? []) {
        if (e.ts >= signup && e.ts < Math.min(signup + 3 * DAY, end) && isPositiveListen(e) && meta.get(e.itemId)?.type === 'playlist')
          relevant.set(e.itemId, 1);
      }
      if (relevant.size === 0) continue;
      cases.push({ context: contextOf(user.userId, signup, undefined), relevant, exclude: new Set(), slices: slicer(user.userId) });
    }
  } else {
    // The examples' decision points lie before the cut-off and their features read only history
    // before each decision point, so the full histories can be passed without leaking the window.
    shortcutExamples = buildShortcutsExamples(history, catalog, { from: cutoff - SHORTCUT_EXAMPLE_DAYS * DAY, to: cutoff });
    for (const [userId, events] of [...history].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const first = sessionStarts(events, cutoff, end)[0];
      if (first === undefined) continue;
      const start = events[first] as HistoryEvent;
      const familiar = new Set(shortcutCandidates(events, start.ts, catalog));
      const relevant = new Map<string, number>();
      for (let i = first; i < events.length; i++) {
        const e = events[i] as HistoryEvent;
        if (i > first && e.ts - (events[i - 1] as HistoryEvent).ts > TRANSFORM_CONSTANTS.sessionGapMs) break;
        if (!isListen(e.eventType)) continue;
        const unit = shortcutUnit(e.itemId, meta);
        if (familiar.has(unit)) relevant.set(unit, 1);
      }
      if (relevant.size === 0) continue;
      const past = events.slice(0, first);
      cases.push({
        context: { ...contextOf(userId, start.ts, past), localHour: start.localHour, weekday: weekdayOf(start.ts) },
        relevant,
        exclude: new Set(),
        slices: slicer(userId),
      });
    }
  }

  const evalCatalog = shelf === 'shortcuts' ? meta : unitMeta;
  const evalSet: EvalSet = {
    shelf,
    cases,
    ...(candidates ? { candidates } : {}),
    trainItemCounts,
    catalog: evalCatalog,
    evaluatedAt: cutoff,
  };
  return {
    train,
    eval: evalSet,
    itemFeatures: itemFeatureRows,
    userFeatures: userFeatureRows,
    ...(shortcutExamples ? { shortcutExamples } : {}),
  };
}

/** Number of events (sorted by ts) strictly before `t`. */
function countBefore(events: readonly HistoryEvent[], t: number): number {
  let lo = 0;
  let hi = events.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((events[mid] as HistoryEvent).ts < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Slice labels: new vs established user, country, device, and activity by the share of users (all
 * known users, inactive ones counting 0) with strictly fewer training listens: < 1/3 low, < 2/3 medium, else high.
 */
function sliceLabeller(
  activity: ReadonlyMap<string, number>,
  users: ReadonlyMap<string, User>,
  cutoff: number,
): (userId: string) => Record<string, string> {
  const ids = new Set([...users.keys(), ...activity.keys()]);
  const counts = Float64Array.from(ids, (id) => activity.get(id) ?? 0).sort();
  const fewer = (n: number): number => {
    let lo = 0;
    let hi = counts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((counts[mid] as number) < n) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  return (userId) => {
    const user = users.get(userId);
    const share = fewer(activity.get(userId) ?? 0) / Math.max(1, counts.length);
    return {
      userType: user !== undefined && toEpochMs(user.signupAt) >= cutoff - NEW_USER_DAYS * DAY ? 'new' : 'established',
      country: user?.country ?? 'unknown',
      device: user?.device ?? 'unknown',
      activity: share < 1 / 3 ? 'low' : share < 2 / 3 ? 'medium' : 'high',
    };
  };
}
