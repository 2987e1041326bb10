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
 *
 * At scale (a million listeners) nothing here holds an object per event or a structure of every user
 * times anything: events are columns (event-table.ts), a user's HistoryEvent objects are made only
 * while that user is read, user features and metadata are computed when asked for (lazyRows), the
 * evaluation cases are built only for the users an evaluation scores (options.eval.sampleUsers), and
 * the Shortcuts ranker's examples only for a deterministic sample of users when the decision points
 * would exceed options.examples.maxDecisionPoints. Each step asks only for what it uses.
 */
import { toEpochMs, type CatalogItem, type ListeningEvent, type Shelf, type User } from '../contract.ts';
import { hashOrder, sampleUserIndices } from '../eval/evaluate.ts';
import type { EvalCase, EvalSet } from '../eval/eval-set.ts';
import type { Feature, FeatureRows, HistoryEvent, Interaction, ItemMeta, TrainingData, UserMeta } from '../models/recommender.ts';
import type { RankingExamples } from '../models/shortcuts/types.ts';
import { TRANSFORM_CONSTANTS } from './constants.ts';
import { isListen, isPositiveListen, itemFeatures, itemMeta, userFeatures, userMeta } from './entities.ts';
import { EventTable, eventTableOf } from './event-table.ts';
import { lazyRows } from './lazy-rows.ts';
import {
  buildShortcutsExamples,
  SHORTCUT_FEATURE_NAMES,
  sessionStarts,
  shortcutCandidates,
  shortcutCatalog,
  shortcutUnit,
  weekdayOf,
} from './shortcuts.ts';
import { TRANSFORM_VERSION } from './version.ts';

const DAY = 86_400_000;
/** Users who signed up this close to the cut-off count as new in slices. */
const NEW_USER_DAYS = 14;
/** How far back the Shortcuts ranker's training examples reach. */
const SHORTCUT_EXAMPLE_DAYS = 21;
/** History a context carries (latest events). */
const CONTEXT_HISTORY = 500;
/** Users whose histories are made at once while building the ranker's examples (bounds live HistoryEvent objects). */
const EXAMPLE_CHUNK_USERS = 2_000;

export interface ShelfDataInput {
  /** Events of the train and test windows (as objects, or as columns for large data). */
  readonly events: readonly ListeningEvent[] | EventTable;
  readonly catalog: readonly CatalogItem[];
  readonly users: readonly User[];
  /** Epoch ms of the train/test boundary. */
  readonly cutoff: number;
  readonly testDays: number;
  readonly snapshot: string;
}

/** Which parts a step needs; by default everything, every user. */
export interface ShelfDataOptions {
  /**
   * The evaluation set: false leaves its cases empty (training steps); `sampleUsers` builds cases only
   * for that many users with a relevant item, those with the smallest hash of `seed:userId`, the very
   * sample evaluateRuns draws (sampleUserIndices), and records the population they were drawn from.
   */
  readonly eval?: boolean | { readonly sampleUsers?: number; readonly seed: number };
  /**
   * Shortcuts ranker examples: false skips them; `maxDecisionPoints` bounds them: users are taken by
   * smallest hash of `ranker-examples:seed:userId`, each with all its decision points, until the
   * decision points reach the bound (so at most maxGroupsPerUser - 1 over it), and the examples are
   * then in user-id order as unsampled ones are. Building costs the sample's size, not the users'
   * count. What was taken is in ShelfData.exampleSample.
   */
  readonly examples?: boolean | { readonly maxDecisionPoints?: number; readonly seed: number };
}

/** Which users gave the ranker's examples. */
export interface ExampleSample {
  /** Users with listening before the cut-off (those who can have decision points). */
  readonly populationUsers: number;
  /** Users whose decision points were built: all of them, or the sample's (in hash order until the bound). */
  readonly usersVisited: number;
  /** Decision points (ranking groups) built. */
  readonly decisionPoints: number;
  /** The bound, or null when none was set. */
  readonly maxDecisionPoints: number | null;
  readonly seed: number | null;
  /** True when users were left out because the bound was reached. */
  readonly sampled: boolean;
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
  /** Shortcuts only: the users the examples come from. */
  readonly exampleSample?: ExampleSample;
}

const UNIT_TYPES: Readonly<Record<Shelf, readonly string[]>> = {
  podcasts: ['show'],
  playlists: ['playlist'],
  shortcuts: ['show', 'album', 'audiobook', 'playlist'],
};

/** Builds the training data and the evaluation set of one shelf. */
export function buildShelfData(shelf: Shelf, input: ShelfDataInput, options: ShelfDataOptions = {}): ShelfData {
  const { cutoff } = input;
  const end = cutoff + input.testDays * DAY;
  const table = input.events instanceof EventTable ? input.events : eventTableOf(input.events);
  const meta = new Map<string, ItemMeta>();
  for (const item of input.catalog) meta.set(item.itemId, itemMeta(item));
  const catalog = shortcutCatalog(meta);
  const unitTypes = new Set(UNIT_TYPES[shelf]);
  const units = input.catalog.filter((i) => unitTypes.has(i.type));
  const itemFeatureRows = new Map<string, readonly Feature[]>(units.map((i) => [i.itemId, itemFeatures(i)]));
  const unitMeta = new Map<string, ItemMeta>(units.map((i) => [i.itemId, meta.get(i.itemId) as ItemMeta]));
  const usersById = new Map(input.users.map((u) => [u.userId, u]));
  // Computed when asked for: a million users' feature lists and metadata are not held at once.
  const userFeatureRows = lazyRows(usersById, userFeatures);
  const usersMeta = lazyRows(usersById, userMeta);

  // Each item's unit (an episode's show...) and whether the unit is one this shelf ranks, once per item.
  const unitOf = table.itemIds.map((id) => shortcutUnit(id, meta));
  const unitRanked = Uint8Array.from(unitOf, (unit) => (unitTypes.has(meta.get(unit)?.type ?? '') ? 1 : 0));
  const listenType = Uint8Array.from(table.eventTypes, (t) => (isListen(t) ? 1 : 0));
  const { offsets, rows } = table.userRows();
  const userCount = table.userIds.length;
  const byId = (a: number, b: number): number => {
    const x = table.userIds[a] as string;
    const y = table.userIds[b] as string;
    return x < y ? -1 : x > y ? 1 : 0;
  };
  const sortedUsers = Int32Array.from({ length: userCount }, (_, u) => u).sort(byId);
  /** Rows of user u strictly before t (rows are sorted by time). */
  const rowsBefore = (u: number, t: number): number => {
    let lo = offsets[u] as number;
    let hi = offsets[u + 1] as number;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((table.ts[rows[mid] as number] as number) < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  // isPositiveListen itself (one definition of a positive), asked through one reused record.
  const probe = { eventType: '', msPlayed: 0, progress: 0 };
  const positive = (row: number): boolean => {
    probe.eventType = table.eventTypes[table.type[row] as number] as string;
    probe.msPlayed = table.msPlayed[row] as number;
    probe.progress = table.progress[row] as number;
    return isPositiveListen(probe);
  };

  // Training pass, user by user in id order: listens before the cut-off (activity), and one positive
  // per (user, unit) with weight 1 + ln(listens) and the latest listen's time (aggregateInteractions,
  // per user: no map of every pair), sorted by user then item.
  const interactions: Interaction[] = [];
  const activity = new Float64Array(userCount);
  const pairs = new Map<string, { count: number; ts: number }>();
  for (const u of sortedUsers) {
    pairs.clear();
    let listens = 0;
    for (let x = offsets[u] as number, to = rowsBefore(u, cutoff); x < to; x++) {
      const row = rows[x] as number;
      if (listenType[table.type[row] as number] !== 1) continue;
      listens++;
      const item = table.item[row] as number;
      if (unitRanked[item] !== 1 || !positive(row)) continue;
      const unit = unitOf[item] as string;
      const ts = table.ts[row] as number;
      const found = pairs.get(unit);
      if (found === undefined) pairs.set(unit, { count: 1, ts });
      else {
        found.count++;
        if (ts > found.ts) found.ts = ts;
      }
    }
    activity[u] = listens;
    if (pairs.size === 0) continue;
    const userId = table.userIds[u] as string;
    for (const unit of [...pairs.keys()].sort()) {
      const p = pairs.get(unit) as { count: number; ts: number };
      interactions.push({ userId, itemId: unit, ts: p.ts, weight: 1 + Math.log(p.count) });
    }
  }
  const trainItemCounts = new Map<string, number>();
  for (const i of interactions) trainItemCounts.set(i.itemId, (trainItemCounts.get(i.itemId) ?? 0) + 1);
  const userCode = new Map<string, number>();
  table.userIds.forEach((id, u) => {
    if ((activity[u] as number) > 0) userCode.set(id, u);
  });
  const slicer = sliceLabeller((id) => activity[userCode.get(id) ?? -1] ?? 0, userCode.keys(), usersById, cutoff);

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

  const contextOf = (userId: string, now: number, hist: readonly HistoryEvent[] | undefined): EvalCase['context'] => {
    const user = usersById.get(userId);
    return {
      userId,
      now,
      ...(user ? { features: userFeatureRows.get(userId) ?? [], meta: usersMeta.get(userId) ?? {} } : {}),
      ...(hist ? { history: hist.slice(-CONTEXT_HISTORY) } : {}),
    };
  };

  // Each shelf's evaluated users (in id order), who of them has relevant items, and a user's case.
  // Finding the relevant items is cheap; a case's context (history, features, slices) is made only
  // for the users the evaluation keeps.
  let evalUsers: ArrayLike<number> & Iterable<number>;
  let idOf: (u: number) => string;
  let relevantOf: (u: number) => Map<string, number> | undefined;
  let caseOf: (u: number, relevant: Map<string, number>) => EvalCase;
  let candidates: string[] | undefined;
  if (shelf === 'podcasts') {
    candidates = units
      .filter((i) => toEpochMs(i.publishedAt) < end)
      .map((i) => i.itemId)
      .sort();
    evalUsers = sortedUsers;
    idOf = (u) => table.userIds[u] as string;
    const playedBefore = (u: number): Set<string> => {
      const before = new Set<string>();
      for (let x = offsets[u] as number, to = rowsBefore(u, cutoff); x < to; x++) {
        const row = rows[x] as number;
        const item = table.item[row] as number;
        if (listenType[table.type[row] as number] === 1 && unitRanked[item] === 1) before.add(unitOf[item] as string);
      }
      return before;
    };
    relevantOf = (u) => {
      const user = usersById.get(idOf(u));
      if (user !== undefined && toEpochMs(user.signupAt) >= cutoff) return undefined;
      const before = playedBefore(u);
      const relevant = new Map<string, number>();
      for (let x = rowsBefore(u, cutoff), to = rowsBefore(u, end); x < to; x++) {
        const row = rows[x] as number;
        const item = table.item[row] as number;
        if (positive(row) && unitRanked[item] === 1 && !before.has(unitOf[item] as string)) relevant.set(unitOf[item] as string, 1);
      }
      return relevant.size > 0 ? relevant : undefined;
    };
    caseOf = (u, relevant) => ({
      context: contextOf(idOf(u), cutoff, table.history(u, cutoff)),
      relevant,
      exclude: playedBefore(u),
      slices: slicer(idOf(u)),
    });
  } else if (shelf === 'playlists') {
    candidates = units
      .filter((i) => toEpochMs(i.publishedAt) < end)
      .map((i) => i.itemId)
      .sort();
    const eventUser = new Map<string, number>();
    table.userIds.forEach((id, u) => {
      eventUser.set(id, u);
    });
    const newUsers = input.users
      .filter((user) => {
        const signup = toEpochMs(user.signupAt);
        return signup >= cutoff && signup < end;
      })
      .sort((a, b) => (a.userId < b.userId ? -1 : 1));
    evalUsers = Int32Array.from(newUsers, (_, i) => i);
    idOf = (i) => (newUsers[i] as User).userId;
    relevantOf = (i) => {
      const user = newUsers[i] as User;
      const signup = toEpochMs(user.signupAt);
      const u = eventUser.get(user.userId);
      if (u === undefined) return undefined;
      const relevant = new Map<string, number>();
      for (let x = rowsBefore(u, signup), to = rowsBefore(u, Math.min(signup + 3 * DAY, end)); x < to; x++) {
        const row = rows[x] as number;
        const itemId = table.itemIds[table.item[row] as number] as string;
        if (positive(row) && meta.get(itemId)?.type === 'playlist') relevant.set(itemId, 1);
      }
      return relevant.size > 0 ? relevant : undefined;
    };
    caseOf = (i, relevant) => ({
      context: contextOf(idOf(i), toEpochMs((newUsers[i] as User).signupAt), undefined),
      relevant,
      exclude: new Set(),
      slices: slicer(idOf(i)),
    });
  } else {
    evalUsers = sortedUsers;
    idOf = (u) => table.userIds[u] as string;
    // The first session in the window and its familiar units (candidates at its start).
    const firstSession = (events: readonly HistoryEvent[]): { first: number; relevant: Map<string, number> } | undefined => {
      const first = sessionStarts(events, cutoff, end)[0];
      if (first === undefined) return undefined;
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
      return relevant.size > 0 ? { first, relevant } : undefined;
    };
    // No listen in the window, no session there: decided on the columns, without making the history.
    const listensInWindow = (u: number): boolean => {
      for (let x = rowsBefore(u, cutoff), to = rowsBefore(u, end); x < to; x++)
        if (listenType[table.type[rows[x] as number] as number] === 1) return true;
      return false;
    };
    relevantOf = (u) => (listensInWindow(u) ? firstSession(table.history(u, end))?.relevant : undefined);
    caseOf = (u, relevant) => {
      const events = table.history(u, end);
      const { first } = firstSession(events) as { first: number };
      const start = events[first] as HistoryEvent;
      return {
        context: { ...contextOf(idOf(u), start.ts, events.slice(0, first)), localHour: start.localHour, weekday: weekdayOf(start.ts) },
        relevant,
        exclude: new Set(),
        slices: slicer(idOf(u)),
      };
    };
  }

  // With a sample size, the population is every user with a relevant item and only the sample's cases
  // are built: the users with the smallest hash of seed:userId, as evaluateRuns would draw them.
  const evalOption = options.eval ?? true;
  const cases: EvalCase[] = [];
  let population: number | undefined;
  if (evalOption !== false) {
    const withRelevant: number[] = [];
    const sampleUsers = evalOption === true ? undefined : evalOption.sampleUsers;
    for (const u of evalUsers) {
      const relevant = relevantOf(u);
      if (relevant === undefined) continue;
      withRelevant.push(u);
      // Without a sample every case is built now; with one, the few sampled users' relevant items are
      // found again below rather than holding every user's.
      if (sampleUsers === undefined) cases.push(caseOf(u, relevant));
    }
    if (sampleUsers !== undefined) {
      population = withRelevant.length;
      const seed = (evalOption as { readonly seed: number }).seed;
      for (const k of sampleUserIndices(withRelevant.map(idOf), sampleUsers, seed))
        cases.push(caseOf(withRelevant[k] as number, relevantOf(withRelevant[k] as number) as Map<string, number>));
    }
  }

  let shortcutExamples: RankingExamples | undefined;
  let exampleSample: ExampleSample | undefined;
  const examplesOption = options.examples ?? true;
  if (shelf === 'shortcuts' && examplesOption !== false) {
    // The examples' decision points lie before the cut-off and their features read only history
    // before each decision point, so the histories up to `end` can be passed without leaking the window.
    const window = { from: cutoff - SHORTCUT_EXAMPLE_DAYS * DAY, to: cutoff };
    const max = examplesOption === true ? undefined : examplesOption.maxDecisionPoints;
    const seed = examplesOption === true ? null : examplesOption.seed;
    // Users with listening before the cut-off can have decision points.
    const exampleUsers = sortedUsers.filter((u) => rowsBefore(u, window.to) > (offsets[u] as number));
    if (max === undefined) {
      const parts: RankingExamples[] = [];
      for (let from = 0; from < exampleUsers.length; from += EXAMPLE_CHUNK_USERS) {
        const histories = new Map<string, HistoryEvent[]>();
        for (const u of exampleUsers.subarray(from, from + EXAMPLE_CHUNK_USERS))
          histories.set(table.userIds[u] as string, table.history(u, end));
        parts.push(buildShortcutsExamples(histories, catalog, window));
      }
      shortcutExamples = concatExamples(parts, catalog.meta);
      exampleSample = {
        populationUsers: exampleUsers.length,
        usersVisited: exampleUsers.length,
        decisionPoints: shortcutExamples.groups.length - 1,
        maxDecisionPoints: null,
        seed: null,
        sampled: false,
      };
    } else {
      // Users in the order of their hash of a seeded salt (not the evaluation's: another sample),
      // each giving its decision points, until they reach the bound; then in id order, as unsampled.
      const order = hashOrder(
        Array.from(exampleUsers, (u) => table.userIds[u] as string),
        `ranker-examples:${seed ?? 0}`,
      );
      const byUser: { u: number; examples: RankingExamples }[] = [];
      let points = 0;
      let visited = 0;
      for (const k of order) {
        if (points >= max) break;
        visited++;
        const u = exampleUsers[k] as number;
        const examples = buildShortcutsExamples(new Map([[table.userIds[u] as string, table.history(u, end)]]), catalog, window);
        const groups = examples.groups.length - 1;
        if (groups === 0) continue;
        byUser.push({ u, examples });
        points += groups;
      }
      byUser.sort((a, b) => byId(a.u, b.u));
      shortcutExamples = concatExamples(
        byUser.map((p) => p.examples),
        catalog.meta,
      );
      exampleSample = {
        populationUsers: exampleUsers.length,
        usersVisited: visited,
        decisionPoints: points,
        maxDecisionPoints: max,
        seed,
        sampled: visited < exampleUsers.length,
      };
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
    ...(population !== undefined ? { population } : {}),
  };
  return {
    train,
    eval: evalSet,
    itemFeatures: itemFeatureRows,
    userFeatures: userFeatureRows,
    ...(shortcutExamples ? { shortcutExamples } : {}),
    ...(exampleSample ? { exampleSample } : {}),
  };
}

/** Examples of consecutive user chunks as one set (what one buildShortcutsExamples call over all of them gives). */
function concatExamples(parts: readonly RankingExamples[], catalog: ReadonlyMap<string, ItemMeta>): RankingExamples {
  let rows = 0;
  let groups = 0;
  for (const p of parts) {
    rows += p.labels.length;
    groups += p.groups.length - 1;
  }
  const first = parts[0];
  const width = first?.featureNames.length ?? 0;
  const features = new Float32Array(rows * width);
  const labels = new Float32Array(rows);
  const offsets = new Int32Array(groups + 1);
  const itemIds: string[] = [];
  let row = 0;
  let group = 0;
  for (const p of parts) {
    features.set(p.features, row * width);
    labels.set(p.labels, row);
    for (let g = 1; g < p.groups.length; g++) offsets[++group] = row + (p.groups[g] as number);
    for (const id of p.itemIds) itemIds.push(id);
    row += p.labels.length;
  }
  return {
    featureNames: first?.featureNames ?? SHORTCUT_FEATURE_NAMES,
    features,
    labels,
    groups: offsets,
    itemIds,
    catalog,
  };
}

/**
 * Slice labels: new vs established user, country, device, and activity by the share of users (all
 * known users, inactive ones counting 0) with strictly fewer training listens: < 1/3 low, < 2/3 medium, else high.
 */
function sliceLabeller(
  activityOf: (userId: string) => number,
  activeUsers: Iterable<string>,
  users: ReadonlyMap<string, User>,
  cutoff: number,
): (userId: string) => Record<string, string> {
  const values: number[] = [];
  for (const id of users.keys()) values.push(activityOf(id));
  for (const id of activeUsers) if (!users.has(id)) values.push(activityOf(id));
  const counts = Float64Array.from(values).sort();
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
    const share = fewer(activityOf(userId)) / Math.max(1, counts.length);
    return {
      userType: user !== undefined && toEpochMs(user.signupAt) >= cutoff - NEW_USER_DAYS * DAY ? 'new' : 'established',
      country: user?.country ?? 'unknown',
      device: user?.device ?? 'unknown',
      activity: share < 1 / 3 ? 'low' : share < 2 / 3 ? 'medium' : 'high',
    };
  };
}
