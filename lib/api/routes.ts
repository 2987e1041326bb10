/**
 * THE route table of the HTTP API: each route's key (as API Gateway names it, `METHOD /path/{param}`),
 * the Lambda behind it (a FUNCTIONS key, so its handler module is FUNCTIONS[fn].entry), who may call
 * it, the schemas its input is parsed with and what it answers. lib/infra/serving.ts adds the API
 * Gateway routes from it, lib/local/http-server.ts dispatches with it, lib/api/openapi.ts documents
 * it, and lib/middleware/http-handler.ts parses each request with it: the four cannot drift.
 */
import type { z } from 'zod';
import { EndpointRecordSchema } from '../aws/endpoints.ts';
import { ConfigError } from '../core/errors.ts';
import { FUNCTIONS } from '../wiring/resources.ts';
import {
  AdminBodySchema,
  AdminPathSchema,
  EventsAcceptedSchema,
  EventsBodySchema,
  HomeBodySchema,
  HomeQuerySchema,
  HomeResponseSchema,
  MAX_EVENTS_PER_BATCH,
  OpenApiDocumentSchema,
} from './schemas.ts';

export type HttpMethod = 'GET' | 'POST';
/** `public`: anyone (the app, without AWS credentials); `iam`: SigV4-signed callers with an IAM grant. */
export type RouteAuth = 'public' | 'iam';
export type FunctionKey = keyof typeof FUNCTIONS;

export interface RouteRequest {
  /** pathParameters; its keys are exactly the route's `{param}`s (checked when the table loads). */
  readonly path?: z.ZodObject;
  readonly query?: z.ZodObject;
  /** The JSON body; a route without it ignores any body. */
  readonly body?: z.ZodType;
}

export interface RouteSpec {
  readonly fn: FunctionKey;
  readonly auth: RouteAuth;
  readonly operationId: string;
  readonly summary: string;
  readonly request: RouteRequest;
  readonly response: { readonly status: number; readonly description: string; readonly schema: z.ZodType };
  /** A request the route accepts: the OpenAPI example, and what the tests send. */
  readonly example: {
    readonly path?: Readonly<Record<string, string>>;
    readonly query?: Readonly<Record<string, string>>;
    readonly body?: unknown;
  };
}

export type RouteTable = Readonly<Record<string, RouteSpec>>;

const ADMIN_RESPONSE = { status: 200, description: 'the endpoint record after the change', schema: EndpointRecordSchema } as const;

export const ROUTES = {
  'GET /v1/home': {
    fn: 'serve',
    auth: 'public',
    operationId: 'getHome',
    summary: 'Shelves for a known user',
    request: { query: HomeQuerySchema },
    response: { status: 200, description: 'the shelves, in order Shortcuts, Podcasts, Playlists', schema: HomeResponseSchema },
    example: { query: { userId: 'u-0000001' } },
  },
  'POST /v1/home': {
    fn: 'serve',
    auth: 'public',
    operationId: 'postHome',
    summary: 'Shelves for a user with request context (also a user never seen: onboarding genres)',
    request: { body: HomeBodySchema },
    response: { status: 200, description: 'the shelves, in order Shortcuts, Podcasts, Playlists', schema: HomeResponseSchema },
    example: { body: { userId: 'u-0000001', context: { country: 'SE', device: 'mobile', localTime: '2026-11-28T08:15:00+01:00' } } },
  },
  'POST /v1/events': {
    fn: 'ingestEvents',
    auth: 'public',
    operationId: 'postEvents',
    summary: `Feedback: impressions, plays, skips, in batches of at most ${MAX_EVENTS_PER_BATCH}`,
    request: { body: EventsBodySchema },
    response: { status: 202, description: 'accepted, with counts per event type', schema: EventsAcceptedSchema },
    example: {
      body: {
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
  'GET /openapi.json': {
    fn: 'serve',
    auth: 'public',
    operationId: 'getOpenApi',
    summary: 'This document',
    request: {},
    response: { status: 200, description: 'OpenAPI 3.1', schema: OpenApiDocumentSchema },
    example: {},
  },
  'POST /admin/{shelf}/promote': {
    fn: 'admin',
    auth: 'iam',
    operationId: 'promoteCanary',
    summary: "Promotes the shelf's canary to live",
    request: { path: AdminPathSchema, body: AdminBodySchema },
    response: ADMIN_RESPONSE,
    example: { path: { shelf: 'podcasts' }, body: { reason: 'checked the canary by hand' } },
  },
  'POST /admin/{shelf}/rollback': {
    fn: 'admin',
    auth: 'iam',
    operationId: 'rollbackEndpoint',
    summary: 'Rolls back the canary, or live to the previous version when there is no canary',
    request: { path: AdminPathSchema, body: AdminBodySchema },
    response: ADMIN_RESPONSE,
    example: { path: { shelf: 'podcasts' }, body: { reason: 'play rate dropped' } },
  },
} as const satisfies RouteTable;

export type Routes = typeof ROUTES;
export type RouteKey = keyof Routes;

/** A route key's parts: `POST /admin/{shelf}/promote` -> POST, the path, and ['shelf']. */
export function parseRouteKey(key: string): { method: string; path: string; params: string[] } {
  const match = /^([A-Z]+) (\/\S*)$/.exec(key);
  if (match === null) throw new ConfigError(`route key "${key}" is not "METHOD /path"`);
  const path = match[2] as string;
  return { method: match[1] as string, path, params: [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1] as string) };
}

/** The keys of the routes whose Lambda is `fn`. */
export function routesOf(table: RouteTable, fn: FunctionKey): string[] {
  return Object.keys(table).filter((key) => table[key]?.fn === fn);
}

/** The keys of the routes anyone may call (the public surface: API Gateway without auth, the local server). */
export function publicRouteKeys(table: RouteTable = ROUTES): string[] {
  return Object.keys(table).filter((key) => table[key]?.auth === 'public');
}

/** The handler module of a route, relative to the repository root. */
export function handlerEntry(route: RouteSpec): string {
  return FUNCTIONS[route.fn].entry;
}

/**
 * Problems of a route table, in words: a route whose path schema asks for parameters its path does
 * not have (or the reverse), or a handler module outside lambdas/. Empty when the table is sound.
 */
export function routeTableProblems(table: RouteTable): string[] {
  const problems: string[] = [];
  for (const [key, route] of Object.entries(table)) {
    const { params } = parseRouteKey(key);
    const wanted = Object.keys(route.request.path?.shape ?? {}).sort();
    if (JSON.stringify(wanted) !== JSON.stringify([...params].sort()))
      problems.push(`${key}: the path schema reads [${wanted.join(', ')}] but the path provides [${params.join(', ')}]`);
    if (!handlerEntry(route).startsWith('lambdas/')) problems.push(`${key}: handler ${handlerEntry(route)} is not under lambdas/`);
  }
  return problems;
}

/** Throws a ConfigError listing every problem of the table; returns it unchanged when sound. */
export function checkedRouteTable<T extends RouteTable>(table: T): T {
  const problems = routeTableProblems(table);
  if (problems.length > 0) throw new ConfigError(`the route table is inconsistent:\n${problems.join('\n')}`);
  return table;
}

checkedRouteTable(ROUTES);
