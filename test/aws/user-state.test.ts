/** Online serving features on dynalite: the pipeline's batch items and the events path's online items. */
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dynamoClient } from '../../lib/aws/clients.ts';
import { documentClient } from '../../lib/aws/registry.ts';
import { UserStateStore } from '../../lib/aws/user-state.ts';
import type { User } from '../../lib/core/contract.ts';
import type { HistoryEvent } from '../../lib/core/models/recommender.ts';
import { MAX_SERVING_HISTORY, mergeServingHistory, postedHistoryEvent } from '../../lib/core/transforms/online-history.ts';
import { startTestEngines } from './local-engines.ts';

const END = Date.parse('2026-10-01T00:00:00Z');
const play = (itemId: string, ts: number): HistoryEvent => ({
  itemId,
  ts,
  eventType: 'play',
  msPlayed: 60_000,
  progress: 0.3,
  localHour: 8,
});
const user: User = {
  userId: 'u1',
  country: 'se',
  signupAt: '2026-01-01T00:00:00Z',
  onboardingGenres: ['pop'],
  device: 'mobile',
  ageBand: '25-34',
};

describe('the serving history', () => {
  it('appends online plays after the batch end, oldest first, once each', () => {
    const merged = mergeServingHistory([play('a', END - 10)], END, [play('c', END + 20), play('b', END + 10), play('b', END + 10)]);
    expect(merged.map((e) => e.itemId)).toEqual(['a', 'b', 'c']);
  });

  it('drops online plays the batch already covers', () => {
    expect(mergeServingHistory([play('a', END - 10)], END, [play('old', END - 5)]).map((e) => e.itemId)).toEqual(['a']);
  });

  it('keeps the most recent events up to the cap', () => {
    const merged = mergeServingHistory([play('a', 1), play('b', 2)], 3, [play('c', 4)], 2);
    expect(merged.map((e) => e.itemId)).toEqual(['b', 'c']);
  });

  it.each([
    ['play', '2026-10-01T08:15:00+02:00', 8],
    ['complete', '2026-10-01T23:59:00-05:00', 23],
  ])('reads the local hour of a posted %s from its own offset', (eventType, timestamp, hour) => {
    expect(postedHistoryEvent({ itemId: 'x', eventType, timestamp, msPlayed: 1000 })?.localHour).toBe(hour);
  });

  it('leaves impressions out of the history', () => {
    expect(postedHistoryEvent({ itemId: 'x', eventType: 'impression', timestamp: '2026-10-01T08:15:00Z', msPlayed: 0 })).toBeUndefined();
  });

  it('derives progress from the item duration when the client gives none', () => {
    expect(
      postedHistoryEvent({ itemId: 'x', eventType: 'play', timestamp: '2026-10-01T08:15:00Z', msPlayed: 30_000 }, 120_000)?.progress,
    ).toBe(0.25);
  });
});

describe('UserStateStore on dynalite', () => {
  let engines: Awaited<ReturnType<typeof startTestEngines>>;
  let store: UserStateStore;
  beforeAll(async () => {
    engines = await startTestEngines();
    store = new UserStateStore();
  });
  afterAll(async () => engines?.cleanup());

  it('knows nobody before the pipeline or the events path has written', async () => {
    expect(await store.get('nobody')).toBeUndefined();
  });

  it('reads back what the pipeline wrote in bulk, more than one batch write of listeners', async () => {
    const states = Array.from({ length: 60 }, (_, i) => ({ userId: `bulk-${i}`, history: [play(`item-${i}`, END - 1000)] }));
    expect(await store.putBatch(states, END, 'run-1')).toBe(60);
    expect((await store.get('bulk-59'))?.history.map((e) => e.itemId)).toEqual(['item-59']);
  });

  it('writes the batch item the DocumentClient wrote before its attributes were marshalled by hand', async () => {
    // The same listener written both ways: by putBatch, and by the DocumentClient's marshalling of the
    // item putBatch wrote before (plain values, numbers as N); the stored attributes must be identical.
    const history = Array.from({ length: MAX_SERVING_HISTORY + 5 }, (_, i) => ({ ...play(`it-${i}`, END - 10_000 + i), progress: i / 7 }));
    const raw = async (userId: string) =>
      (
        await dynamoClient().send(
          new GetItemCommand({ TableName: store.tableName, Key: { userId: { S: userId }, sk: { S: 'batch' } }, ConsistentRead: true }),
        )
      ).Item;
    expect(
      await store.putBatch(
        [
          { userId: 'hand', user: { ...user, userId: 'hand' }, history },
          { userId: 'hand-bare', history },
        ],
        END + 0.5,
        'run-h',
      ),
    ).toBe(2);
    for (const [userId, profile] of [
      ['hand', { profile: JSON.stringify({ ...user, userId: 'hand' }) }],
      ['hand-bare', {}],
    ] as const) {
      const rows = history.slice(-MAX_SERVING_HISTORY).map((e) => [e.itemId, e.ts, e.eventType, e.msPlayed, e.progress, e.localHour]);
      await documentClient().send(
        new PutCommand({
          TableName: store.tableName,
          Item: { userId: `${userId}-doc`, sk: 'batch', ...profile, h: JSON.stringify(rows), batchEnd: END + 0.5, runId: 'run-h' },
        }),
      );
      const [mine, theirs] = [await raw(userId), await raw(`${userId}-doc`)];
      expect(mine).toEqual({ ...theirs, userId: { S: userId } });
      expect(mine?.profile === undefined).toBe(userId === 'hand-bare');
    }
    const back = await store.get('hand');
    expect(back?.user?.userId).toBe('hand');
    expect(back?.history.map((e) => e.itemId)).toEqual(history.slice(-MAX_SERVING_HISTORY).map((e) => e.itemId));
  });

  it('writes every listener of several shards written at once, each listener once', async () => {
    // The local runner's shape: the shard tasks' putBatch calls in flight together, each pulling its
    // own generator 25 at a time.
    const shard = function* (k: number) {
      for (let i = k; i < 1000; i += 4) yield { userId: `shard-${i}`, history: [play(`s-${i}`, END - i)] };
    };
    // Shards 0 and 1 with one request in flight, 2 and 3 with more requests than the shard has chunks.
    const stores = [1, 1, 32, 32].map((writeConcurrency) => new UserStateStore(store.tableName, { writeConcurrency }));
    const counts = await Promise.all(stores.map((s, k) => s.putBatch(shard(k), END, 'run-s')));
    expect(counts).toEqual([250, 250, 250, 250]);
    const back = await Promise.all(Array.from({ length: 1000 }, (_, i) => store.get(`shard-${i}`)));
    expect(back.map((b) => b?.history.map((e) => e.itemId).join())).toEqual(Array.from({ length: 1000 }, (_, i) => `s-${i}`));
  });

  it.each([0, -1, 2.5])('refuses %s batch writes in flight', (writeConcurrency) => {
    expect(() => new UserStateStore(store.tableName, { writeConcurrency })).toThrow(
      /writeConcurrency: received .*, expected an integer >= 1/,
    );
  });

  it('serves a play posted after the batch on the next read, and keeps it through the next bulk write', async () => {
    await store.putBatch([{ userId: 'u1', user, history: [play('a', END - 1000)] }], END, 'run-1');
    await store.appendOnline('u1', [play('fresh', END + 1000)]);
    expect((await store.get('u1'))?.history.map((e) => e.itemId)).toEqual(['a', 'fresh']);
    // The next run's data ends at the same time: its overwrite of the batch item keeps the online play.
    await store.putBatch([{ userId: 'u1', user, history: [play('a', END - 1000)] }], END, 'run-2');
    const state = await store.get('u1');
    expect(state?.user).toEqual(user);
    expect(state?.history.map((e) => e.itemId)).toEqual(['a', 'fresh']);
  });

  it('trims a full online history to the newest plays instead of failing', async () => {
    await store.putBatch([{ userId: 'busy', history: [] }], END, 'run-1');
    for (let i = 0; i < MAX_SERVING_HISTORY + 30; i += 10)
      await store.appendOnline(
        'busy',
        Array.from({ length: 10 }, (_, j) => play(`p${i + j}`, END + i + j + 1)),
      );
    const history = (await store.get('busy'))?.history ?? [];
    expect(history.length).toBe(MAX_SERVING_HISTORY);
    expect(history.at(-1)?.itemId).toBe(`p${MAX_SERVING_HISTORY + 29}`);
  });
});
