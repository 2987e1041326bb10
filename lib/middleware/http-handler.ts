/**
 * The other shape of a Lambda handler here (beside `taskHandler`): API Gateway HTTP API (payload 2.0)
 * routes. The Lambda lists one implementation per route of THE route table (lib/api/routes.ts) that
 * names it; the wrapper picks the route by `event.routeKey`, parses pathParameters,
 * queryStringParameters and the JSON body with the route's schemas, calls the implementation once and
 * answers its typed result with the route's status. Errors map in one place:
 *   invalid input -> 400 {error:'ValidationError', issues:[{path:'body.context.country', message}]}
 *   ConflictError -> 409, NotFoundError -> 404, an error naming its own 4xx `statusCode` (a rate limit's
 *   429, with `retryAfterSeconds` as Retry-After) -> that status, anything else -> 500 (logged, no
 *   internals in the body).
 * The local HTTP server runs the same handlers, so local and AWS answer alike.
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { z } from 'zod';
import { ROUTES, routesOf, type FunctionKey, type RouteKey, type Routes, type RouteSpec, type RouteTable } from '../api/routes.ts';
import type { ErrorBody } from '../api/schemas.ts';
import { ConfigError, ConflictError } from '../core/errors.ts';
import { logger } from './logger.ts';

/** What was asked for does not exist (a route this function does not serve, a missing record): 404. */
export class NotFoundError extends Error {
  override readonly name = 'NotFoundError';
}

/** The request does not match the route's schemas; `issues` name each wrong field as a dotted path. */
export class RequestValidationError extends Error {
  override readonly name = 'RequestValidationError';
  constructor(readonly issues: readonly { readonly path: string; readonly message: string }[]) {
    super(issues.map((i) => `${i.path}: ${i.message}`).join('; '));
  }
}

type Part = 'path' | 'query' | 'body';
type Parsed<R, P extends Part> = R extends { readonly [K in P]: infer S extends z.ZodType } ? z.output<S> : undefined;

/** What an implementation receives: the parsed parts of its route, and the event itself. */
export interface RouteInput<K extends RouteKey> {
  readonly path: Parsed<Routes[K]['request'], 'path'>;
  readonly query: Parsed<Routes[K]['request'], 'query'>;
  readonly body: Parsed<Routes[K]['request'], 'body'>;
  readonly event: APIGatewayProxyEventV2;
}
/** What an implementation returns: the input type of its route's response schema. */
export type RouteResult<K extends RouteKey> = z.input<Routes[K]['response']['schema']>;

type KeysOf<F extends FunctionKey> = { [K in RouteKey]: Routes[K]['fn'] extends F ? K : never }[RouteKey];
/** One implementation per route of the table whose Lambda is F: no more, no fewer. */
export type RouteImplementations<F extends FunctionKey> = {
  readonly [K in KeysOf<F>]: (input: RouteInput<K>) => Promise<RouteResult<K>>;
};

/** An implementation as the untyped core sees it. */
export type AnyImplementation = (input: {
  path: unknown;
  query: unknown;
  body: unknown;
  event: APIGatewayProxyEventV2;
}) => Promise<unknown>;

export type HttpLambdaHandler = middy.MiddyfiedHandler<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Error, Context> & {
  /** The route keys this handler serves (checked against the synthesized template by the tests). */
  readonly routeKeys: readonly string[];
};

/** The Lambda handler of `fn`: one implementation per route that ROUTES gives it. */
export function httpHandler<F extends FunctionKey>(fn: F, implementations: RouteImplementations<F>): HttpLambdaHandler {
  return routeHandler(ROUTES, fn, implementations as unknown as Readonly<Record<string, AnyImplementation>>);
}

/** `httpHandler` over any route table (the tests feed it deliberately wrong ones). */
export function routeHandler(
  table: RouteTable,
  fn: FunctionKey,
  implementations: Readonly<Record<string, AnyImplementation>>,
): HttpLambdaHandler {
  const routeKeys = routesOf(table, fn);
  const missing = routeKeys.filter((key) => implementations[key] === undefined);
  const extra = Object.keys(implementations).filter((key) => !routeKeys.includes(key));
  if (missing.length > 0 || extra.length > 0)
    throw new ConfigError(
      `${fn}: the route table gives it [${routeKeys.join(', ')}] but it implements [${Object.keys(implementations).join(', ')}]`,
    );
  const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Error, Context>()
    .use(injectLambdaContext(logger, { clearState: true }))
    .handler((event) => answer(table, implementations, event));
  return Object.assign(handler, { routeKeys });
}

async function answer(
  table: RouteTable,
  implementations: Readonly<Record<string, AnyImplementation>>,
  event: APIGatewayProxyEventV2,
): Promise<APIGatewayProxyStructuredResultV2> {
  try {
    const route = table[event.routeKey];
    const run = implementations[event.routeKey];
    if (route === undefined || run === undefined)
      throw new NotFoundError(`no route "${event.routeKey}" here; this function serves ${Object.keys(implementations).join(', ')}`);
    return jsonResult(route.response.status, await run({ ...parseRequest(route, event), event }));
  } catch (error) {
    return errorResult(error, event.requestContext?.requestId);
  }
}

/** The route's parts of the event, parsed; every wrong field of every part in one RequestValidationError. */
export function parseRequest(route: RouteSpec, event: APIGatewayProxyEventV2): { path: unknown; query: unknown; body: unknown } {
  const issues: { path: string; message: string }[] = [];
  const parse = (part: Part, schema: z.ZodType | undefined, value: unknown): unknown => {
    if (schema === undefined) return undefined;
    const parsed = schema.safeParse(value);
    if (parsed.success) return parsed.data;
    for (const i of parsed.error.issues) issues.push({ path: [part, ...i.path.map(String)].join('.'), message: i.message });
    return undefined;
  };
  const path = parse('path', route.request.path, event.pathParameters ?? {});
  const query = parse('query', route.request.query, event.queryStringParameters ?? {});
  let body: unknown;
  if (route.request.body !== undefined) {
    const text =
      event.body === undefined || event.body === ''
        ? undefined
        : event.isBase64Encoded
          ? Buffer.from(event.body, 'base64').toString('utf8')
          : event.body;
    try {
      body = parse('body', route.request.body, text === undefined ? undefined : JSON.parse(text));
    } catch (error) {
      issues.push({ path: 'body', message: `the body is not valid JSON (${(error as Error).message})` });
    }
  }
  if (issues.length > 0) throw new RequestValidationError(issues);
  return { path, query, body };
}

/** A domain error that names the 4xx status it means (lib/serving's rate limit: 429), as a structural type. */
interface Refusal extends Error {
  readonly statusCode: number;
  readonly retryAfterSeconds?: number;
}

function isRefusal(error: unknown): error is Refusal {
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  return error instanceof Error && typeof status === 'number' && Number.isInteger(status) && status >= 400 && status < 500;
}

/** A JSON response. */
export function jsonResult(statusCode: number, body: unknown): APIGatewayProxyStructuredResultV2 {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

/** THE error mapping of the API: the status and ErrorBody for any error an HTTP handler meets. */
export function errorResult(error: unknown, requestId?: string): APIGatewayProxyStructuredResultV2 {
  if (error instanceof RequestValidationError)
    return jsonResult(400, { error: 'ValidationError', issues: [...error.issues] } satisfies ErrorBody);
  if (error instanceof ConflictError) return jsonResult(409, { error: error.name, message: error.message } satisfies ErrorBody);
  if (error instanceof NotFoundError) return jsonResult(404, { error: 'NotFound', message: error.message } satisfies ErrorBody);
  if (isRefusal(error)) {
    const result = jsonResult(error.statusCode, { error: error.name, message: error.message } satisfies ErrorBody);
    if (error.retryAfterSeconds !== undefined)
      result.headers = { ...result.headers, 'retry-after': String(Math.ceil(error.retryAfterSeconds)) };
    return result;
  }
  logger.error('unhandled error', { error: error as Error, requestId });
  const message = `internal error${requestId ? ` (request ${requestId})` : ''}; the logs have the details`;
  return jsonResult(500, { error: 'InternalError', message } satisfies ErrorBody);
}
