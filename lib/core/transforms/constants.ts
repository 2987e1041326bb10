/**
 * Constants of the feature transforms, in one object so that the transform version (version.ts)
 * covers them: a function's source text names a constant but does not show its value.
 */
export const TRANSFORM_CONSTANTS = {
  /** A listen counts as a positive interaction from this many milliseconds played... */
  minListenMs: 30_000,
  /** ...or from this position reached in the item (0..1), for logs without msPlayed. */
  minListenProgress: 0.1,
  /** Position from which an item counts as finished. */
  finishedProgress: 0.98,
  /** A gap longer than this between listens starts a new session. */
  sessionGapMs: 30 * 60_000,
  /** Shortcuts candidates and counts look back this many days. */
  lookbackDays: 28,
  /** At most this many Shortcuts candidates per decision point. */
  maxCandidates: 30,
  /** Plays within this many hours of the request's local hour count toward hour affinity. */
  hourWindow: 2,
  /** Latest sessions per user that become Shortcuts training groups. */
  maxGroupsPerUser: 20,
} as const;

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;
