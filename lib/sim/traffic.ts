/**
 * Simulated traffic: users from the world's ground truth ask the home API for their shelves, then play
 * or skip what they are shown (lib/sim/respond.ts), and the app posts that feedback to /v1/events.
 * Bounded: a fixed number of requests to a loopback URL.
 */
import type { HomeResponse, FeedbackEvent } from '../api/schemas.ts';
import { Rng } from '../core/rng.ts';
import { respond, type Truth } from './respond.ts';

export interface TrafficOptions {
  readonly url: string;
  readonly truth: Truth;
  /** How many distinct users send requests. */
  readonly users: number;
  readonly requests: number;
  readonly seed: number;
  readonly onProgress?: (done: number, total: number) => void;
}

export interface TrafficSummary {
  readonly requests: number;
  readonly impressions: number;
  readonly plays: number;
  readonly byVariant: Record<string, { impressions: number; plays: number }>;
}

export async function runTraffic(options: TrafficOptions): Promise<TrafficSummary> {
  const rng = new Rng(options.seed).fork('traffic');
  const everyone = [...options.truth.tastes.keys()].sort();
  const users = rng.shuffle([...everyone]).slice(0, Math.min(options.users, everyone.length));
  const summary = { requests: 0, impressions: 0, plays: 0, byVariant: {} as Record<string, { impressions: number; plays: number }> };
  let batch: FeedbackEvent[] = [];
  const post = async (): Promise<void> => {
    if (batch.length === 0) return;
    const res = await fetch(`${options.url}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ events: batch }),
    });
    if (res.status !== 202) throw new Error(`POST /v1/events answered ${res.status}: ${await res.text()}`);
    batch = [];
  };
  for (let r = 0; r < options.requests; r++) {
    const userId = users[rng.int(users.length)] as string;
    const res = await fetch(`${options.url}/v1/home?userId=${encodeURIComponent(userId)}`);
    if (!res.ok) throw new Error(`GET /v1/home answered ${res.status}: ${await res.text()}`);
    const home = (await res.json()) as HomeResponse;
    summary.requests++;
    for (const shelf of home.shelves) {
      const answers = respond(
        options.truth,
        userId,
        shelf.items.map((i) => i.id),
        rng,
      );
      const arm = (summary.byVariant[`${shelf.shelf}:${shelf.variant}`] ??= { impressions: 0, plays: 0 });
      shelf.items.forEach((item, i) => {
        const base = {
          requestId: home.requestId,
          userId,
          itemId: item.id,
          shelf: shelf.shelf,
          variant: shelf.variant,
          modelVersion: shelf.modelVersion,
          timestamp: home.generatedAt,
          msPlayed: 0,
        };
        batch.push({ ...base, eventType: 'impression' });
        summary.impressions++;
        arm.impressions++;
        if (answers[i] === 'play') {
          batch.push({ ...base, eventType: 'play', msPlayed: 60_000 });
          summary.plays++;
          arm.plays++;
        } else if (answers[i] === 'skip') batch.push({ ...base, eventType: 'skip' });
      });
    }
    if (batch.length >= 400) await post();
    if ((r + 1) % 100 === 0) options.onProgress?.(r + 1, options.requests);
  }
  await post();
  return summary;
}
