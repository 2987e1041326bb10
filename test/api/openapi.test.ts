import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { API_SCHEMAS, componentSchema, openApiDocument } from '../../lib/api/openapi.ts';
import { publicRouteKeys, ROUTES } from '../../lib/api/routes.ts';
import { EventsBodySchema, HomeBodySchema } from '../../lib/api/schemas.ts';
import { DEFAULT_ROUTES } from '../../lib/local/http-server.ts';

type Operation = {
  requestBody?: { content: Record<string, { schema: unknown; example?: unknown }> };
  responses: Record<string, { content?: Record<string, { schema: unknown }> }>;
};
const doc = openApiDocument() as {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown> };
};

/** Every "$ref" string anywhere in a JSON value. */
function refs(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(refs);
  if (value !== null && typeof value === 'object')
    return Object.entries(value).flatMap(([k, v]) => (k === '$ref' && typeof v === 'string' ? [v] : refs(v)));
  return [];
}

describe('the OpenAPI document', () => {
  it('is OpenAPI 3.1', () => {
    expect(doc.openapi).toBe('3.1.0');
  });

  it.each(Object.keys(API_SCHEMAS))('has component %s equal to the JSON Schema of its zod schema', (name) => {
    const { schema, io } = API_SCHEMAS[name as keyof typeof API_SCHEMAS];
    const { $schema: _dialect, ...expected } = z.toJSONSchema(schema, { io }) as Record<string, unknown>;
    expect(doc.components.schemas[name]).toEqual(expected);
    expect(componentSchema(name as keyof typeof API_SCHEMAS)).toEqual(expected);
  });

  it('documents every public route of the route table, and no other', () => {
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
    expect(documented.sort()).toEqual(publicRouteKeys().sort());
    expect([...DEFAULT_ROUTES].sort()).toEqual(publicRouteKeys().sort());
  });

  it('leaves the IAM-authorized admin routes out of the public document', () => {
    const iam = Object.keys(ROUTES).filter((key) => ROUTES[key as keyof typeof ROUTES].auth === 'iam');
    expect(iam).toEqual(['POST /admin/{shelf}/promote', 'POST /admin/{shelf}/rollback']);
    expect(Object.keys(doc.paths).filter((p) => p.startsWith('/admin'))).toEqual([]);
  });

  it('documents the query parameters from the route schema', () => {
    expect((doc.paths['/v1/home']?.get as { parameters?: unknown }).parameters).toEqual([
      { name: 'userId', in: 'query', required: true, schema: { type: 'string', minLength: 1, maxLength: 256 } },
    ]);
  });

  it('resolves every $ref to a component', () => {
    const all = refs(doc.paths);
    expect(all.length).toBeGreaterThan(0);
    for (const ref of all) expect(doc.components.schemas[ref.replace('#/components/schemas/', '')]).toBeDefined();
  });

  it.each([
    ['/v1/home', HomeBodySchema],
    ['/v1/events', EventsBodySchema],
  ] as const)('gives a request example for POST %s that the handler accepts', (path, schema) => {
    const example = doc.paths[path]?.post?.requestBody?.content['application/json']?.example;
    expect(example).toBeDefined();
    expect(schema.safeParse(example).success).toBe(true);
  });

  it('names the new request fields, so a schema change shows up in the document', () => {
    const context =
      (doc.components.schemas.HomeBody as { properties: Record<string, { properties: Record<string, unknown> }> }).properties.context
        ?.properties ?? {};
    expect(Object.keys(context).sort()).toEqual(Object.keys(HomeBodySchema.shape.context.shape ?? {}).sort());
  });
});
