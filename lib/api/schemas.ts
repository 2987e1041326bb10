/** The public API's request and response schemas (zod), the source of the OpenAPI document. */
import { z } from 'zod';
import { DEVICES, EVENT_TYPES, SHELVES } from '../core/contract.ts';

const Country = z.string().regex(/^[A-Z]{2}$/, 'expected an ISO 3166-1 alpha-2 country code such as "SE"');

export const HomeContextSchema = z.strictObject({
  country: Country,
  device: z.enum(DEVICES),
  /** The listener's local time with its offset, e.g. 2026-11-28T08:15:00+01:00. */
  localTime: z.iso.datetime({ offset: true }).optional(),
  /** Genres or categories picked in onboarding, for a listener the system has never seen. */
  onboardingGenres: z.array(z.string().min(1)).max(20).optional(),
  ageBand: z.enum(['13-17', '18-24', '25-34', '35-44', '45-54', '55+', 'unknown']).optional(),
});

export const HomeQuerySchema = z.strictObject({ userId: z.string().min(1).max(256) });
export const HomeBodySchema = z.strictObject({ userId: z.string().min(1).max(256).optional(), context: HomeContextSchema });
export type HomeBody = z.infer<typeof HomeBodySchema>;

export const ShelfItemSchema = z.object({ id: z.string(), type: z.string(), title: z.string(), score: z.number(), why: z.string(), isNew: z.boolean() });
export const ShelfResponseSchema = z.object({
  shelf: z.enum(SHELVES),
  title: z.string(),
  modelVersion: z.string(),
  variant: z.enum(['live', 'canary', 'fallback']),
  fallbackReason: z.string().optional(),
  items: z.array(ShelfItemSchema),
});
export const HomeResponseSchema = z.object({ requestId: z.string(), userId: z.string(), generatedAt: z.string(), transformVersion: z.string(), shelves: z.array(ShelfResponseSchema) });
export type HomeResponse = z.infer<typeof HomeResponseSchema>;

export const FeedbackEventSchema = z.strictObject({
  requestId: z.string().min(1).optional(),
  userId: z.string().min(1).max(256),
  itemId: z.string().min(1).max(256),
  shelf: z.enum(SHELVES).optional(),
  variant: z.enum(['live', 'canary', 'fallback']).optional(),
  modelVersion: z.string().optional(),
  eventType: z.enum(EVENT_TYPES),
  timestamp: z.iso.datetime({ offset: true }),
  msPlayed: z.number().int().nonnegative().default(0),
});
export const EventsBodySchema = z.strictObject({ events: z.array(FeedbackEventSchema).min(1).max(500) });
export type FeedbackEvent = z.infer<typeof FeedbackEventSchema>;

export const ErrorSchema = z.object({ error: z.string(), issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(), message: z.string().optional() });

/** A 400 body that names each wrong field. */
export function validationError(error: z.ZodError, prefix: string): z.infer<typeof ErrorSchema> {
  return { error: 'ValidationError', issues: error.issues.map((i) => ({ path: [prefix, ...i.path.map(String)].filter(Boolean).join('.'), message: i.message })) };
}
