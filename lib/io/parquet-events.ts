/**
 * Clean listening events as Parquet: the format of the pipeline's clean partitions and of the data
 * channels. Columnar and typed: ids, event type, device and country as UTF8 strings (hyparquet-writer
 * dictionary-encodes a column when that at least halves it), timestamp as INT64 TIMESTAMP_MILLIS,
 * msPlayed and progress as DOUBLE, localHour as INT32, and `row`: the event's position in its date
 * partition, so the listener shards of one partition merge back into the partition's original order.
 */
import { open } from 'node:fs/promises';
import { parquetMetadata, parquetMetadataAsync, parquetRead } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import type { Device, EventType } from '../core/contract.ts';
import { InputError } from '../core/errors.ts';
import { allocateEventColumns, type EventColumns } from './event-columns.ts';

/** Bumped when the columns or their types change: part of the clean partitions' content key. */
export const EVENTS_PARQUET_VERSION = 'events-parquet-1';

/** Files with fewer events are written uncompressed. */
const SNAPPY_MIN_ROWS = 20_000;

/** Column names, in file order. */
export const EVENT_PARQUET_COLUMNS = [
  'userId',
  'itemId',
  'eventType',
  'device',
  'country',
  'timestamp',
  'msPlayed',
  'progress',
  'localHour',
  'row',
] as const;

/** Events of one Parquet file with each event's position in its partition. */
export interface PositionedEvents {
  readonly events: EventColumns;
  /** `row[i]`: position of event i in its date partition (0-based). */
  readonly row: Int32Array;
}

/** Encodes events (with their positions in the partition) as one Parquet file. */
export function encodeEventsParquet({ events, row }: PositionedEvents): Uint8Array {
  if (row.length !== events.length)
    throw new RangeError(`row positions: expected one per event (${events.length}), received ${row.length}`);
  const timestamps = new BigInt64Array(events.length);
  for (let i = 0; i < events.length; i++) timestamps[i] = BigInt(events.timestamp[i] as number);
  const localHour = Int32Array.from(events.localHour);
  const required = { nullable: false } as const;
  // Encodings chosen by measurement on a 134k-event day (hyparquet-writer 0.17): user ids are mostly
  // distinct within a day, so PLAIN skips a dictionary attempt that would not pay; `row` ascends, so
  // DELTA_BINARY_PACKED makes it almost free; the low-cardinality columns keep the writer's dictionary.
  // Statistics only on timestamp (a reader can skip files by time); elsewhere they cost time for nothing.
  const buffer = parquetWriteBuffer({
    statistics: false,
    // Snappy has a fixed cost per page that dominates a small file (8 shards of a 3,000-listener day
    // are ~400 rows each); below SNAPPY_MIN_ROWS the bytes saved are a few KB.
    codec: events.length < SNAPPY_MIN_ROWS ? 'UNCOMPRESSED' : 'SNAPPY',
    columnData: [
      { name: 'userId', data: events.userId, type: 'STRING', encoding: 'PLAIN', ...required },
      { name: 'itemId', data: events.itemId, type: 'STRING', ...required },
      { name: 'eventType', data: events.eventType, type: 'STRING', ...required },
      { name: 'device', data: events.device, type: 'STRING', ...required },
      { name: 'country', data: events.country, type: 'STRING', ...required },
      { name: 'timestamp', data: timestamps, type: 'TIMESTAMP', statistics: true, ...required },
      { name: 'msPlayed', data: events.msPlayed, type: 'DOUBLE', encoding: 'PLAIN', ...required },
      { name: 'progress', data: events.progress, type: 'DOUBLE', ...required },
      { name: 'localHour', data: localHour, type: 'INT32', ...required },
      { name: 'row', data: row, type: 'INT32', encoding: 'DELTA_BINARY_PACKED', ...required },
    ],
    // One row group per file: a file is one listener shard of one day, read whole.
    rowGroupSize: Math.max(1, events.length),
    kvMetadata: [{ key: 'home-shelves', value: EVENTS_PARQUET_VERSION }],
  });
  return new Uint8Array(buffer);
}

/** Rows in an events Parquet file, from its footer (nothing decoded). */
export function eventsParquetRowCount(bytes: Uint8Array): number {
  return Number(parquetMetadata(toArrayBuffer(bytes)).num_rows);
}

/**
 * Rows in a local events Parquet file, from its footer alone (the file's tail is read, not its data).
 * Through node:fs rather than hyparquet's asyncBufferFromFile, whose bare "fs" import the training
 * bundle must not carry.
 */
export async function eventsParquetFileRowCount(path: string): Promise<number> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    const file = {
      byteLength: size,
      async slice(start: number, end?: number): Promise<ArrayBuffer> {
        const length = (end ?? size) - start;
        const bytes = new Uint8Array(length);
        await handle.read(bytes, 0, length, start);
        return bytes.buffer;
      },
    };
    return Number((await parquetMetadataAsync(file)).num_rows);
  } finally {
    await handle.close();
  }
}

/** Decodes an events Parquet file written by encodeEventsParquet. `file` names it in errors. */
export async function decodeEventsParquet(bytes: Uint8Array, file: string): Promise<PositionedEvents> {
  const buffer = toArrayBuffer(bytes);
  let metadata: ReturnType<typeof parquetMetadata>;
  try {
    metadata = parquetMetadata(buffer);
  } catch (error) {
    throw new InputError(`not valid Parquet: ${(error as Error).message}`, { file });
  }
  const names = new Set(metadata.schema.slice(1).map((s) => s.name));
  const missing = EVENT_PARQUET_COLUMNS.filter((c) => !names.has(c));
  if (missing.length > 0)
    throw new InputError(`events Parquet without column(s) ${missing.join(', ')}: expected ${EVENT_PARQUET_COLUMNS.join(', ')}`, {
      file,
    });
  const n = Number(metadata.num_rows);
  const events = allocateEventColumns(n);
  const row = new Int32Array(n);
  const targets: Record<string, ArrayLike<unknown> & { [i: number]: unknown }> = {
    userId: events.userId,
    itemId: events.itemId,
    eventType: events.eventType as EventType[],
    device: events.device as Device[],
    country: events.country,
    timestamp: events.timestamp,
    msPlayed: events.msPlayed,
    progress: events.progress,
    localHour: events.localHour,
    row,
  };
  await parquetRead({
    file: buffer,
    metadata,
    columns: [...EVENT_PARQUET_COLUMNS],
    // Epoch ms as numbers, not Date objects.
    parsers: { timestampFromMilliseconds: (millis: bigint) => Number(millis) },
    onChunk: ({ columnName, columnData, rowStart, rowEnd }) => {
      const target = targets[columnName];
      if (target === undefined) return;
      const end = Math.min(rowEnd, n);
      for (let r = rowStart; r < end; r++) target[r] = columnData[r - rowStart];
    },
  });
  return { events, row };
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
    ? (bytes.buffer as ArrayBuffer)
    : (bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
}
