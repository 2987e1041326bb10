/** readShelfInput: a run's Parquet channels streamed into the same event columns as the records they hold. */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ListeningEvent } from '../../lib/core/contract.ts';
import { eventTableOf } from '../../lib/core/transforms/event-table.ts';
import { buildShelfData } from '../../lib/core/transforms/protocol.ts';
import { EventColumnsBuilder } from '../../lib/io/event-columns.ts';
import { encodeEventsParquet } from '../../lib/io/parquet-events.ts';
import { CHANNEL_EVENTS_DIR, CHANNEL_FILES, shardFileName, toJsonLines, type ChannelMeta } from '../../lib/pipeline/channel.ts';
import { readShelfInput } from '../../lib/pipeline/shelf-input.ts';
import { listenersAtScale, SCALE_CUTOFF, SCALE_TEST_DAYS } from '../core/transforms/listeners-at-scale.ts';

const world = listenersAtScale(30);
const train = world.events.filter((e) => Date.parse(e.timestamp) < SCALE_CUTOFF);
const test = world.events.filter((e) => Date.parse(e.timestamp) >= SCALE_CUTOFF);
const SHARDS = 3;
const dirs: string[] = [];

/** A channel folder as ValidateData writes it: events by day, each day's listener shards as Parquet with their rows' positions. */
async function writeChannel(events: readonly ListeningEvent[], window: 'train' | 'eval'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'shelf-input-'));
  dirs.push(dir);
  const meta: ChannelMeta = {
    shelf: 'shortcuts',
    cutoff: SCALE_CUTOFF,
    testDays: SCALE_TEST_DAYS,
    dataSnapshot: 's',
    transformVersion: 't',
    window,
  };
  await writeFile(join(dir, CHANNEL_FILES.meta), JSON.stringify(meta));
  await writeFile(join(dir, CHANNEL_FILES.catalog), toJsonLines(world.catalog));
  await writeFile(join(dir, CHANNEL_FILES.users), toJsonLines(world.users));
  const days = new Map<string, ListeningEvent[]>();
  for (const e of events) {
    const dt = e.timestamp.slice(0, 10);
    days.set(dt, [...(days.get(dt) ?? []), e]);
  }
  for (const [dt, day] of days) {
    const folder = join(dir, CHANNEL_EVENTS_DIR, `dt=${dt}`);
    await mkdir(folder, { recursive: true });
    for (let shard = 0; shard < SHARDS; shard++) {
      const builder = new EventColumnsBuilder();
      const rows: number[] = [];
      day.forEach((e, row) => {
        if (Number(e.userId.slice(-4)) % SHARDS !== shard) return;
        builder.add(e, Date.parse(e.timestamp));
        rows.push(row);
      });
      await writeFile(
        join(folder, shardFileName(shard, SHARDS)),
        encodeEventsParquet({ events: builder.finish(), row: Int32Array.from(rows) }),
      );
    }
  }
  return dir;
}

afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('readShelfInput', () => {
  it('streams the train and eval channels into the columns of their events, in channel order', async () => {
    const input = await readShelfInput(await writeChannel(train, 'train'), await writeChannel(test, 'eval'));
    // Channel order: by day, each day's events in their order (a late-logged event sits in its own day).
    const byDay = (events: readonly ListeningEvent[]) =>
      [...events].sort((a, b) =>
        a.timestamp.slice(0, 10) < b.timestamp.slice(0, 10) ? -1 : a.timestamp.slice(0, 10) > b.timestamp.slice(0, 10) ? 1 : 0,
      );
    const expected = eventTableOf(byDay(train), byDay(test));
    for (const field of ['userIds', 'itemIds', 'user', 'item', 'ts', 'type', 'msPlayed', 'progress', 'localHour'] as const)
      expect(input.events[field]).toEqual(expected[field]);
    expect(input.cutoff).toBe(SCALE_CUTOFF);
    expect(input.users).toEqual(world.users);
    const fromRecords = buildShelfData('shortcuts', { ...world, cutoff: SCALE_CUTOFF, testDays: SCALE_TEST_DAYS, snapshot: 's' });
    const fromChannels = buildShelfData('shortcuts', input);
    expect(fromChannels.eval.cases).toEqual(fromRecords.eval.cases);
    expect(fromChannels.shortcutExamples).toEqual(fromRecords.shortcutExamples);
  });

  it('reads the training channel alone when no evaluation channel is given', async () => {
    const input = await readShelfInput(await writeChannel(train, 'train'));
    expect(input.events.length).toBe(train.length);
  });
});
