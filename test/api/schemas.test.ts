import { readFileSync } from 'node:fs';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { ROUTES, type RouteKey } from '../../lib/api/routes.ts';
import {
  EventsBodySchema,
  HomeBodySchema,
  HomeQuerySchema,
  MAX_EVENTS_PER_BATCH,
  summarizeEvents,
  type ErrorBody,
  type FeedbackEvent,
} from '../../lib/api/schemas.ts';
import { errorResult, parseRequest } from '../../lib/middleware/http-handler.ts';

interface Fixture {
  valid: { name: string; body: unknown }[];
  invalid: { name: string; body: unknown; paths: string[] }[];
}
const fixture = JSON.parse(readFileSync(new URL('./fixtures/home-bodies.json', import.meta.url), 'utf8')) as Fixture;

const event = (over: Partial<FeedbackEvent> = {}): Record<string, unknown> => ({
  userId: 'u1',
  itemId: 'show-1',
  eventType: 'impression',
  timestamp: '2026-11-28T08:15:02Z',
  ...over,
});

/** The 400 body the one error mapping gives for a request to `routeKey` (null when the request is valid). */
function badRequest(routeKey: RouteKey, request: { query?: Record<string, string>; body?: unknown }): ErrorBody | null {
  const event = {
    routeKey,
    ...(request.query !== undefined ? { queryStringParameters: request.query } : {}),
    ...(request.body !== undefined ? { body: JSON.stringify(request.body) } : {}),
  } as APIGatewayProxyEventV2;
  try {
    parseRequest(ROUTES[routeKey], event);
    return null;
  } catch (error) {
    const result = errorResult(error);
    expect(result.statusCode).toBe(400);
    return JSON.parse(result.body ?? '') as ErrorBody;
  }
}

/** The issue paths of the 400 body for an input, as the handlers build it. */
function issuePaths(schema: typeof HomeBodySchema | typeof EventsBodySchema | typeof HomeQuerySchema, input: unknown): string[] {
  const routeKey = schema === HomeQuerySchema ? 'GET /v1/home' : schema === HomeBodySchema ? 'POST /v1/home' : 'POST /v1/events';
  const bad = badRequest(routeKey, schema === HomeQuerySchema ? { query: input as Record<string, string> } : { body: input });
  return (bad?.issues ?? []).map((i) => i.path);
}

describe('POST /v1/home body', () => {
  it.each(fixture.valid)('accepts $name', ({ body }) => {
    expect(HomeBodySchema.safeParse(body).success).toBe(true);
  });

  it.each(fixture.invalid)('rejects $name, naming the field', ({ body, paths }) => {
    expect(issuePaths(HomeBodySchema, body).sort()).toEqual([...paths].sort());
  });

  it('says what it expected in the message', () => {
    expect(badRequest('POST /v1/home', { body: { context: { country: 'se', device: 'mobile' } } })).toEqual({
      error: 'ValidationError',
      issues: [{ path: 'body.context.country', message: expect.stringMatching(/ISO 3166-1 alpha-2.*"SE"/) }],
    });
  });
});

describe('GET /v1/home query', () => {
  it.each([
    ['a missing userId', {}, ['query.userId']],
    ['an empty userId', { userId: '' }, ['query.userId']],
    ['an unknown parameter', { userId: 'u1', debug: '1' }, ['query']],
  ])('rejects %s', (_name, query, paths) => {
    expect(issuePaths(HomeQuerySchema, query)).toEqual(paths);
  });

  it('accepts a user id', () => {
    expect(HomeQuerySchema.parse({ userId: 'u-0000001' })).toEqual({ userId: 'u-0000001' });
  });
});

describe('POST /v1/events body', () => {
  it('accepts a batch and defaults msPlayed to 0', () => {
    expect(EventsBodySchema.parse({ events: [event()] }).events[0]?.msPlayed).toBe(0);
  });

  it.each([
    ['an empty batch', { events: [] }, ['body.events']],
    ['an unknown event type', { events: [event(), event({ eventType: 'like' as never })] }, ['body.events.1.eventType']],
    ['a timestamp that is not ISO', { events: [event({ timestamp: 'yesterday' })] }, ['body.events.0.timestamp']],
    ['a negative msPlayed', { events: [event({ msPlayed: -1 })] }, ['body.events.0.msPlayed']],
    ['an unknown shelf', { events: [event({ shelf: 'radio' as never })] }, ['body.events.0.shelf']],
    ['a batch over the limit', { events: Array.from({ length: MAX_EVENTS_PER_BATCH + 1 }, () => event()) }, ['body.events']],
  ])('rejects %s', (_name, body, paths) => {
    expect(issuePaths(EventsBodySchema, body)).toEqual(paths);
  });

  it('accepts a batch of exactly the limit', () => {
    expect(EventsBodySchema.safeParse({ events: Array.from({ length: MAX_EVENTS_PER_BATCH }, () => event()) }).success).toBe(true);
  });

  it('counts accepted events per type', () => {
    const { events } = EventsBodySchema.parse({
      events: [event(), event(), event({ eventType: 'play', msPlayed: 60_000 }), event({ eventType: 'skip' })],
    });
    expect(summarizeEvents(events)).toEqual({ accepted: 4, counts: { impression: 2, play: 1, skip: 1 } });
  });
});
