import { describe, expect, it } from 'vitest';
import {
  canaryArmStats,
  DEFAULT_FEEDBACK_MATCH_POLICY,
  FEEDBACK_REJECTIONS,
  indexServed,
  matchFeedback,
  type FeedbackClaim,
  type FeedbackRejection,
  type ServedResponse,
} from '../../../lib/core/gate/feedback-match.ts';

const T0 = '2026-10-01T12:00:00.000Z';
const at = (ms: number): string => new Date(Date.parse(T0) + ms).toISOString();
const HOUR = 3_600_000;

const served: ServedResponse[] = [
  {
    requestId: 'r1',
    userId: 'u1',
    at: T0,
    shelves: [
      { shelf: 'shortcuts', modelVersion: 'shortcuts-a', variant: 'live', items: [{ id: 'ep-1' }] },
      { shelf: 'podcasts', modelVersion: 'podcasts-canary', variant: 'canary', items: [{ id: 'sh-1' }, { id: 'sh-2' }] },
    ],
  },
  {
    requestId: 'r2',
    userId: 'u2',
    at: at(HOUR),
    shelves: [{ shelf: 'podcasts', modelVersion: 'podcasts-live', variant: 'live', items: [{ id: 'sh-1' }, { id: 'sh-3' }] }],
  },
];
const index = indexServed(served);

const impression = (over: Partial<FeedbackClaim> = {}): FeedbackClaim => ({
  requestId: 'r1',
  userId: 'u1',
  itemId: 'sh-1',
  eventType: 'impression',
  timestamp: at(5_000),
  ...over,
});

/** The verdict on one event, alone after the impression of (r1, sh-1) when `withImpression`. */
function verdict(event: FeedbackClaim, withImpression = false): FeedbackRejection | 'counted' {
  const events = withImpression ? [impression(), event] : [event];
  const { counted, rejected } = matchFeedback(events, index);
  const reasons = FEEDBACK_REJECTIONS.filter((r) => rejected[r] > 0);
  if (reasons.length === 0 && counted.length === events.length) return 'counted';
  if (reasons.length !== 1) throw new Error(`expected one reason, got ${JSON.stringify(rejected)}`);
  return reasons[0] as FeedbackRejection;
}

describe('matchFeedback', () => {
  it.each<[string, FeedbackClaim, boolean, FeedbackRejection | 'counted']>([
    ['an impression of an item served to that user', impression(), false, 'counted'],
    ['an impression naming the right shelf', impression({ shelf: 'podcasts' }), false, 'counted'],
    ['an event without a request id', impression({ requestId: undefined }), false, 'no-request-id'],
    ['an event with an empty request id', impression({ requestId: '' }), false, 'no-request-id'],
    ['an event for a request never served', impression({ requestId: 'r-forged' }), false, 'unknown-request'],
    ["an event on another user's request", impression({ userId: 'u2' }), false, 'other-user'],
    ['an item that was not in the response', impression({ itemId: 'sh-3' }), false, 'item-not-served'],
    ['an item served on another shelf than claimed', impression({ shelf: 'playlists' }), false, 'other-shelf'],
    ['a timestamp that does not parse', impression({ timestamp: 'yesterday' }), false, 'bad-timestamp'],
    ['an event 2 minutes before the response', impression({ timestamp: at(-120_000) }), false, 'too-early'],
    ['an event 30 s before the response (clock skew)', impression({ timestamp: at(-30_000) }), false, 'counted'],
    ['an event exactly 24 h after the response', impression({ timestamp: at(24 * HOUR) }), false, 'counted'],
    ['an event 24 h and 1 ms after the response', impression({ timestamp: at(24 * HOUR + 1) }), false, 'too-late'],
    ['a play without its impression', impression({ eventType: 'play' }), false, 'no-impression'],
    ['a skip without its impression', impression({ eventType: 'skip' }), false, 'no-impression'],
    ['a play after its impression', impression({ eventType: 'play' }), true, 'counted'],
    ['the same impression twice', impression(), true, 'duplicate'],
    ['the same impression with another timestamp', impression({ timestamp: at(60_000) }), true, 'duplicate'],
  ])('judges %s', (_name, event, withImpression, expected) => {
    expect(verdict(event, withImpression)).toBe(expected);
  });

  it("takes shelf, model version and variant from the log, not from the client's claim", () => {
    const claim = { ...impression(), modelVersion: 'podcasts-live', variant: 'live' } as FeedbackClaim;
    const { counted } = matchFeedback([claim], index);
    expect(counted).toEqual([
      {
        requestId: 'r1',
        itemId: 'sh-1',
        eventType: 'impression',
        shelf: 'podcasts',
        modelVersion: 'podcasts-canary',
        variant: 'canary',
        userId: 'u1',
        servedAt: Date.parse(T0),
      },
    ]);
  });

  it('counts a play whose impression arrives later in the stream', () => {
    const { counted } = matchFeedback([impression({ eventType: 'play' }), impression()], index);
    expect(counted.map((m) => m.eventType).sort()).toEqual(['impression', 'play']);
  });

  it('honours a narrower window', () => {
    const policy = { ...DEFAULT_FEEDBACK_MATCH_POLICY, windowMs: HOUR };
    const { rejected } = matchFeedback([impression({ timestamp: at(HOUR + 1) })], index, policy);
    expect(rejected['too-late']).toBe(1);
  });

  it('refuses a policy without a positive window', () => {
    expect(() => matchFeedback([], index, { windowMs: 0, earlySkewMs: 0 })).toThrow(/windowMs 0 .* expected windowMs > 0/);
  });

  it('keeps the first record of a request id logged twice', () => {
    const twice = indexServed([...served, { ...served[0], userId: 'u9' } as ServedResponse]);
    expect(twice.get('r1')?.userId).toBe('u1');
  });

  it('cannot be inflated: replaying one response a thousand times counts one impression and one play', () => {
    const flood = Array.from({ length: 1000 }, (_, i) => impression({ eventType: i % 2 ? 'play' : 'impression', timestamp: at(i) }));
    const { counted, rejected } = matchFeedback(flood, index);
    expect(counted).toHaveLength(2);
    expect(rejected.duplicate).toBe(998);
  });
});

describe('canaryArmStats', () => {
  const events: FeedbackClaim[] = [
    { requestId: 'r1', userId: 'u1', itemId: 'sh-1', eventType: 'impression', timestamp: at(1) },
    { requestId: 'r1', userId: 'u1', itemId: 'sh-1', eventType: 'play', timestamp: at(2) },
    { requestId: 'r1', userId: 'u1', itemId: 'sh-2', eventType: 'impression', timestamp: at(3) },
    { requestId: 'r1', userId: 'u1', itemId: 'ep-1', eventType: 'impression', timestamp: at(4) },
    { requestId: 'r2', userId: 'u2', itemId: 'sh-3', eventType: 'impression', timestamp: at(HOUR + 1) },
    { requestId: 'r2', userId: 'u2', itemId: 'sh-3', eventType: 'skip', timestamp: at(HOUR + 2) },
  ];
  const { counted } = matchFeedback(events, index);

  it('counts impressions and plays per arm of the shelf', () => {
    expect(canaryArmStats(counted, 'podcasts', { live: 'podcasts-live', canary: 'podcasts-canary' })).toEqual({
      canary: { impressions: 2, plays: 1, byUser: [[2, 1]] },
      live: { impressions: 1, plays: 0, byUser: [[1, 0]] },
    });
  });

  it("ignores live feedback from before the canary's first counted response", () => {
    const early: ServedResponse = {
      requestId: 'r0',
      userId: 'u3',
      at: at(-HOUR),
      shelves: [{ shelf: 'podcasts', modelVersion: 'podcasts-live', variant: 'live', items: [{ id: 'sh-9' }] }],
    };
    const withEarly = matchFeedback(
      [...events, { requestId: 'r0', userId: 'u3', itemId: 'sh-9', eventType: 'impression', timestamp: at(-HOUR) }],
      indexServed([...served, early]),
    );
    expect(canaryArmStats(withEarly.counted, 'podcasts', { live: 'podcasts-live', canary: 'podcasts-canary' }).live.impressions).toBe(1);
  });

  it('gives empty arms when the canary has no counted feedback', () => {
    expect(canaryArmStats(counted, 'podcasts', { live: 'podcasts-live', canary: 'podcasts-other' })).toEqual({
      live: { impressions: 0, plays: 0, byUser: [] },
      canary: { impressions: 0, plays: 0, byUser: [] },
    });
  });
});
