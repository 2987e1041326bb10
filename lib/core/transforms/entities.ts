/**
 * Entity features: what the hybrid model and the segment heuristics know about a user or an item
 * beyond its id. The request path (a user never seen, described by the POST /v1/home body) and the
 * batch path (a stored user) go through the same function.
 */
import { toEpochMs, type CatalogItem, type ListeningEvent, type User } from '../contract.ts';
import type { Feature, HistoryEvent, ItemMeta, UserMeta } from '../models/recommender.ts';
import { TRANSFORM_CONSTANTS } from './constants.ts';

/** The facts about a user that features are made of. */
export interface UserFacts {
  readonly country: string;
  readonly device: string;
  readonly ageBand?: string;
  readonly onboardingGenres?: readonly string[];
}

/** Features of a user from facts: country, device, age band, each onboarding pick. */
export function requestUserFeatures(facts: UserFacts): Feature[] {
  const features: Feature[] = [
    [`country:${facts.country}`, 1],
    [`device:${facts.device}`, 1],
  ];
  if (facts.ageBand !== undefined) features.push([`age:${facts.ageBand}`, 1]);
  for (const genre of facts.onboardingGenres ?? []) features.push([`genre:${genre}`, 1]);
  return features;
}

/** Features of a stored user: exactly requestUserFeatures of its facts. */
export function userFeatures(user: User): Feature[] {
  return requestUserFeatures({
    country: user.country,
    device: user.device,
    ageBand: user.ageBand,
    onboardingGenres: user.onboardingGenres,
  });
}

/** Features of an item: type, primary category (1) and others (0.5), publisher, language. */
export function itemFeatures(item: CatalogItem): Feature[] {
  const features: Feature[] = [[`type:${item.type}`, 1]];
  item.categories.forEach((c, i) => {
    features.push([`cat:${c}`, i === 0 ? 1 : 0.5]);
  });
  features.push([`pub:${item.publisher}`, 1], [`lang:${item.language}`, 1]);
  return features;
}

/** What heuristics and the evaluator know about an item: type, categories, publish time, parent show. */
export function itemMeta(item: CatalogItem): ItemMeta {
  return {
    type: item.type,
    categories: item.categories,
    publishedAt: toEpochMs(item.publishedAt),
    ...(item.showId !== undefined ? { showId: item.showId } : {}),
  };
}

/** What segment heuristics know about a user: country, device, age band, onboarding picks, signup time. */
export function userMeta(user: User): UserMeta {
  return {
    country: user.country,
    device: user.device,
    ageBand: user.ageBand,
    onboardingGenres: user.onboardingGenres,
    signupAt: toEpochMs(user.signupAt),
  };
}

/** One raw event as the history serving and the Shortcuts transforms read (time in epoch ms). */
export function historyEvent(event: ListeningEvent): HistoryEvent {
  return {
    itemId: event.itemId,
    ts: toEpochMs(event.timestamp),
    eventType: event.eventType,
    msPlayed: event.msPlayed,
    progress: event.progress,
    localHour: event.localHour,
  };
}

/** Each user's history, oldest first (stable for equal times). */
export function historyOf(events: readonly ListeningEvent[]): Map<string, HistoryEvent[]> {
  const byUser = new Map<string, HistoryEvent[]>();
  for (const e of events) {
    let list = byUser.get(e.userId);
    if (list === undefined) byUser.set(e.userId, (list = []));
    list.push(historyEvent(e));
  }
  for (const list of byUser.values()) list.sort((a, b) => a.ts - b.ts);
  return byUser;
}

/** Listening, as opposed to impressions, skips and saves. */
export function isListen(eventType: string): boolean {
  return eventType === 'play' || eventType === 'resume' || eventType === 'complete';
}

/**
 * A listen strong enough to count as a positive interaction or a "start": at least
 * TRANSFORM_CONSTANTS.minListenMs played, or at least minListenProgress reached (logs without msPlayed).
 */
export function isPositiveListen(event: { readonly eventType: string; readonly msPlayed: number; readonly progress: number }): boolean {
  return (
    isListen(event.eventType) &&
    (event.msPlayed >= TRANSFORM_CONSTANTS.minListenMs || event.progress >= TRANSFORM_CONSTANTS.minListenProgress)
  );
}
