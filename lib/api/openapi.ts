/**
 * The OpenAPI 3.1 document of the public API, built from THE route table (lib/api/routes.ts) and its
 * zod schemas (z.toJSONSchema), so it cannot drift from what API Gateway routes and the handlers
 * validate. IAM-authorized admin routes are not part of the public document. Served at GET /openapi.json.
 */
import { z } from 'zod';
import { parseRouteKey, publicRouteKeys, ROUTES, type RouteSpec } from './routes.ts';
import {
  ErrorSchema,
  EventsAcceptedSchema,
  EventsBodySchema,
  HomeBodySchema,
  HomeResponseSchema,
  type OpenApiDocument,
} from './schemas.ts';

/** The schemas of the document's components, by name; each is z.toJSONSchema of the zod schema. */
export const API_SCHEMAS = {
  HomeBody: { schema: HomeBodySchema, io: 'input' },
  HomeResponse: { schema: HomeResponseSchema, io: 'output' },
  EventsBody: { schema: EventsBodySchema, io: 'input' },
  EventsAccepted: { schema: EventsAcceptedSchema, io: 'output' },
  Error: { schema: ErrorSchema, io: 'output' },
} as const satisfies Record<string, { schema: z.ZodType; io: 'input' | 'output' }>;
type ComponentName = keyof typeof API_SCHEMAS;

/** A component's JSON Schema, without the top-level $schema (OpenAPI 3.1 uses JSON Schema 2020-12). */
export function componentSchema(name: ComponentName): Record<string, unknown> {
  const { schema, io } = API_SCHEMAS[name];
  return jsonSchema(schema, io);
}

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, target: 'draft-2020-12' }) as Record<string, unknown>;
  return rest;
}

/** A $ref to the component of `schema` when it has one, its inline JSON Schema otherwise. */
function content(schema: z.ZodType, io: 'input' | 'output', example?: unknown): Record<string, unknown> {
  const name = (Object.keys(API_SCHEMAS) as ComponentName[]).find((n) => API_SCHEMAS[n].schema === schema);
  const body = name !== undefined ? { $ref: `#/components/schemas/${name}` } : jsonSchema(schema, io);
  return { 'application/json': { schema: body, ...(example !== undefined ? { example } : {}) } };
}

/** OpenAPI parameters of one part (path or query) from its zod object. */
function parameters(schema: z.ZodObject | undefined, where: 'path' | 'query'): Record<string, unknown>[] {
  if (schema === undefined) return [];
  const json = jsonSchema(schema, 'input') as { properties?: Record<string, unknown>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, property]) => ({
    name,
    in: where,
    required: where === 'path' || (json.required ?? []).includes(name),
    schema: property,
  }));
}

function operation(route: RouteSpec): Record<string, unknown> {
  const { request, response, example } = route;
  const validates = request.path !== undefined || request.query !== undefined || request.body !== undefined;
  const params = [...parameters(request.path, 'path'), ...parameters(request.query, 'query')];
  return {
    operationId: route.operationId,
    summary: route.summary,
    ...(params.length > 0 ? { parameters: params } : {}),
    ...(request.body !== undefined ? { requestBody: { required: true, content: content(request.body, 'input', example.body) } } : {}),
    responses: {
      [String(response.status)]: { description: response.description, content: content(response.schema, 'output') },
      ...(validates
        ? {
            '400': {
              description: 'invalid input: issues name each wrong field as a dotted path (query.userId, body.context.country...)',
              content: content(ErrorSchema, 'output'),
            },
          }
        : {}),
    },
  };
}

let cached: OpenApiDocument | undefined;

/** The OpenAPI 3.1 document (built once, then shared). */
export function openApiDocument(): OpenApiDocument {
  if (cached) return cached;
  const paths: Record<string, Record<string, unknown>> = {};
  for (const key of publicRouteKeys()) {
    const { method, path } = parseRouteKey(key);
    paths[path] = { ...paths[path], [method.toLowerCase()]: operation(ROUTES[key as keyof typeof ROUTES]) };
  }
  cached = {
    openapi: '3.1.0',
    info: {
      title: 'home-shelves',
      version: '1.0.0',
      description:
        'The home screen shelves: Shortcuts (resume), Podcasts (shows to start), Playlists (for new listeners). A shelf whose model cannot be served says so: variant "fallback" with a fallbackReason.',
    },
    paths,
    components: { schemas: Object.fromEntries((Object.keys(API_SCHEMAS) as ComponentName[]).map((n) => [n, componentSchema(n)])) },
  };
  return cached;
}
