/**
 * The canary monitor's arms counted from the raw bucket on s3rver: only feedback that matches the
 * request log counts, whatever the client claims; Firehose's GZIP objects and broken lines are read.
 */
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatS3Uri, putObjectBytes } from '../../lib/aws/s3-uri.ts';
import { indexServed, matchFeedback } from '../../lib/core/gate/feedback-match.ts';
import { startLocalApi } from '../../lib/local/local-api.ts';
import { uploadDataset } from '../../lib/local/seed-data.ts';
import { armStats } from '../../lib/serving/canary-monitor.ts';
import { readFeedbackLog } from '../../lib/serving/feedback-log.ts';
import type { RequestLogRecord } from '../../lib/serving/ports.ts';
import { RAW_BUCKET } from '../../lib/wiring/resources.ts';
import { generateWorld } from '../../lib/sim/world.ts';
import type { FeedbackEvent, HomeResponse } from '../../lib/api/schemas.ts';
import { startTestEngines } from '../aws/local-engines.ts';

let engines: Awaited<ReturnType<typeof startTestEngines>>;
const bucket = RAW_BUCKET.localName;
const T0 = Date.parse('2026-10-01T12:00:00Z');
const iso = (ms: number): string => new Date(T0 + ms).toISOString();
const versions = { live: 'podcasts-live', canary: 'podcasts-canary' };

/**
 * A logged response to `userId` showing items sh-<n>-0..9 on Podcasts from `version`; the canary's
 * (n >= 100) interleave with live's, the first one half a second before live's first.
 */
function response(n: number, userId: string, version: string): RequestLogRecord {
  return {
    requestId: `req-${n}`,
    userId,
    at: iso(n >= 100 ? (n - 100) * 1000 - 500 : n * 1000),
    transformVersion: 't',
    features: [],
    shelves: [
      { shelf: 'shortcuts', modelVersion: 'shortcuts-x', variant: 'live', items: [{ id: `ep-${n}`, score: 1 }] },
      {
        shelf: 'podcasts',
        modelVersion: version,
        variant: version === versions.canary ? 'canary' : 'live',
        items: Array.from({ length: 10 }, (_, i) => ({ id: `sh-${n}-${i}`, score: 1 - i / 10 })),
      },
    ],
  };
}

/** What an honest client sends for a response: an impression per item, a play of the first `plays`. */
function honest(r: RequestLogRecord, plays: number): FeedbackEvent[] {
  const shelf = r.shelves[1];
  if (shelf === undefined) return [];
  return shelf.items.flatMap((item, i) => {
    const base = {
      requestId: r.requestId,
      userId: r.userId,
      itemId: item.id,
      shelf: 'podcasts' as const,
      modelVersion: shelf.modelVersion,
      timestamp: iso(Date.parse(r.at) - T0 + 5000),
      msPlayed: 0,
    };
    return [
      { ...base, eventType: 'impression' as const },
      ...(i < plays ? [{ ...base, eventType: 'play' as const, msPlayed: 60_000 }] : []),
    ];
  });
}

const jsonl = (rows: readonly unknown[]): string => `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`;

beforeAll(async () => {
  engines = await startTestEngines();
  const live = Array.from({ length: 20 }, (_, n) => response(n, `u${n}`, versions.live));
  const canary = Array.from({ length: 20 }, (_, n) => response(100 + n, `u${100 + n}`, versions.canary));
  // Serving's own objects locally, and a Firehose-style GZIP object with a broken line in AWS.
  await putObjectBytes(formatS3Uri(bucket, 'requests/dt=2026-10-01/local.jsonl'), jsonl(live));
  await putObjectBytes(formatS3Uri(bucket, 'requests/2026/10/01/12/firehose-1.gz'), gzipSync(`${jsonl(canary)}{"requestId": "cut`));
  const events = [...live.flatMap((r) => honest(r, 3)), ...canary.flatMap((r) => honest(r, 2))];
  await putObjectBytes(formatS3Uri(bucket, 'feedback/dt=2026-10-01/honest.jsonl'), jsonl(events));
}, 60_000);

afterAll(async () => {
  await engines?.cleanup();
});

describe('armStats over the raw bucket', () => {
  it('counts the honest feedback of logged responses per arm', async () => {
    expect(await armStats(bucket, 'podcasts', versions)).toMatchObject({
      live: { impressions: 200, plays: 60 },
      canary: { impressions: 200, plays: 40 },
    });
  });

  it('reads GZIP request logs and skips the lines it cannot parse', async () => {
    const log = await readFeedbackLog(bucket, 'podcasts');
    expect(log.served).toHaveLength(40);
    expect(log.served.every((r) => r.shelves.every((s) => s.shelf === 'podcasts'))).toBe(true);
    expect(log.skipped).toBe(1);
  });

  it('is not moved by forged, replayed or relabelled feedback', async () => {
    const forged: FeedbackEvent[] = [];
    const base = { shelf: 'podcasts' as const, eventType: 'play' as const, msPlayed: 60_000 };
    for (let i = 0; i < 500; i++) {
      // Plays of live items for responses never served, with invented request ids.
      forged.push({
        ...base,
        requestId: `req-forged-${i}`,
        userId: `u${i}`,
        itemId: 'sh-0-0',
        modelVersion: versions.live,
        timestamp: iso(0),
      });
      // Skips relabelled as the canary's, on real live responses: the log says they were live.
      forged.push({
        ...base,
        eventType: 'impression',
        requestId: 'req-1',
        userId: 'u1',
        itemId: 'sh-1-9',
        modelVersion: versions.canary,
        timestamp: iso(2000),
      });
      // Plays on a real canary response by another user.
      forged.push({
        ...base,
        requestId: 'req-100',
        userId: 'u-attacker',
        itemId: 'sh-100-0',
        modelVersion: versions.canary,
        timestamp: iso(100_000),
      });
      // Plays a week late.
      forged.push({
        ...base,
        requestId: 'req-101',
        userId: 'u101',
        itemId: 'sh-101-5',
        modelVersion: versions.canary,
        timestamp: iso(7 * 86_400_000),
      });
    }
    await putObjectBytes(formatS3Uri(bucket, 'feedback/dt=2026-10-01/forged.jsonl'), `${jsonl(forged)}not json\n`);
    expect(await armStats(bucket, 'podcasts', versions)).toMatchObject({
      live: { impressions: 200, plays: 60 },
      canary: { impressions: 200, plays: 40 },
    });
  });
});

describe('feedback through the real handlers', () => {
  it('matches every event an honest app posts for what the home API served it', async () => {
    const world = join(engines.home, 'world');
    await generateWorld(world, { users: 40, days: 14, seed: 4, start: '2026-09-01' });
    await uploadDataset(world, bucket);
    const api = await startLocalApi();
    try {
      const served: HomeResponse[] = [];
      for (const user of ['u-0000001', 'u-0000002', 'u-0000003']) {
        const res = await fetch(`${api.url}/v1/home?userId=${user}`);
        expect(res.status).toBe(200);
        served.push((await res.json()) as HomeResponse);
      }
      const events = served.flatMap((home) =>
        home.shelves.flatMap((shelf) =>
          shelf.items.flatMap((item, i) => {
            const base = {
              requestId: home.requestId,
              userId: home.userId,
              itemId: item.id,
              shelf: shelf.shelf,
              timestamp: home.generatedAt,
            };
            return [{ ...base, eventType: 'impression' }, ...(i === 0 ? [{ ...base, eventType: 'play', msPlayed: 60_000 }] : [])];
          }),
        ),
      );
      expect(events.length).toBeGreaterThan(10);
      const posted = await fetch(`${api.url}/v1/events`, { method: 'POST', body: JSON.stringify({ events }) });
      expect(posted.status).toBe(202);
      const counted = new Map<string, number>();
      let rejected = 0;
      for (const shelf of ['shortcuts', 'podcasts', 'playlists']) {
        const log = await readFeedbackLog(bucket, shelf);
        const mine = log.events.filter((e) => served.some((h) => h.requestId === e.requestId));
        const match = matchFeedback(mine, indexServed(log.served));
        counted.set(shelf, match.counted.length);
        rejected += Object.values(match.rejected).reduce((a, b) => a + b, 0) - match.rejected['item-not-served'];
      }
      // Each shelf's log holds only that shelf's items: every event counts on exactly one shelf.
      expect([...counted.values()].reduce((a, b) => a + b, 0)).toBe(events.length);
      expect(rejected).toBe(0);
    } finally {
      await api.close();
    }
  }, 120_000);
});
