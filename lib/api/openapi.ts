/**
 * The OpenAPI 3.1 document of the public API, generated from the zod schemas (z.toJSONSchema) so it
 * cannot drift from what the handlers validate. Served at GET /openapi.json.
 */
import { z } from 'zod';
import {
  ErrorSchema,
  EventsAcceptedSchema,
  EventsBodySchema,
  HomeBodySchema,
  HomeResponseSchema,
  MAX_EVENTS_PER_BATCH,
} from './schemas.ts';

/** The schemas of the document's components, by name; each is z.toJSONSchema of the zod schema. */
export const API_SCHEMAS = {
  HomeBody: { schema: HomeBodySchema, io: 'input' },
  HomeResponse: { schema: HomeResponseSchema, io: 'output' },
  EventsBody: { schema: EventsBodySchema, io: 'input' },
  EventsAccepted: { schema: EventsAcceptedSchema, io: 'output' },
  Error: { schema: ErrorSchema, io: 'output' },
} as const satisfies Record<string, { schema: z.ZodType; io: 'input' | 'output' }>;

/** The routes of the API, as "METHOD /path" (the local HTTP server and API Gateway route the same). */
export const API_ROUTES = ['GET /v1/home', 'POST /v1/home', 'POST /v1/events', 'GET /openapi.json', 'GET /health'] as const;

/** A component's JSON Schema, without the top-level $schema (OpenAPI 3.1 uses JSON Schema 2020-12). */
export function componentSchema(name: keyof typeof API_SCHEMAS): Record<string, unknown> {
  const { schema, io } = API_SCHEMAS[name];
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, target: 'draft-2020-12' }) as Record<string, unknown>;
  return rest;
}

const ref = (name: keyof typeof API_SCHEMAS) => ({ 'application/json': { schema: { $ref: `#/components/schemas/${name}` } } });

let cached: Record<string, unknown> | undefined;

/** The OpenAPI 3.1 document (built once, then shared). */
export function openApiDocument(): Record<string, unknown> {
  if (cached) return cached;
  const bad = {
    description: 'invalid input: issues name each wrong field as a dotted path (query.userId, body.context.country...)',
    content: ref('Error'),
  };
  const home = { description: 'the shelves, in order Shortcuts, Podcasts, Playlists', content: ref('HomeResponse') };
  cached = {
    openapi: '3.1.0',
    info: {
      title: 'home-shelves',
      version: '1.0.0',
      description:
        'The home screen shelves: Shortcuts (resume), Podcasts (shows to start), Playlists (for new listeners). A shelf whose model cannot be served says so: variant "fallback" with a fallbackReason.',
    },
    paths: {
      '/v1/home': {
        get: {
          operationId: 'getHome',
          summary: 'Shelves for a known user',
          parameters: [{ name: 'userId', in: 'query', required: true, schema: { type: 'string', minLength: 1, maxLength: 256 } }],
          responses: { '200': home, '400': bad },
        },
        post: {
          operationId: 'postHome',
          summary: 'Shelves for a user with request context (also a user never seen: onboarding genres)',
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: { $ref: '#/components/schemas/HomeBody' },
                example: { userId: 'u-0000001', context: { country: 'SE', device: 'mobile', localTime: '2026-11-28T08:15:00+01:00' } },
              },
            },
          },
          responses: { '200': home, '400': bad },
        },
      },
      '/v1/events': {
        post: {
          operationId: 'postEvents',
          summary: `Feedback: impressions, plays, skips, in batches of at most ${MAX_EVENTS_PER_BATCH}`,
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: { $ref: '#/components/schemas/EventsBody' },
                example: {
                  events: [
                    {
                      userId: 'u-0000001',
                      itemId: 'show-0042',
                      shelf: 'podcasts',
                      variant: 'live',
                      modelVersion: 'podcasts-v3',
                      eventType: 'impression',
                      timestamp: '2026-11-28T08:15:02Z',
                    },
                  ],
                },
              },
            },
          },
          responses: { '202': { description: 'accepted, with counts per event type', content: ref('EventsAccepted') }, '400': bad },
        },
      },
      '/openapi.json': {
        get: {
          operationId: 'getOpenApi',
          summary: 'This document',
          responses: { '200': { description: 'OpenAPI 3.1', content: { 'application/json': { schema: { type: 'object' } } } } },
        },
      },
      '/health': {
        get: {
          operationId: 'getHealth',
          summary: 'Liveness (local server)',
          responses: {
            '200': {
              description: 'ok',
              content: { 'application/json': { schema: { type: 'object', properties: { ok: { type: 'boolean' } } } } },
            },
          },
        },
      },
    },
    components: {
      schemas: Object.fromEntries(Object.keys(API_SCHEMAS).map((name) => [name, componentSchema(name as keyof typeof API_SCHEMAS)])),
    },
  };
  return cached;
}
