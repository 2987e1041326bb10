/**
 * New content: items published recently, how often each was shown (from the request log, which holds
 * every served response) and who placed it: the model's own ranking, or the fresh-content overlay.
 * The log keeps each shelf's items in order, not who placed them; the overlay (lib/core/assembly)
 * puts its fresh items at fixed positions (3, 6, ... up to its slot count), and takes a slot whenever
 * one fresh item is available, so a fresh item at one of those positions was placed by the overlay and
 * one anywhere else by the model. The console never writes to the log (its own requests are not logged).
 */
import { formatS3Uri, listKeys } from '../../aws/s3-uri.ts';
import { DEFAULT_OVERLAY } from '../../core/assembly/assemble.ts';
import type { RequestLogRecord } from '../../serving/ports.ts';
import { PREFIXES } from '../../wiring/resources.ts';
import type { ConsoleContext } from './context.ts';
import type { Inspector } from './inspector.ts';
import { readJsonLines } from './s3-reads.ts';

const DAY = 86_400_000;

export interface NewItemRow {
  readonly itemId: string;
  readonly title: string;
  readonly type: string;
  readonly publishedAt: string;
  /** Responses that showed it, on any shelf. */
  readonly shown: number;
  readonly byModel: number;
  readonly byOverlay: number;
  /** Responses that showed it, per shelf. */
  readonly shelves: Readonly<Record<string, number>>;
}

export interface NewContent {
  readonly since: string;
  readonly now: string;
  /** Responses read from the request log since `since`. */
  readonly responses: number;
  readonly items: readonly NewItemRow[];
}

/** Shelves with an overlay: those of a content type (Shortcuts shows the listener's own items, no fresh slots). */
export const OVERLAY_SHELVES: ReadonlySet<string> = new Set(['podcasts', 'playlists']);

/** Positions (0-based) the overlay fills: 2, 5, ... one per slot. */
export const OVERLAY_POSITIONS: ReadonlySet<number> = new Set(Array.from({ length: DEFAULT_OVERLAY.maxSlots }, (_, i) => 2 + i * 3));

/** Items published in the last `days` days, with how they were shown since then. */
export async function newContent(ctx: ConsoleContext, inspector: Inspector, days: number): Promise<NewContent> {
  const now = ctx.now();
  const since = now - days * DAY;
  const data = await inspector.servingData();
  const fresh = new Map<string, { title: string; type: string; publishedAt: number }>();
  for (const item of data.catalog) {
    const at = Date.parse(item.publishedAt);
    if (at >= since && at <= now) fresh.set(item.itemId, { title: item.title, type: item.type, publishedAt: at });
  }
  const counts = new Map<string, { shown: number; byModel: number; byOverlay: number; shelves: Record<string, number> }>();
  let responses = 0;
  const sinceDay = new Date(since).toISOString().slice(0, 10);
  for (const key of await listKeys(formatS3Uri(ctx.rawBucket, PREFIXES.requestLogs))) {
    const dt = /dt=(\d{4}-\d{2}-\d{2})\//.exec(key)?.[1];
    if (key.endsWith('/') || (dt !== undefined && dt < sinceDay)) continue;
    for (const record of await readJsonLines<RequestLogRecord>(formatS3Uri(ctx.rawBucket, key))) {
      const at = Date.parse(record.at);
      if (at < since) continue;
      responses++;
      for (const shelf of record.shelves)
        shelf.items.forEach((item, position) => {
          const meta = fresh.get(item.id);
          if (meta === undefined) return;
          const c = counts.get(item.id) ?? { shown: 0, byModel: 0, byOverlay: 0, shelves: {} };
          c.shown++;
          const isFresh = at - meta.publishedAt <= DEFAULT_OVERLAY.maxAgeDays * DAY;
          if (isFresh && OVERLAY_SHELVES.has(shelf.shelf) && OVERLAY_POSITIONS.has(position)) c.byOverlay++;
          else c.byModel++;
          c.shelves[shelf.shelf] = (c.shelves[shelf.shelf] ?? 0) + 1;
          counts.set(item.id, c);
        });
    }
  }
  const items = [...fresh]
    .map(([itemId, meta]) => {
      const c = counts.get(itemId) ?? { shown: 0, byModel: 0, byOverlay: 0, shelves: {} };
      return { itemId, title: meta.title, type: meta.type, publishedAt: new Date(meta.publishedAt).toISOString(), ...c };
    })
    .sort((a, b) => b.shown - a.shown || b.publishedAt.localeCompare(a.publishedAt) || a.itemId.localeCompare(b.itemId));
  return { since: new Date(since).toISOString(), now: new Date(now).toISOString(), responses, items };
}
