/**
 * Listening events as columns: one array per field, index i across the arrays is one event. The
 * pipeline's clean partitions and data channels hold events this way (Parquet on disk), so a step
 * that reads millions of events makes a few arrays instead of an object (and an ISO string) per event.
 */
import type { Device, EventType, ListeningEvent } from '../core/contract.ts';

/** A batch of events as columns: index i across the arrays is one event. */
export interface EventColumns {
  readonly length: number;
  readonly userId: string[];
  readonly itemId: string[];
  readonly eventType: EventType[];
  readonly device: Device[];
  readonly country: string[];
  /** Epoch ms. */
  readonly timestamp: Float64Array;
  readonly msPlayed: Float64Array;
  readonly progress: Float64Array;
  readonly localHour: Uint8Array;
}

/** Empty columns with room for `length` events (string arrays are filled by the caller). */
export function allocateEventColumns(length: number): EventColumns {
  return {
    length,
    userId: new Array<string>(length),
    itemId: new Array<string>(length),
    eventType: new Array<EventType>(length),
    device: new Array<Device>(length),
    country: new Array<string>(length),
    timestamp: new Float64Array(length),
    msPlayed: new Float64Array(length),
    progress: new Float64Array(length),
    localHour: new Uint8Array(length),
  };
}

/** One event as a ListeningEvent object (timestamp as ISO): for callers that still want objects. */
export function eventAt(columns: EventColumns, i: number): ListeningEvent {
  return {
    userId: columns.userId[i] as string,
    itemId: columns.itemId[i] as string,
    eventType: columns.eventType[i] as EventType,
    msPlayed: columns.msPlayed[i] as number,
    progress: columns.progress[i] as number,
    timestamp: new Date(columns.timestamp[i] as number).toISOString(),
    device: columns.device[i] as Device,
    country: columns.country[i] as string,
    localHour: columns.localHour[i] as number,
  };
}

/** The events at `indices` (in that order) as new columns. */
export function selectEvents(columns: EventColumns, indices: ArrayLike<number>): EventColumns {
  const out = allocateEventColumns(indices.length);
  for (let j = 0; j < indices.length; j++) copyEvent(columns, indices[j] as number, out, j);
  return out;
}

/** Copies event `from` of `source` to position `to` of `target`. */
export function copyEvent(source: EventColumns, from: number, target: EventColumns, to: number): void {
  target.userId[to] = source.userId[from] as string;
  target.itemId[to] = source.itemId[from] as string;
  target.eventType[to] = source.eventType[from] as EventType;
  target.device[to] = source.device[from] as Device;
  target.country[to] = source.country[from] as string;
  target.timestamp[to] = source.timestamp[from] as number;
  target.msPlayed[to] = source.msPlayed[from] as number;
  target.progress[to] = source.progress[from] as number;
  target.localHour[to] = source.localHour[from] as number;
}

/** The events of several batches, one after the other, as one set of columns. */
export function concatEvents(batches: readonly EventColumns[]): EventColumns {
  if (batches.length === 1) return batches[0] as EventColumns;
  const out = allocateEventColumns(batches.reduce((n, b) => n + b.length, 0));
  let j = 0;
  for (const b of batches) for (let i = 0; i < b.length; i++) copyEvent(b, i, out, j++);
  return out;
}

/**
 * Collects events one at a time into columns that grow by doubling (typed arrays are copied on
 * growth; string arrays are plain arrays). `finish()` returns columns of exactly the events added.
 */
export class EventColumnsBuilder {
  private size = 0;
  private cols: EventColumns;

  constructor(capacity = 1024) {
    this.cols = allocateEventColumns(Math.max(1, capacity));
    for (const key of STRING_FIELDS) this.cols[key].length = 0;
  }

  get length(): number {
    return this.size;
  }

  /** Adds one validated event; `timestamp` is its epoch ms (parsed once by the caller). */
  add(event: Omit<ListeningEvent, 'timestamp'>, timestamp: number): void {
    if (this.size === this.cols.timestamp.length) this.grow();
    const c = this.cols;
    const i = this.size++;
    c.userId.push(event.userId);
    c.itemId.push(event.itemId);
    c.eventType.push(event.eventType);
    c.device.push(event.device);
    c.country.push(event.country);
    c.timestamp[i] = timestamp;
    c.msPlayed[i] = event.msPlayed;
    c.progress[i] = event.progress;
    c.localHour[i] = event.localHour;
  }

  finish(): EventColumns {
    const c = this.cols;
    const n = this.size;
    return {
      length: n,
      userId: c.userId,
      itemId: c.itemId,
      eventType: c.eventType,
      device: c.device,
      country: c.country,
      timestamp: c.timestamp.slice(0, n),
      msPlayed: c.msPlayed.slice(0, n),
      progress: c.progress.slice(0, n),
      localHour: c.localHour.slice(0, n),
    };
  }

  private grow(): void {
    const c = this.cols;
    const capacity = c.timestamp.length * 2;
    const grown = <A extends Float64Array | Uint8Array>(a: A, make: (n: number) => A): A => {
      const b = make(capacity);
      b.set(a);
      return b;
    };
    this.cols = {
      ...c,
      timestamp: grown(c.timestamp, (n) => new Float64Array(n)),
      msPlayed: grown(c.msPlayed, (n) => new Float64Array(n)),
      progress: grown(c.progress, (n) => new Float64Array(n)),
      localHour: grown(c.localHour, (n) => new Uint8Array(n)),
    };
  }
}

const STRING_FIELDS = ['userId', 'itemId', 'eventType', 'device', 'country'] as const;
