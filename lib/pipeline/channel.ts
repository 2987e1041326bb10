/**
 * The data channels a run hands from ValidateData to training and evaluation: a folder (an S3 prefix
 * in AWS, /opt/ml/input/data/<channel> inside the training container) with meta.json, the catalog and
 * users as JSON Lines, and the validated events of the channel's window as Parquet under
 * events/dt=YYYY-MM-DD/shard-KK-of-NN.parquet (lib/io/parquet-events.ts), one file per listener shard.
 * A channel with an events.jsonl instead (written before the Parquet channels) is still read.
 */
import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { ShelfSchema, type CatalogItem, type ListeningEvent, type User } from '../core/contract.ts';
import { InputError } from '../core/errors.ts';
import { allocateEventColumns, copyEvent, EventColumnsBuilder, eventAt, type EventColumns } from '../io/event-columns.ts';
import { decodeEventsParquet, eventsParquetFileRowCount, type PositionedEvents } from '../io/parquet-events.ts';

export const CHANNEL_FILES = {
  meta: 'meta.json',
  /** Events of a legacy channel (JSON Lines); read when present. */
  events: 'events.jsonl',
  catalog: 'catalog.jsonl',
  users: 'users.jsonl',
} as const;
/** The channel's events folder: dt=YYYY-MM-DD/shard-KK-of-NN.parquet. */
export const CHANNEL_EVENTS_DIR = 'events';

/** The file of one listener shard's events inside a partition folder (dt=YYYY-MM-DD/ of a clean prefix or a channel's events/). */
export function shardFileName(shard: number, shards: number): string {
  const width = String(shards - 1).length;
  return `shard-${String(shard).padStart(width, '0')}-of-${shards}.parquet`;
}

export const ChannelMetaSchema = z.strictObject({
  shelf: ShelfSchema,
  /** Epoch ms: training uses events before it; the test window starts here. */
  cutoff: z.number(),
  testDays: z.number().positive(),
  dataSnapshot: z.string(),
  transformVersion: z.string(),
  /** Which part of the data this channel holds. */
  window: z.enum(['train', 'eval']),
});
export type ChannelMeta = z.infer<typeof ChannelMetaSchema>;

export interface ChannelData {
  readonly meta: ChannelMeta;
  readonly events: ListeningEvent[];
  readonly catalog: CatalogItem[];
  readonly users: User[];
}

/** Serializes records as JSON Lines (one record a line, trailing newline). */
export function toJsonLines(records: readonly unknown[]): string {
  let out = '';
  for (const r of records) out += `${JSON.stringify(r)}\n`;
  return out;
}

/** A channel folder opened for reading: meta, catalog and users read; events decoded only when iterated. */
export interface ChannelReader {
  readonly meta: ChannelMeta;
  readonly catalog: CatalogItem[];
  readonly users: User[];
  /** Number of events in the channel (from the Parquet footers: nothing decoded). */
  readonly eventCount: number;
  /**
   * Calls `fn` once per date partition, partitions in date order, each batch's events in the
   * partition's original order (the order of the old events.jsonl). Batches are fresh arrays: keep
   * them or drop them. Awaits `fn` when it returns a promise.
   */
  forEachBatch(fn: (batch: EventColumns, dt: string) => void | Promise<void>): Promise<void>;
}

/** Opens a channel folder written by ValidateData (or a legacy one with events.jsonl). */
export async function openChannelDir(dir: string): Promise<ChannelReader> {
  const metaPath = join(dir, CHANNEL_FILES.meta);
  let metaRaw: unknown;
  try {
    metaRaw = JSON.parse(await readFile(metaPath, 'utf8'));
  } catch (error) {
    throw new InputError(`cannot read channel meta: ${(error as Error).message}`, { file: metaPath });
  }
  const meta = ChannelMetaSchema.parse(metaRaw);
  const [catalog, users] = await Promise.all([
    readJsonLines<CatalogItem>(join(dir, CHANNEL_FILES.catalog)),
    readJsonLines<User>(join(dir, CHANNEL_FILES.users)),
  ]);
  const legacy = join(dir, CHANNEL_FILES.events);
  if (await exists(legacy)) {
    const events = await readJsonLines<ListeningEvent>(legacy);
    return {
      meta,
      catalog,
      users,
      eventCount: events.length,
      async forEachBatch(fn) {
        const b = new EventColumnsBuilder(events.length);
        for (const e of events) b.add(e, Date.parse(e.timestamp));
        await fn(b.finish(), 'all');
      },
    };
  }
  const partitions = await listEventFiles(join(dir, CHANNEL_EVENTS_DIR));
  let eventCount = 0;
  for (const files of partitions.values()) for (const file of files) eventCount += await eventsParquetFileRowCount(file);
  return {
    meta,
    catalog,
    users,
    eventCount,
    async forEachBatch(fn) {
      for (const [dt, files] of partitions) {
        const shards: PositionedEvents[] = [];
        for (const file of files) shards.push(await decodeEventsParquet(new Uint8Array(await readFile(file)), file));
        await fn(mergeShards(shards), dt);
      }
    },
  };
}

/** Every event of the channel as one set of columns, in channel order (partitions by date, original order within each). */
export async function readChannelEvents(reader: ChannelReader): Promise<EventColumns> {
  const out = allocateEventColumns(reader.eventCount);
  let at = 0;
  await reader.forEachBatch((batch) => {
    if (at + batch.length > out.length)
      throw new InputError(`channel has more events than its Parquet footers say: expected ${out.length}, read past ${at + batch.length}`);
    for (let i = 0; i < batch.length; i++) copyEvent(batch, i, out, at++);
  });
  return at === out.length ? out : trimmed(out, at);
}

function trimmed(c: EventColumns, n: number): EventColumns {
  return {
    length: n,
    userId: c.userId.slice(0, n),
    itemId: c.itemId.slice(0, n),
    eventType: c.eventType.slice(0, n),
    device: c.device.slice(0, n),
    country: c.country.slice(0, n),
    timestamp: c.timestamp.slice(0, n),
    msPlayed: c.msPlayed.slice(0, n),
    progress: c.progress.slice(0, n),
    localHour: c.localHour.slice(0, n),
  };
}

/** The listener shards of one partition merged back into the partition's original order (by `row`). */
export function mergeShards(shards: readonly PositionedEvents[]): EventColumns {
  let n = 0;
  let maxRow = -1;
  for (const s of shards) {
    n += s.events.length;
    for (let i = 0; i < s.row.length; i++) if ((s.row[i] as number) > maxRow) maxRow = s.row[i] as number;
  }
  // Rows are distinct positions in the partition: place each event at its position, then read in order.
  const slotShard = new Int32Array(maxRow + 1).fill(-1);
  const slotIndex = new Int32Array(maxRow + 1);
  shards.forEach((s, k) => {
    for (let i = 0; i < s.row.length; i++) {
      const r = s.row[i] as number;
      if (slotShard[r] !== -1) throw new InputError(`two events at row ${r} of one partition: the shards overlap`);
      slotShard[r] = k;
      slotIndex[r] = i;
    }
  });
  const out = allocateEventColumns(n);
  let j = 0;
  for (let r = 0; r <= maxRow; r++) {
    const k = slotShard[r] as number;
    if (k === -1) continue;
    copyEvent((shards[k] as PositionedEvents).events, slotIndex[r] as number, out, j++);
  }
  return out;
}

/** Reads a channel folder into ListeningEvent objects: the old shape, one object per event (small data, old callers). */
export async function readChannelDir(dir: string): Promise<ChannelData> {
  const reader = await openChannelDir(dir);
  const events: ListeningEvent[] = [];
  await reader.forEachBatch((batch) => {
    for (let i = 0; i < batch.length; i++) events.push(eventAt(batch, i));
  });
  return { meta: reader.meta, events, catalog: reader.catalog, users: reader.users };
}

/** The events Parquet files under `dir`, grouped by date partition (dt=...), in date and file order. */
async function listEventFiles(dir: string): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  if (!(await exists(dir))) return out;
  const entries = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
  for (const name of entries.sort()) {
    const m = /^dt=(.+)$/.exec(name);
    if (m === null) continue;
    const files = (await readdir(join(dir, name))).filter((f) => f.endsWith('.parquet')).sort();
    if (files.length > 0)
      out.set(
        m[1] as string,
        files.map((f) => join(dir, name, f)),
      );
  }
  return out;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

async function readJsonLines<T>(file: string): Promise<T[]> {
  const out: T[] = [];
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  let n = 0;
  for await (const line of lines) {
    n++;
    if (line.length === 0) continue;
    try {
      out.push(JSON.parse(line) as T);
    } catch {
      throw new InputError('not valid JSON', { file, line: n });
    }
  }
  return out;
}
