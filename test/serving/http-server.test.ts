import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES, startHttpServer, type HttpHandler, type HttpServer } from '../../lib/local/http-server.ts';

let server: HttpServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** A handler (test double of a Lambda handler) that answers with the event it received. */
const echo: HttpHandler = async (event, context) => ({
  statusCode: 200,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ event, requestId: context.awsRequestId }),
});

async function call(path: string, init?: RequestInit): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  if (server === undefined) throw new Error('no server');
  const res = await fetch(`${server.url}${path}`, init);
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}

describe('the local HTTP server', () => {
  it('listens on loopback only', async () => {
    server = await startHttpServer({ handler: echo });
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('turns a GET into an API Gateway HTTP API v2 event', async () => {
    server = await startHttpServer({ handler: echo });
    const { status, body } = await call('/v1/home?userId=u1&tag=a&tag=b');
    const event = body.event as APIGatewayProxyEventV2;
    expect(status).toBe(200);
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: 'GET /v1/home',
      rawPath: '/v1/home',
      rawQueryString: 'userId=u1&tag=a&tag=b',
      queryStringParameters: { userId: 'u1', tag: 'a,b' },
      isBase64Encoded: false,
    });
    expect(event.requestContext).toMatchObject({ http: { method: 'GET', path: '/v1/home', sourceIp: '127.0.0.1' }, stage: '$default' });
    expect(event.body).toBeUndefined();
    expect(body.requestId).toBe(event.requestContext.requestId);
  });

  it('passes a POST body through unchanged', async () => {
    server = await startHttpServer({ handler: echo });
    const payload = JSON.stringify({ context: { country: 'SE', device: 'mobile' } });
    const { body } = await call('/v1/home', { method: 'POST', body: payload, headers: { 'content-type': 'application/json' } });
    expect(body.event).toMatchObject({ routeKey: 'POST /v1/home', body: payload, headers: { 'content-type': 'application/json' } });
  });

  it.each([
    ['GET', '/v1/home?userId=u1'],
    ['POST', '/v1/home'],
    ['POST', '/v1/events'],
    ['GET', '/openapi.json'],
  ])('routes %s %s to the handler', async (method, path) => {
    server = await startHttpServer({ handler: echo });
    const { status, body } = await call(path, { method, ...(method === 'POST' ? { body: '{}' } : {}) });
    expect(status).toBe(200);
    expect((body.event as APIGatewayProxyEventV2).routeKey).toBe(`${method} ${path.split('?')[0]}`);
  });

  it('returns the handler status code, headers and body', async () => {
    server = await startHttpServer({
      handler: async () => ({
        statusCode: 202,
        headers: { 'content-type': 'application/json', 'x-shelves': 'yes' },
        body: '{"accepted":3}',
      }),
    });
    const { status, body, headers } = await call('/v1/events', { method: 'POST', body: '{}' });
    expect([status, body, headers.get('x-shelves')]).toEqual([202, { accepted: 3 }, 'yes']);
    expect(headers.get('x-request-id')).toMatch(/^local-/);
  });

  it('answers /health itself', async () => {
    server = await startHttpServer({
      handler: async () => {
        throw new Error('not called');
      },
    });
    expect(await call('/health')).toMatchObject({ status: 200, body: { ok: true } });
  });

  it.each([
    ['an unknown path', 'GET', '/v2/home', 404, 'NotFound'],
    ['a known path with another method', 'DELETE', '/v1/home', 405, 'MethodNotAllowed'],
  ])('answers %s with %i', async (_name, method, path, status, error) => {
    server = await startHttpServer({ handler: echo });
    expect(await call(path, { method })).toMatchObject({ status, body: { error } });
  });

  it('answers 500 with the message when the handler throws', async () => {
    server = await startHttpServer({
      handler: async () => {
        throw new Error('model exploded');
      },
    });
    expect(await call('/v1/home?userId=u1')).toMatchObject({ status: 500, body: { error: 'InternalError', message: 'model exploded' } });
  });

  it('refuses a body larger than the limit with 413', async () => {
    server = await startHttpServer({ handler: echo });
    expect(await call('/v1/events', { method: 'POST', body: 'x'.repeat(MAX_BODY_BYTES + 1) })).toMatchObject({
      status: 413,
      body: { error: 'PayloadTooLarge' },
    });
  });

  it('fills pathParameters from the route key, decoded, as API Gateway does', async () => {
    server = await startHttpServer({ routes: [{ method: 'POST', path: '/admin/{shelf}/promote', handler: echo }] });
    const { status, body } = await call('/admin/pod%20casts/promote', { method: 'POST', body: '' });
    expect(status).toBe(200);
    expect(body.event).toMatchObject({ routeKey: 'POST /admin/{shelf}/promote', pathParameters: { shelf: 'pod casts' } });
    expect((await call('/admin//promote', { method: 'POST' })).status).toBe(404);
    expect((await call('/admin/a/b/promote', { method: 'POST' })).status).toBe(404);
  });

  it('prefers a literal segment over a {param}, as API Gateway does', async () => {
    const named =
      (name: string): HttpHandler =>
      async () => ({ statusCode: 200, body: JSON.stringify({ name }) });
    server = await startHttpServer({
      routes: [
        { method: 'GET', path: '/v1/{thing}', handler: named('param') },
        { method: 'GET', path: '/v1/home', handler: named('literal') },
      ],
    });
    expect((await call('/v1/home')).body).toEqual({ name: 'literal' });
    expect((await call('/v1/other')).body).toEqual({ name: 'param' });
  });

  it('answers unknown paths in the API error format', async () => {
    server = await startHttpServer({ handler: echo });
    expect((await call('/nope')).body).toEqual({ error: 'NotFound', message: 'GET /nope' });
  });

  it('serves explicit routes and static pages', async () => {
    server = await startHttpServer({ routes: [{ method: 'GET', path: '/custom', handler: echo }], pages: { '/dashboard': '<h1>ok</h1>' } });
    expect((await call('/custom')).status).toBe(200);
    expect(await (await fetch(`${server.url}/dashboard`)).text()).toBe('<h1>ok</h1>');
    expect((await call('/v1/home?userId=u1')).status).toBe(404);
  });
});
