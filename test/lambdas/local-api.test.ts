/**
 * The local home API answers as the Lambdas behind API Gateway do: the same handler modules, mounted
 * from the route table, so the same request gets the same status and body both ways.
 */
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handlerEntry, publicRouteKeys, ROUTES } from '../../lib/api/routes.ts';
import type { HttpLambdaHandler } from '../../lib/middleware/http-handler.ts';
import { startTestEngines } from '../aws/local-engines.ts';
import { httpEvent } from './template-triggers.ts';

let engines: Awaited<ReturnType<typeof startTestEngines>>;
let api: { url: string; close(): Promise<void> };
const lambda = async (entry: string) =>
  ((await import(new URL(`../../${entry}`, import.meta.url).href)) as { handler: HttpLambdaHandler }).handler;

beforeAll(async () => {
  process.env.LOG_LEVEL = 'ERROR';
  engines = await startTestEngines();
  const { startLocalApi } = await import('../../lib/local/local-api.ts');
  api = await startLocalApi();
}, 180_000);

afterAll(async () => {
  await api?.close();
  await engines?.cleanup();
});

describe('the local API', () => {
  it.each([
    ['GET /openapi.json', '/openapi.json', undefined],
    ['POST /v1/home', '/v1/home', { context: { country: 'se', device: 'tv-set' } }],
    ['POST /v1/events', '/v1/events', { events: [{ userId: 'u1', itemId: 'i1', eventType: 'like', timestamp: 'now' }] }],
  ] as const)('answers %s exactly as its Lambda does', async (routeKey, path, body) => {
    const method = routeKey.split(' ')[0] as string;
    const res = await fetch(`${api.url}${path}`, { method, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    const direct = await (await lambda(handlerEntry(ROUTES[routeKey])))(
      httpEvent(routeKey, body !== undefined ? { body } : {}),
      {} as Context,
    );
    expect([res.status, await res.json()]).toEqual([direct.statusCode, JSON.parse(direct.body ?? '')]);
    expect(res.headers.get('content-type')).toBe('application/json');
  });

  it('serves every public route of the table and answers its example', async () => {
    for (const key of publicRouteKeys()) {
      const [method, path] = key.split(' ') as [string, string];
      const example = ROUTES[key as keyof typeof ROUTES].example as { query?: Record<string, string>; body?: unknown };
      const query = example.query ? `?${new URLSearchParams(example.query)}` : '';
      const res = await fetch(`${api.url}${path}${query}`, { method, ...(example.body ? { body: JSON.stringify(example.body) } : {}) });
      expect([key, res.status]).toEqual([key, ROUTES[key as keyof typeof ROUTES].response.status]);
    }
  });

  it('does not serve the IAM-authorized admin routes', async () => {
    const res = await fetch(`${api.url}/admin/podcasts/promote`, { method: 'POST', body: '{}' });
    expect([res.status, await res.json()]).toEqual([404, { error: 'NotFound', message: 'POST /admin/podcasts/promote' }]);
  });
});
