/**
 * A run's channels as buildShelfData's input: the events of the training channel (and of the
 * evaluation channel when a step needs the test window) streamed partition by partition from the
 * channel's Parquet files (openChannelDir) into one columnar EventTable, with the catalog, the users
 * and the channel's meta. No event is ever an object: a step holds each event once, as ~40 bytes of
 * columns, plus one decoded partition at a time.
 */
import { type EventTable, EventTableBuilder } from '../core/transforms/event-table.ts';
import type { ShelfDataInput } from '../core/transforms/protocol.ts';
import { openChannelDir, type ChannelMeta } from './channel.ts';

export interface ShelfInput extends ShelfDataInput {
  readonly events: EventTable;
  readonly meta: ChannelMeta;
}

/** Reads the training channel folder, and the evaluation one when given, into buildShelfData's input. */
export async function readShelfInput(trainDir: string, evalDir?: string): Promise<ShelfInput> {
  const train = await openChannelDir(trainDir);
  const test = evalDir === undefined ? undefined : await openChannelDir(evalDir);
  const builder = new EventTableBuilder(train.eventCount + (test?.eventCount ?? 0));
  // Training events first, then the test window's, each in channel order: the order buildShelfData
  // breaks equal times by.
  for (const channel of test === undefined ? [train] : [train, test]) {
    await channel.forEachBatch((batch) => {
      for (let i = 0; i < batch.length; i++)
        builder.addFields(
          batch.userId[i] as string,
          batch.itemId[i] as string,
          batch.timestamp[i] as number,
          batch.eventType[i] as string,
          batch.msPlayed[i] as number,
          batch.progress[i] as number,
          batch.localHour[i] as number,
        );
    });
  }
  const { meta, catalog, users } = train;
  return {
    meta,
    events: builder.build(),
    catalog,
    users,
    cutoff: meta.cutoff,
    testDays: meta.testDays,
    snapshot: meta.dataSnapshot,
  };
}
