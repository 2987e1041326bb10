/**
 * Which feedback events may count toward a canary decision: only those that match a response the
 * service actually served (its own request log), so that feedback cannot be invented for requests,
 * users or items that never met. Pure: the served responses and the events come in, verdicts go out.
 *
 * An event counts when all of these hold, checked in this order (the first that fails is its reason):
 * - it names a requestId (`no-request-id`) that is in the request log (`unknown-request`);
 * - that response was served to the event's userId (`other-user`);
 * - the event's itemId was on one of that response's shelves (`item-not-served`), and on the shelf
 *   the event names, if it names one (`other-shelf`);
 * - its timestamp parses (`bad-timestamp`) and lies within [servedAt - earlySkewMs,
 *   servedAt + windowMs] (`too-early`, `too-late`);
 * - it is the first event with the same (requestId, itemId, eventType) (`duplicate`);
 * - a play or skip also has its impression matched (`no-impression`), so that every arm has at most
 *   as many plays as impressions, whatever a client sends.
 * The shelf, model version and variant of a counted event are the ones the log recorded, never the
 * ones the client claims.
 */
import { DataQualityError } from '../errors.ts';
import type { ArmStats } from './canary.ts';

/** One response as the request log recorded it (a RequestLogRecord has this shape). */
export interface ServedResponse {
  readonly requestId: string;
  readonly userId: string;
  /** When the response was generated, ISO 8601 (the serving clock). */
  readonly at: string;
  readonly shelves: readonly {
    readonly shelf: string;
    readonly modelVersion: string;
    readonly variant: string;
    readonly items: readonly { readonly id: string }[];
  }[];
}

/** What a client says happened (a FeedbackEvent of the public API has this shape). */
export interface FeedbackClaim {
  readonly requestId?: string | undefined;
  readonly userId: string;
  readonly itemId: string;
  readonly shelf?: string | undefined;
  readonly eventType: string;
  readonly timestamp: string;
}

export interface FeedbackMatchPolicy {
  /** How long after a response its feedback counts; default 24 h. */
  readonly windowMs: number;
  /** How far before the response an event's timestamp may lie (device clocks run behind); default 60 s. */
  readonly earlySkewMs: number;
}

export const DEFAULT_FEEDBACK_MATCH_POLICY: FeedbackMatchPolicy = { windowMs: 24 * 3_600_000, earlySkewMs: 60_000 };

export const FEEDBACK_REJECTIONS = [
  'no-request-id',
  'unknown-request',
  'other-user',
  'item-not-served',
  'other-shelf',
  'bad-timestamp',
  'too-early',
  'too-late',
  'duplicate',
  'no-impression',
] as const;
export type FeedbackRejection = (typeof FEEDBACK_REJECTIONS)[number];

/** A counted event, with what the log says was served. */
export interface MatchedFeedback {
  readonly requestId: string;
  readonly itemId: string;
  readonly eventType: string;
  readonly shelf: string;
  readonly modelVersion: string;
  readonly variant: string;
  /** The listener the response was served to. */
  readonly userId: string;
  /** The response's time, ms since the epoch. */
  readonly servedAt: number;
}

export interface FeedbackMatch {
  readonly counted: readonly MatchedFeedback[];
  /** Events refused, per reason (every reason present, 0 when none). */
  readonly rejected: Readonly<Record<FeedbackRejection, number>>;
}

/** Served responses by requestId (the first record wins when a log holds one twice). */
export function indexServed(responses: Iterable<ServedResponse>): Map<string, ServedResponse> {
  const byId = new Map<string, ServedResponse>();
  for (const r of responses) if (!byId.has(r.requestId)) byId.set(r.requestId, r);
  return byId;
}

/**
 * The events that count, and how many were refused for which reason. Order of `events` does not
 * change the result except which of several duplicates is kept (the first). O(events + served items).
 */
export function matchFeedback(
  events: Iterable<FeedbackClaim>,
  served: ReadonlyMap<string, ServedResponse>,
  policy: FeedbackMatchPolicy = DEFAULT_FEEDBACK_MATCH_POLICY,
): FeedbackMatch {
  if (!(policy.windowMs > 0) || !(policy.earlySkewMs >= 0))
    throw new DataQualityError(
      `feedback match policy: windowMs ${policy.windowMs} and earlySkewMs ${policy.earlySkewMs}; expected windowMs > 0 and earlySkewMs >= 0`,
    );
  const rejected = Object.fromEntries(FEEDBACK_REJECTIONS.map((r) => [r, 0])) as Record<FeedbackRejection, number>;
  const seen = new Set<string>();
  const candidates: MatchedFeedback[] = [];
  // Each response's items by id, built once per response the events touch.
  const shelfOf = new Map<string, Map<string, ServedResponse['shelves'][number]>>();
  for (const e of events) {
    const reason = check(e);
    if (typeof reason === 'string') rejected[reason]++;
    else candidates.push(reason);
  }
  const impressions = new Set(candidates.filter((m) => m.eventType === 'impression').map((m) => `${m.requestId}\u0000${m.itemId}`));
  const counted: MatchedFeedback[] = [];
  for (const m of candidates) {
    if ((m.eventType === 'play' || m.eventType === 'skip') && !impressions.has(`${m.requestId}\u0000${m.itemId}`))
      rejected['no-impression']++;
    else counted.push(m);
  }
  return { counted, rejected };

  function check(e: FeedbackClaim): FeedbackRejection | MatchedFeedback {
    if (e.requestId === undefined || e.requestId === '') return 'no-request-id';
    const response = served.get(e.requestId);
    if (response === undefined) return 'unknown-request';
    if (response.userId !== e.userId) return 'other-user';
    let items = shelfOf.get(e.requestId);
    if (items === undefined) {
      items = new Map();
      for (const s of response.shelves) for (const i of s.items) if (!items.has(i.id)) items.set(i.id, s);
      shelfOf.set(e.requestId, items);
    }
    const shelf = items.get(e.itemId);
    if (shelf === undefined) return 'item-not-served';
    if (e.shelf !== undefined && e.shelf !== shelf.shelf) return 'other-shelf';
    const at = Date.parse(e.timestamp);
    const servedAt = Date.parse(response.at);
    if (Number.isNaN(at) || Number.isNaN(servedAt)) return 'bad-timestamp';
    if (at < servedAt - policy.earlySkewMs) return 'too-early';
    if (at > servedAt + policy.windowMs) return 'too-late';
    const key = `${e.requestId}\u0000${e.itemId}\u0000${e.eventType}`;
    if (seen.has(key)) return 'duplicate';
    seen.add(key);
    return {
      requestId: e.requestId,
      itemId: e.itemId,
      eventType: e.eventType,
      shelf: shelf.shelf,
      modelVersion: shelf.modelVersion,
      variant: shelf.variant,
      userId: e.userId,
      servedAt,
    };
  }
}

/**
 * Impressions and plays per arm of one shelf from counted feedback, over the same period for both
 * arms: from the first response the canary served that has counted feedback on. Events of other
 * shelves or other versions are ignored.
 */
export function canaryArmStats(
  counted: readonly MatchedFeedback[],
  shelf: string,
  versions: { readonly live: string; readonly canary: string },
): { live: ArmStats; canary: ArmStats } {
  const mine = counted.filter((m) => m.shelf === shelf && (m.modelVersion === versions.live || m.modelVersion === versions.canary));
  const since = mine
    .filter((m) => m.modelVersion === versions.canary)
    .reduce((min, m) => Math.min(min, m.servedAt), Number.POSITIVE_INFINITY);
  const stats = { live: { impressions: 0, plays: 0 }, canary: { impressions: 0, plays: 0 } };
  // Per listener too: one listener's impressions are correlated, so the comparison's variance is
  // computed over listeners (lib/core/gate/canary.ts clusteredZ), not over impressions.
  const users = { live: new Map<string, [number, number]>(), canary: new Map<string, [number, number]>() };
  for (const m of mine) {
    if (m.servedAt < since) continue;
    const which = m.modelVersion === versions.canary ? 'canary' : 'live';
    const arm = stats[which];
    const user = users[which].get(m.userId) ?? users[which].set(m.userId, [0, 0]).get(m.userId);
    if (m.eventType === 'impression') {
      arm.impressions++;
      if (user) user[0]++;
    } else if (m.eventType === 'play') {
      arm.plays++;
      if (user) user[1]++;
    }
  }
  return {
    live: { ...stats.live, byUser: [...users.live.values()] },
    canary: { ...stats.canary, byUser: [...users.canary.values()] },
  };
}
