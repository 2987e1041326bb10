/**
 * A listener's serving history: the batch history the pipeline wrote (up to the end of its data) joined
 * with the plays posted to /v1/events since then, so a play counts on the next request instead of at
 * the next retrain. Pure: the DynamoDB adapter (lib/aws/user-state.ts) stores both halves.
 */
import type { HistoryEvent } from '../models/recommender.ts';

/** Most recent events kept per listener, batch and online together (the Shortcuts window needs far fewer). */
export const MAX_SERVING_HISTORY = 200;

/** Event types a listener's history keeps (impressions are not listening). */
const HISTORY_TYPES = new Set(['play', 'resume', 'complete', 'skip', 'save']);

/** A feedback event as the events path receives it (see FeedbackEventSchema in lib/api/schemas.ts). */
export interface PostedEvent {
  readonly itemId: string;
  readonly eventType: string;
  /** ISO time with the listener's offset, e.g. 2026-10-01T08:15:00+02:00. */
  readonly timestamp: string;
  readonly msPlayed: number;
  /** Share of the item heard, 0..1, when the client knows it. */
  readonly progress?: number;
}

/**
 * The history event of a posted event, or undefined for an impression. The local hour is read from the
 * timestamp's own offset (the client's clock), progress from the event or else msPlayed over the item's
 * duration (0 when neither is known).
 */
export function postedHistoryEvent(event: PostedEvent, durationMs?: number): HistoryEvent | undefined {
  if (!HISTORY_TYPES.has(event.eventType)) return undefined;
  const hour = /T(\d{2}):/.exec(event.timestamp);
  const progress = event.progress ?? (durationMs && durationMs > 0 ? Math.min(1, event.msPlayed / durationMs) : 0);
  return {
    itemId: event.itemId,
    ts: Date.parse(event.timestamp),
    eventType: event.eventType,
    msPlayed: event.msPlayed,
    progress,
    localHour: hour ? Number(hour[1]) : 0,
  };
}

/**
 * Batch history (oldest first, ending at `batchEnd`) followed by the online events after `batchEnd`,
 * oldest first, without exact duplicates (a retried POST), the most recent `max` kept.
 */
export function mergeServingHistory(
  batch: readonly HistoryEvent[],
  batchEnd: number,
  online: readonly HistoryEvent[],
  max: number = MAX_SERVING_HISTORY,
): HistoryEvent[] {
  const seen = new Set<string>();
  const later = online
    .filter((e) => e.ts >= batchEnd)
    .filter((e) => {
      const key = `${e.itemId}\u0000${e.ts}\u0000${e.eventType}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .sort((a, b) => a.ts - b.ts);
  const merged = later.length === 0 ? [...batch] : [...batch, ...later];
  return merged.length > max ? merged.slice(merged.length - max) : merged;
}
