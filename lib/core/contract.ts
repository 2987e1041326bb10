/**
 * The data contract: every record the pipeline reads or writes, as zod schemas.
 *
 * Raw data (events, catalog, users) arrives from the simulator or from a user's own logs in this
 * shape; readers in lib/io validate each row against these schemas and send failures to a rejects
 * file. Times are ISO-8601 strings in UTC on disk; the core works in epoch milliseconds.
 */
import { z } from 'zod';

/** Bumped whenever a schema below changes in a way old files would not satisfy. */
export const SCHEMA_VERSION = '1.0.0';

export const EVENT_TYPES = ['impression', 'play', 'skip', 'save', 'resume', 'complete'] as const;
export const DEVICES = ['mobile', 'desktop', 'tv', 'speaker', 'web', 'car'] as const;
export const ITEM_TYPES = ['show', 'episode', 'playlist', 'album', 'audiobook', 'track'] as const;
export const AGE_BANDS = ['13-17', '18-24', '25-34', '35-44', '45-54', '55+', 'unknown'] as const;

export type EventType = (typeof EVENT_TYPES)[number];
export type Device = (typeof DEVICES)[number];
export type ItemType = (typeof ITEM_TYPES)[number];
export type AgeBand = (typeof AGE_BANDS)[number];

const Id = z.string().min(1).max(256);
const IsoTime = z.iso.datetime({ offset: true });
const Country = z.string().regex(/^[A-Z]{2}$/, 'expected an ISO 3166-1 alpha-2 country code such as "SE"');

/** One raw listening event, as logged by the app. */
export const ListeningEventSchema = z.strictObject({
  userId: Id,
  itemId: Id,
  eventType: z.enum(EVENT_TYPES),
  msPlayed: z.number().int().nonnegative(),
  /** Position reached in the item after this event, 0 (start) .. 1 (finished). */
  progress: z.number().min(0).max(1),
  timestamp: IsoTime,
  device: z.enum(DEVICES),
  country: Country,
  /** Hour of day in the listener's own time zone, 0..23. */
  localHour: z.number().int().min(0).max(23),
});
export type ListeningEvent = z.infer<typeof ListeningEventSchema>;

/** One catalog item: a show, an episode of a show, a playlist, an album, an audiobook, a track. */
export const CatalogItemSchema = z
  .strictObject({
    itemId: Id,
    type: z.enum(ITEM_TYPES),
    title: z.string().min(1),
    /** Genres for music, categories for podcasts; the first is the primary one. */
    categories: z.array(z.string().min(1)).min(1),
    /** Publisher of a show or audiobook, owner of a playlist, label or artist of an album. */
    publisher: z.string().min(1),
    language: z.string().regex(/^[a-z]{2}$/, 'expected an ISO 639-1 language code such as "en"'),
    publishedAt: IsoTime,
    /** For an episode: the show it belongs to. */
    showId: Id.optional(),
    durationMs: z.number().int().positive().optional(),
  })
  .refine((item) => item.type !== 'episode' || item.showId !== undefined, {
    message: 'an episode needs showId',
    path: ['showId'],
  });
export type CatalogItem = z.infer<typeof CatalogItemSchema>;

/** One user account. */
export const UserSchema = z.strictObject({
  userId: Id,
  country: Country,
  signupAt: IsoTime,
  /** Genres or podcast categories picked during onboarding; may be empty. */
  onboardingGenres: z.array(z.string().min(1)),
  device: z.enum(DEVICES),
  ageBand: z.enum(AGE_BANDS),
});
export type User = z.infer<typeof UserSchema>;

/** What a data set's manifest.json says about it. */
export const DatasetManifestSchema = z.strictObject({
  schemaVersion: z.string(),
  generator: z.string(),
  seed: z.number().int().optional(),
  /** Time span the events cover (ISO). `end` is the "now" of the data set. */
  start: IsoTime,
  end: IsoTime,
  counts: z.strictObject({
    users: z.number().int().nonnegative(),
    items: z.number().int().nonnegative(),
    events: z.number().int().nonnegative(),
    partitions: z.number().int().nonnegative(),
  }),
  partitions: z.array(
    z.strictObject({ dt: z.string().regex(/^\d{4}-\d{2}-\d{2}$/), events: z.number().int().nonnegative(), files: z.array(z.string()) }),
  ),
  options: z.record(z.string(), z.unknown()).optional(),
});
export type DatasetManifest = z.infer<typeof DatasetManifestSchema>;

/** The three shelves of the home screen, in display order. */
export const SHELVES = ['shortcuts', 'podcasts', 'playlists'] as const;
export const ShelfSchema = z.enum(SHELVES);
export type Shelf = z.infer<typeof ShelfSchema>;

/** Parses an ISO time into epoch milliseconds. */
export function toEpochMs(iso: string): number {
  return Date.parse(iso);
}
