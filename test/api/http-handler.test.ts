/** The one wrapper of HTTP handlers: routing by route key, parsing with the route's schemas, one error mapping. */
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { RouteTable } from '../../lib/api/routes.ts';
import { ConflictError } from '../../lib/core/errors.ts';
import { type AnyImplementation, NotFoundError, routeHandler } from '../../lib/middleware/http-handler.ts';

const TABLE: RouteTable = {
  'POST /items/{id}': {
    fn: 'admin',
    auth: 'iam',
    operationId: 'x',
    summary: 'x',
    request: {
      path: z.strictObject({ id: z.string().regex(/^\d+$/) }),
      query: z.strictObject({ dry: z.enum(['yes', 'no']).optional() }),
      body: z.strictObject({ name: z.string().min(1) }),
    },
    response: { status: 201, description: 'created', schema: z.object({ id: z.string() }) },
    example: {},
  },
};
const CONTEXT = {} as Context;

function event(over: Partial<APIGatewayProxyEventV2> = {}): APIGatewayProxyEventV2 {
  return {
    routeKey: 'POST /items/{id}',
    pathParameters: { id: '7' },
    body: '{"name":"a"}',
    isBase64Encoded: false,
    requestContext: { requestId: 'req-1' },
    ...over,
  } as APIGatewayProxyEventV2;
}
const handlerWith = (run: AnyImplementation) => routeHandler(TABLE, 'admin', { 'POST /items/{id}': run });
const answer = async (run: AnyImplementation, over: Partial<APIGatewayProxyEventV2> = {}) => {
  const r = await handlerWith(run)(event(over), CONTEXT);
  return { status: r.statusCode, headers: r.headers, body: JSON.parse(r.body ?? 'null') as Record<string, unknown> };
};

describe('httpHandler', () => {
  it('hands the implementation the parsed path, query and body, and answers its result with the route status', async () => {
    const seen: unknown[] = [];
    const result = await answer(
      async (input) => {
        seen.push({ path: input.path, query: input.query, body: input.body });
        return { id: '7' };
      },
      { queryStringParameters: { dry: 'yes' } },
    );
    expect(result).toMatchObject({ status: 201, headers: { 'content-type': 'application/json' }, body: { id: '7' } });
    expect(seen).toEqual([{ path: { id: '7' }, query: { dry: 'yes' }, body: { name: 'a' } }]);
  });

  it('reads a base64-encoded body as API Gateway sends a binary content type', async () => {
    const result = await answer(async (input) => input.body, {
      body: Buffer.from('{"name":"b"}').toString('base64'),
      isBase64Encoded: true,
    });
    expect(result.body).toEqual({ name: 'b' });
  });

  it('lists every wrong field of path, query and body in one 400, as dotted paths', async () => {
    const result = await answer(async () => ({ id: 'x' }), {
      pathParameters: { id: 'x' },
      queryStringParameters: { dry: 'maybe', extra: '1' },
      body: '{"name":""}',
    });
    expect(result.status).toBe(400);
    expect((result.body.issues as { path: string }[]).map((i) => i.path).sort()).toEqual(['body.name', 'path.id', 'query', 'query.dry']);
  });

  it.each([
    ['not JSON', '{"name":'],
    ['absent', undefined],
  ])('answers a body that is %s with 400 naming body', async (_name, body) => {
    const result = await answer(async () => ({ id: 'x' }), { body });
    expect(result).toMatchObject({ status: 400, body: { error: 'ValidationError', issues: [{ path: 'body' }] } });
  });

  it.each([
    [
      'ConflictError',
      new ConflictError('revision 3 expected, 4 found'),
      409,
      { error: 'ConflictError', message: 'revision 3 expected, 4 found' },
    ],
    ['NotFoundError', new NotFoundError('no such item'), 404, { error: 'NotFound', message: 'no such item' }],
  ])('maps %s to its status', async (_name, error, status, body) => {
    expect(
      await answer(async () => {
        throw error;
      }),
    ).toMatchObject({ status, body });
  });

  it('maps an error naming its own 4xx status to it, with Retry-After', async () => {
    class TooMany extends Error {
      override readonly name = 'TooMany';
      readonly statusCode = 429;
      readonly retryAfterSeconds = 1.2;
    }
    expect(
      await answer(async () => {
        throw new TooMany('slow down');
      }),
    ).toMatchObject({ status: 429, headers: { 'retry-after': '2' }, body: { error: 'TooMany', message: 'slow down' } });
  });

  it('answers anything else with 500 and no internals, naming the request', async () => {
    const result = await answer(async () => {
      throw new Error('secret table name home-shelves-registry');
    });
    expect(result).toEqual({
      status: 500,
      headers: { 'content-type': 'application/json' },
      body: { error: 'InternalError', message: 'internal error (request req-1); the logs have the details' },
    });
  });

  it('answers 404 to a route key this function does not serve', async () => {
    expect(await answer(async () => ({ id: '1' }), { routeKey: 'GET /other' })).toMatchObject({ status: 404, body: { error: 'NotFound' } });
  });

  it('refuses to build a handler that does not implement exactly the routes the table gives its function', () => {
    expect(() => routeHandler(TABLE, 'admin', {})).toThrow(/the route table gives it \[POST \/items\/\{id\}\] but it implements \[\]/);
    expect(() => routeHandler(TABLE, 'admin', { 'POST /items/{id}': async () => ({}), 'GET /more': async () => ({}) })).toThrow(
      /implements \[POST \/items\/\{id\}, GET \/more\]/,
    );
  });
});
