/**
 * Serving's read of a listener (UserStateStore.get: one BatchGetItem of the batch and online items,
 * sent by a client of its own) on dynalite: what the pipeline and the events path wrote comes back
 * whole, and the read follows the process-wide client to a restarted engine.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { UserStateStore } from '../../lib/aws/user-state.ts';
import type { User } from '../../lib/core/contract.ts';
import type { HistoryEvent } from '../../lib/core/models/recommender.ts';
import { MAX_SERVING_HISTORY, mergeServingHistory } from '../../lib/core/transforms/online-history.ts';
import { startTestEngines } from '../aws/local-engines.ts';

const END = Date.parse('2026-10-01T00:00:00Z');
const play = (itemId: string, ts: number, hour = 8): HistoryEvent => ({
  itemId,
  ts,
  eventType: 'play',
  msPlayed: 61_500,
  progress: 0.375,
  localHour: hour,
});
const profile: User = {
  userId: 'full',
  country: 'br',
  signupAt: '2026-02-03T04:05:06Z',
  onboardingGenres: ['jazz', 'news'],
  device: 'tv',
  ageBand: '35-44',
};

describe('UserStateStore.get on dynalite', () => {
  let engines: Awaited<ReturnType<typeof startTestEngines>> | undefined;
  afterAll(async () => engines?.cleanup());

  it('reads a full batch history, its profile and the online plays after it, as the pipeline and the events path wrote them', async () => {
    engines = await startTestEngines();
    const store = new UserStateStore();
    const batch = Array.from({ length: MAX_SERVING_HISTORY }, (_, i) => play(`b-${i}`, END - (MAX_SERVING_HISTORY - i) * 60_000, i % 24));
    await store.putBatch([{ userId: 'full', user: profile, history: batch }], END, 'run-1');
    const online = [play('o-1', END + 1_000), play('o-2', END + 2_000, 23)];
    await store.appendOnline('full', online);
    const state = await store.get('full');
    expect(state?.user).toEqual(profile);
    expect(state?.history).toEqual(mergeServingHistory(batch, END, online));
    expect(state?.history.at(-1)).toEqual(online[1]);
  });

  it('reads a listener the events path has seen and the pipeline has not: history, no profile', async () => {
    const store = new UserStateStore();
    await store.appendOnline('only-online', [play('x', END + 5_000)]);
    const state = await store.get('only-online');
    expect(state).toEqual({ history: [play('x', END + 5_000)] });
    expect(await store.get('never-seen')).toBeUndefined();
  });

  it('reads from the engine the process-wide client points at after the engines restart on another port', async () => {
    await engines?.cleanup();
    engines = await startTestEngines();
    const store = new UserStateStore();
    // A fresh engine: the listener written to the first one is not there, and a read sent to the old port would fail.
    expect(await store.get('full')).toBeUndefined();
    await store.putBatch([{ userId: 'again', history: [play('y', END - 1)] }], END, 'run-2');
    expect((await store.get('again'))?.history.map((e) => e.itemId)).toEqual(['y']);
  });
});
