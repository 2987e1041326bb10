/**
 * The local HTTP front door: turns node:http requests into API Gateway HTTP API (v2) events and hands
 * them to the same Lambda handlers that run behind API Gateway in AWS. Routes are route keys of THE
 * route table (lib/api/routes.ts), `{param}`s included: the event carries the routeKey and the
 * pathParameters API Gateway would fill. Loopback only.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { parseRouteKey, publicRouteKeys } from '../api/routes.ts';
import type { ErrorBody } from '../api/schemas.ts';

export type HttpHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2 | string>;

/** The public routes of the table, all given to `handler` when no `routes` are passed. */
export const DEFAULT_ROUTES: readonly string[] = publicRouteKeys();

/** Request bodies above this are refused with 413 (API Gateway's own limit is 10 MB; ours are small). */
export const MAX_BODY_BYTES = 1 << 20;

export interface HttpServerOptions {
  /** Port on 127.0.0.1; default 0 (any free port). */
  readonly port?: number;
  /** One handler for every route of DEFAULT_ROUTES (when `routes` is not given). */
  readonly handler?: HttpHandler;
  /** Explicit routes, each with its handler. */
  readonly routes?: readonly Route[];
  /** Static HTML pages by path (GET). */
  readonly pages?: Readonly<Record<string, string>>;
  /** Local-only subtrees, each answered by its own node handler (the console under /console); never API Gateway routes. */
  readonly mounts?: readonly Mount[];
}

/** A subtree of paths (`prefix` and below) served by one node handler instead of a Lambda handler. */
export interface Mount {
  readonly prefix: string;
  handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void>;
}

export interface HttpServer {
  readonly url: string;
  close(): Promise<void>;
}

class BodyTooLarge extends Error {}

export interface Route {
  readonly method: string;
  /** A path as in a route key: literal segments and `{param}`s. */
  readonly path: string;
  readonly handler: HttpHandler;
}

/** A route with its path as a pattern: `{param}` matches one non-empty segment. */
interface CompiledRoute extends Route {
  readonly pattern: RegExp;
  readonly params: readonly string[];
}

function compile(route: Route): CompiledRoute {
  const { params } = parseRouteKey(`${route.method} ${route.path}`);
  const source = route.path
    .split(/\{[^}]+\}/)
    .map((literal) => literal.replace(/[.*+?^$()|[\]\\]/g, '\\$&'))
    .join('([^/]+)');
  return { ...route, pattern: new RegExp(`^${source}$`), params };
}

/** The routes matching a path, most specific first, each with its pathParameters (decoded, as API Gateway passes them). */
function match(routes: readonly CompiledRoute[], pathname: string): { route: CompiledRoute; pathParameters: Record<string, string> }[] {
  const found: { route: CompiledRoute; pathParameters: Record<string, string> }[] = [];
  for (const route of routes) {
    const m = route.pattern.exec(pathname);
    if (m === null) continue;
    let pathParameters: Record<string, string>;
    try {
      pathParameters = Object.fromEntries(route.params.map((name, i) => [name, decodeURIComponent(m[i + 1] ?? '')]));
    } catch {
      continue; // a malformed %-escape matches no route
    }
    found.push({ route, pathParameters });
  }
  // As API Gateway: a literal segment wins over a {param}.
  return found.sort((a, b) => a.route.params.length - b.route.params.length);
}

const errorJson = (error: string, message: string): string => JSON.stringify({ error, message } satisfies ErrorBody);

function lambdaContext(name: string, requestId: string): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: name,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${name}`,
    memoryLimitInMB: '1769',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => 10_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new BodyTooLarge(`the body is larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** API Gateway v2 joins a repeated query parameter's values with commas. */
function queryParameters(params: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of params) out[k] = out[k] === undefined ? v : `${out[k]},${v}`;
  return out;
}

let seq = 0;

/**
 * Starts a loopback HTTP server that turns each request into an API Gateway HTTP API (v2) event for
 * its route's handler, so the same Lambda handler runs locally; GET /health answers itself, unknown
 * paths give 404 and known paths with another method 405.
 */
export async function startHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const handler = options.handler;
  const routes: readonly CompiledRoute[] = (
    options.routes ?? (handler ? DEFAULT_ROUTES.map((key) => ({ ...parseRouteKey(key), handler })) : [])
  ).map(compile);
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      // The request target is origin-form ("/path?query"), so it is appended to the origin: against a
      // base, "//x/y" would be read as a host (and throw outside the try, leaving the request unanswered).
      const target = req.url ?? '/';
      const origin = 'http://127.0.0.1';
      const url = target.startsWith('/') && URL.canParse(`${origin}${target}`) ? new URL(`${origin}${target}`) : undefined;
      const send = (status: number, body: string, type = 'application/json'): void => {
        res.writeHead(status, { 'content-type': type });
        res.end(body);
      };
      try {
        if (url === undefined)
          return send(400, errorJson('BadRequest', `the request target is not a path: ${JSON.stringify(target.slice(0, 200))}`));
        if (url.pathname === '/health') return send(200, '{"ok":true}');
        const mount = options.mounts?.find((m) => url.pathname === m.prefix || url.pathname.startsWith(`${m.prefix}/`));
        if (mount !== undefined) return await mount.handle(req, res, url);
        const page = options.pages?.[url.pathname];
        if (page !== undefined && req.method === 'GET') return send(200, page, 'text/html; charset=utf-8');
        const candidates = match(routes, url.pathname);
        const found = candidates.find((c) => c.route.method === req.method);
        if (found === undefined) {
          const allowed = [...new Set(candidates.map((c) => c.route.method))];
          if (allowed.length > 0) {
            res.setHeader('allow', allowed.join(', '));
            return send(405, errorJson('MethodNotAllowed', `${req.method} ${url.pathname}; allowed: ${allowed.join(', ')}`));
          }
          return send(404, errorJson('NotFound', `${req.method} ${url.pathname}`));
        }
        const { route, pathParameters } = found;
        const requestId = `local-${Date.now().toString(36)}-${(++seq).toString(36)}`;
        const body = req.method === 'GET' ? undefined : await readBody(req);
        const event = {
          version: '2.0',
          routeKey: `${route.method} ${route.path}`,
          rawPath: url.pathname,
          rawQueryString: url.search.slice(1),
          headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : (v ?? '')])),
          ...(url.search ? { queryStringParameters: queryParameters(url.searchParams) } : {}),
          ...(route.params.length > 0 ? { pathParameters } : {}),
          requestContext: {
            http: {
              method: req.method ?? 'GET',
              path: url.pathname,
              protocol: 'HTTP/1.1',
              sourceIp: '127.0.0.1',
              userAgent: req.headers['user-agent'] ?? '',
            },
            requestId,
            routeKey: `${route.method} ${route.path}`,
            stage: '$default',
            timeEpoch: Date.now(),
          },
          ...(body !== undefined ? { body, isBase64Encoded: false } : { isBase64Encoded: false }),
        } as unknown as APIGatewayProxyEventV2;
        const result = await route.handler(event, lambdaContext('local', requestId));
        // API Gateway's rule: a handler result that is not a structured response is a 200 JSON body.
        if (typeof result === 'string') return send(200, result);
        res.writeHead(result.statusCode ?? 200, { ...(result.headers as Record<string, string> | undefined), 'x-request-id': requestId });
        res.end(result.body === undefined ? '' : result.isBase64Encoded ? Buffer.from(result.body, 'base64') : result.body);
      } catch (error) {
        if (error instanceof BodyTooLarge) return send(413, errorJson('PayloadTooLarge', error.message));
        // Only a handler outside httpHandler throws (httpHandler maps every error itself).
        send(500, errorJson('InternalError', (error as Error).message));
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((e) => (e ? reject(e) : resolve()));
        server.closeAllConnections(); // keep-alive clients (load generators) must not hold the close
      }),
  };
}
