/**
 * A run's channels as buildShelfData's input: the events of the training channel (and of the
 * evaluation channel when a step needs the test window) as one columnar EventTable, with the
 * catalog, the users and the channel's meta. The parsed event records are dropped as soon as their
 * columns are filled, so a step holds each event once, as ~40 bytes of columns.
 */
import type { ChannelMeta } from './channel.ts';
import { readChannelDir } from './channel.ts';
import { EventTableBuilder } from '../core/transforms/event-table.ts';
import type { ShelfDataInput } from '../core/transforms/protocol.ts';

export interface ShelfInput extends ShelfDataInput {
  readonly meta: ChannelMeta;
}

/** Reads the training channel folder, and the evaluation one when given, into buildShelfData's input. */
export async function readShelfInput(trainDir: string, evalDir?: string): Promise<ShelfInput> {
  const train = await readChannelDir(trainDir);
  const { meta, catalog, users } = train;
  const builder = new EventTableBuilder(train.events.length);
  for (const e of train.events) builder.add(e);
  // Let the training records go before the evaluation channel is parsed.
  train.events.length = 0;
  if (evalDir !== undefined) {
    const test = await readChannelDir(evalDir);
    for (const e of test.events) builder.add(e);
  }
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
