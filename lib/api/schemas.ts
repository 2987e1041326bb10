/**
 * The public API's request and response schemas (zod): the source of the OpenAPI document
 * (lib/api/openapi.ts) and the validation of every handler. Types are inferred from them.
 */
import { z } from 'zod';
import { DEVICES, EVENT_TYPES, SHELVES, ShelfSchema } from '../core/contract.ts';

/** Largest batch POST /v1/events accepts; a client sends more as several batches. */
export const MAX_EVENTS_PER_BATCH = 500;

const Country = z.string().regex(/^[A-Z]{2}$/, 'expected an ISO 3166-1 alpha-2 country code in capitals, such as "SE"');
const UserId = z.string().min(1).max(256);

export const HomeContextSchema = z
  .strictObject({
    country: Country,
    device: z.enum(DEVICES),
    /** The listener's local time with its offset, e.g. 2026-11-28T08:15:00+01:00. */
    localTime: z.iso
      .datetime({ offset: true })
      .describe("the listener's local time with its offset, e.g. 2026-11-28T08:15:00+01:00")
      .optional(),
    /** Instead of localTime: the local hour, 0..23 (needs weekday too). */
    localHour: z.number().int().min(0).max(23).describe('instead of localTime: the local hour, 0..23, with weekday').optional(),
    /** Instead of localTime: the local day of week, 0 (Sunday) .. 6 (needs localHour too). */
    weekday: z
      .number()
      .int()
      .min(0)
      .max(6)
      .describe('instead of localTime: the local day of week, 0 (Sunday)..6, with localHour')
      .optional(),
    /** Genres or categories picked in onboarding, for a listener the system has never seen. */
    onboardingGenres: z
      .array(z.string().min(1).max(64))
      .max(20)
      .describe('genres picked in onboarding, for a listener never seen')
      .optional(),
    ageBand: z.enum(['13-17', '18-24', '25-34', '35-44', '45-54', '55+', 'unknown']).optional(),
  })
  .superRefine((ctx, check) => {
    if (ctx.localTime !== undefined && (ctx.localHour !== undefined || ctx.weekday !== undefined)) {
      check.addIssue({ code: 'custom', path: ['localTime'], message: 'give either localTime or localHour with weekday, not both' });
    }
    if (ctx.localHour !== undefined && ctx.weekday === undefined)
      check.addIssue({ code: 'custom', path: ['weekday'], message: 'weekday is required with localHour' });
    if (ctx.weekday !== undefined && ctx.localHour === undefined)
      check.addIssue({ code: 'custom', path: ['localHour'], message: 'localHour is required with weekday' });
  });
export type HomeContext = z.infer<typeof HomeContextSchema>;

export const HomeQuerySchema = z.strictObject({ userId: UserId });
export const HomeBodySchema = z.strictObject({ userId: UserId.optional(), context: HomeContextSchema });
export type HomeBody = z.infer<typeof HomeBodySchema>;

export const VARIANTS = ['live', 'canary', 'fallback'] as const;

export const ShelfItemSchema = z.object({
  id: z.string(),
  type: z.string(),
  title: z.string(),
  score: z.number(),
  /** Why the item is there, in plain words. */
  why: z.string().describe('why the item is there, in plain words'),
  /** Published within the fresh-content window. */
  isNew: z.boolean().describe('published within the fresh-content window'),
});
export const ShelfResponseSchema = z.object({
  shelf: z.enum(SHELVES),
  title: z.string(),
  modelVersion: z.string(),
  variant: z.enum(VARIANTS),
  /** Present when variant is 'fallback': why the model of the shelf is not serving. */
  fallbackReason: z.string().describe("present when variant is 'fallback': why the shelf's model is not serving").optional(),
  items: z.array(ShelfItemSchema),
});
export const HomeResponseSchema = z.object({
  requestId: z.string(),
  userId: z.string(),
  generatedAt: z.iso.datetime(),
  transformVersion: z.string(),
  /** Always Shortcuts, Podcasts, Playlists, in that order. */
  shelves: z.array(ShelfResponseSchema).describe('always Shortcuts, Podcasts, Playlists, in that order'),
});
export type HomeResponse = z.infer<typeof HomeResponseSchema>;

export const FeedbackEventSchema = z.strictObject({
  requestId: z.string().min(1).optional(),
  userId: UserId,
  itemId: z.string().min(1).max(256),
  shelf: z.enum(SHELVES).optional(),
  variant: z.enum(VARIANTS).optional(),
  modelVersion: z.string().optional(),
  eventType: z.enum(EVENT_TYPES),
  timestamp: z.iso.datetime({ offset: true }),
  msPlayed: z.number().int().nonnegative().default(0),
});
export const EventsBodySchema = z.strictObject({ events: z.array(FeedbackEventSchema).min(1).max(MAX_EVENTS_PER_BATCH) });
export type FeedbackEvent = z.infer<typeof FeedbackEventSchema>;

export const EventsAcceptedSchema = z.object({
  accepted: z.number().int().nonnegative(),
  /** Accepted events per event type (impression, play, skip...). */
  counts: z.record(z.string(), z.number().int().nonnegative()).optional(),
});
export type EventsAccepted = z.infer<typeof EventsAcceptedSchema>;

export const ValidationIssueSchema = z.object({ path: z.string(), message: z.string() });
export const ErrorSchema = z.object({
  error: z.string(),
  issues: z.array(ValidationIssueSchema).optional(),
  message: z.string().optional(),
});
export type ErrorBody = z.infer<typeof ErrorSchema>;

/** The 202 body of POST /v1/events: how many events were accepted, per type. */
export function summarizeEvents(events: readonly FeedbackEvent[]): EventsAccepted {
  const counts: Record<string, number> = {};
  for (const e of events) counts[e.eventType] = (counts[e.eventType] ?? 0) + 1;
  return { accepted: events.length, counts };
}

/** Path of the admin routes: the shelf whose endpoint moves. */
export const AdminPathSchema = z.strictObject({ shelf: ShelfSchema });
/** Body of the admin routes, optional: why the operator moves the endpoint (recorded with the decision). */
export const AdminBodySchema = z
  .strictObject({ reason: z.string().min(1).max(500).default('by an operator through the admin API') })
  .default({ reason: 'by an operator through the admin API' });

/** GET /openapi.json answers an OpenAPI 3.1 document. */
export const OpenApiDocumentSchema = z.looseObject({ openapi: z.string(), paths: z.record(z.string(), z.unknown()) });
export type OpenApiDocument = z.infer<typeof OpenApiDocumentSchema>;
