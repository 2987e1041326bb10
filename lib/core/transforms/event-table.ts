/**
 * Listening events as columns: one typed array per field, user and item ids interned (each distinct id
 * is one string, each event two int32 codes). A million listeners' fortnight (~14M events) takes about
 * 40 bytes an event here, against ~220 bytes as parsed JSON objects, and a user's history is a range
 * of an index (`userRows`) instead of an array of objects; HistoryEvent objects are made only for the
 * users a step actually reads (`history`), and are short-lived.
 *
 * This is a representation, not a transform: `history` yields exactly what `historyOf`
 * (entities.ts) yields for the same events (same objects' fields, same order: by time, ties in the
 * order events were added), which test/core/transforms/event-table.test.ts checks.
 */
import { EVENT_TYPES, toEpochMs, type ListeningEvent } from '../contract.ts';
import type { HistoryEvent } from '../models/recommender.ts';

const INITIAL_CAPACITY = 1024;

/** Columns of listening events; build with EventTableBuilder or eventTableOf. */
export class EventTable {
  private offsets: Int32Array | undefined;
  private rows: Int32Array | undefined;

  constructor(
    /** Distinct user ids, by code. */
    readonly userIds: readonly string[],
    /** Distinct item ids, by code. */
    readonly itemIds: readonly string[],
    /** Distinct event types, by code (EVENT_TYPES first). */
    readonly eventTypes: readonly string[],
    readonly length: number,
    readonly user: Int32Array,
    readonly item: Int32Array,
    /** Epoch ms. */
    readonly ts: Float64Array,
    readonly type: Uint8Array,
    readonly msPlayed: Float64Array,
    readonly progress: Float64Array,
    readonly localHour: Uint8Array,
  ) {}

  /**
   * Row numbers of user `u`'s events sorted by time, ties in insertion order: rows
   * `userRows().rows[offsets[u] .. offsets[u + 1])`. Built once (a counting sort by user, then a
   * sort by time within each user, skipped where the rows already are in time order).
   */
  userRows(): { readonly offsets: Int32Array; readonly rows: Int32Array } {
    if (this.offsets === undefined || this.rows === undefined) {
      const users = this.userIds.length;
      const offsets = new Int32Array(users + 1);
      for (let i = 0; i < this.length; i++) offsets[(this.user[i] as number) + 1]!++;
      for (let u = 0; u < users; u++) offsets[u + 1]! += offsets[u] as number;
      const fill = offsets.slice(0, users);
      const rows = new Int32Array(this.length);
      for (let i = 0; i < this.length; i++) rows[fill[this.user[i] as number]!++] = i;
      const ts = this.ts;
      for (let u = 0; u < users; u++) {
        const from = offsets[u] as number;
        const to = offsets[u + 1] as number;
        let sorted = true;
        for (let x = from + 1; x < to && sorted; x++) sorted = (ts[rows[x - 1] as number] as number) <= (ts[rows[x] as number] as number);
        if (!sorted) rows.subarray(from, to).sort((a, b) => (ts[a] as number) - (ts[b] as number) || a - b);
      }
      this.offsets = offsets;
      this.rows = rows;
    }
    return { offsets: this.offsets, rows: this.rows };
  }

  /** One row as a HistoryEvent (historyEvent in entities.ts, from columns). */
  event(row: number): HistoryEvent {
    return {
      itemId: this.itemIds[this.item[row] as number] as string,
      ts: this.ts[row] as number,
      eventType: this.eventTypes[this.type[row] as number] as string,
      msPlayed: this.msPlayed[row] as number,
      progress: this.progress[row] as number,
      localHour: this.localHour[row] as number,
    };
  }

  /** User `u`'s history, oldest first, only events strictly before `end` (default: all). */
  history(u: number, end = Number.POSITIVE_INFINITY): HistoryEvent[] {
    const { offsets, rows } = this.userRows();
    const out: HistoryEvent[] = [];
    for (let x = offsets[u] as number, to = offsets[u + 1] as number; x < to; x++) {
      const row = rows[x] as number;
      if ((this.ts[row] as number) >= end) break;
      out.push(this.event(row));
    }
    return out;
  }
}

/** Appends events one at a time into growing columns, interning ids. */
export class EventTableBuilder {
  private readonly userCode = new Map<string, number>();
  private readonly itemCode = new Map<string, number>();
  private readonly typeCode = new Map<string, number>(EVENT_TYPES.map((t, i) => [t, i]));
  private readonly userIds: string[] = [];
  private readonly itemIds: string[] = [];
  private readonly eventTypes: string[] = [...EVENT_TYPES];
  private length = 0;
  private capacity: number;
  private user: Int32Array;
  private item: Int32Array;
  private ts: Float64Array;
  private type: Uint8Array;
  private msPlayed: Float64Array;
  private progress: Float64Array;
  private localHour: Uint8Array;

  /** `expected`: events expected (capacity reserved up front; the columns grow past it as needed). */
  constructor(expected = INITIAL_CAPACITY) {
    this.capacity = Math.max(16, expected);
    this.user = new Int32Array(this.capacity);
    this.item = new Int32Array(this.capacity);
    this.ts = new Float64Array(this.capacity);
    this.type = new Uint8Array(this.capacity);
    this.msPlayed = new Float64Array(this.capacity);
    this.progress = new Float64Array(this.capacity);
    this.localHour = new Uint8Array(this.capacity);
  }

  get size(): number {
    return this.length;
  }

  /** Adds one event (a parsed record of the contract's ListeningEvent). */
  add(event: ListeningEvent): void {
    this.addFields(
      event.userId,
      event.itemId,
      toEpochMs(event.timestamp),
      event.eventType,
      event.msPlayed,
      event.progress,
      event.localHour,
    );
  }

  /** Adds one event from its fields (ts in epoch ms), for readers that do not make event objects. */
  addFields(userId: string, itemId: string, ts: number, eventType: string, msPlayed: number, progress: number, localHour: number): void {
    if (this.length === this.capacity) this.grow();
    const i = this.length++;
    this.user[i] = intern(this.userCode, this.userIds, userId);
    this.item[i] = intern(this.itemCode, this.itemIds, itemId);
    this.type[i] = intern(this.typeCode, this.eventTypes, eventType);
    this.ts[i] = ts;
    this.msPlayed[i] = msPlayed;
    this.progress[i] = progress;
    this.localHour[i] = localHour;
  }

  /** The table (columns trimmed to the events added); the builder should not be used afterwards. */
  build(): EventTable {
    const n = this.length;
    // Columns filled to their reserved size are used as they are (no second copy at the peak).
    const trimmed = <T extends Int32Array | Float64Array | Uint8Array>(a: T): T => (n === this.capacity ? a : (a.slice(0, n) as T));
    return new EventTable(
      this.userIds,
      this.itemIds,
      this.eventTypes,
      n,
      trimmed(this.user),
      trimmed(this.item),
      trimmed(this.ts),
      trimmed(this.type),
      trimmed(this.msPlayed),
      trimmed(this.progress),
      trimmed(this.localHour),
    );
  }

  private grow(): void {
    this.capacity *= 2;
    const grow = <T extends Int32Array | Float64Array | Uint8Array>(a: T, make: (n: number) => T): T => {
      const b = make(this.capacity);
      b.set(a);
      return b;
    };
    this.user = grow(this.user, (n) => new Int32Array(n));
    this.item = grow(this.item, (n) => new Int32Array(n));
    this.ts = grow(this.ts, (n) => new Float64Array(n));
    this.type = grow(this.type, (n) => new Uint8Array(n));
    this.msPlayed = grow(this.msPlayed, (n) => new Float64Array(n));
    this.progress = grow(this.progress, (n) => new Float64Array(n));
    this.localHour = grow(this.localHour, (n) => new Uint8Array(n));
  }
}

function intern(codes: Map<string, number>, ids: string[], id: string): number {
  let code = codes.get(id);
  if (code === undefined) {
    code = ids.length;
    codes.set(id, code);
    ids.push(id);
  }
  return code;
}

/** A table of the given events, in order (each array after the previous). */
export function eventTableOf(...parts: readonly (readonly ListeningEvent[])[]): EventTable {
  const builder = new EventTableBuilder(parts.reduce((n, p) => n + p.length, 0));
  for (const part of parts) for (const e of part) builder.add(e);
  return builder.build();
}
