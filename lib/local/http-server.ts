/**
 * The local HTTP front door: turns node:http requests into API Gateway HTTP API (v2) events and hands
 * them to the same Lambda handlers that run behind API Gateway in AWS. Loopback only.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';

export type HttpHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2 | string>;

/** The API's routes, all given to `handler` when no `routes` are passed. */
export const DEFAULT_ROUTES = ['GET /v1/home', 'POST /v1/home', 'POST /v1/events', 'GET /openapi.json'] as const;

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
}

export interface HttpServer {
  readonly url: string;
  close(): Promise<void>;
}

class BodyTooLarge extends Error {}

export interface Route {
  readonly method: string;
  readonly path: string;
  readonly handler: HttpHandler;
}

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
  const routes: readonly Route[] =
    options.routes ??
    (handler ? DEFAULT_ROUTES.map((r) => ({ method: r.split(' ')[0] as string, path: r.split(' ')[1] as string, handler })) : []);
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const send = (status: number, body: string, type = 'application/json'): void => {
        res.writeHead(status, { 'content-type': type });
        res.end(body);
      };
      try {
        if (url.pathname === '/health') return send(200, '{"ok":true}');
        const page = options.pages?.[url.pathname];
        if (page !== undefined && req.method === 'GET') return send(200, page, 'text/html; charset=utf-8');
        const route = routes.find((r) => r.path === url.pathname && r.method === req.method);
        if (route === undefined) {
          const allowed = routes.filter((r) => r.path === url.pathname).map((r) => r.method);
          if (allowed.length > 0) {
            res.setHeader('allow', allowed.join(', '));
            return send(
              405,
              JSON.stringify({ error: 'MethodNotAllowed', message: `${req.method} ${url.pathname}; allowed: ${allowed.join(', ')}` }),
            );
          }
          return send(404, JSON.stringify({ error: 'NotFound', message: `${req.method} ${url.pathname}` }));
        }
        const requestId = `local-${Date.now().toString(36)}-${(++seq).toString(36)}`;
        const body = req.method === 'GET' ? undefined : await readBody(req);
        const event = {
          version: '2.0',
          routeKey: `${route.method} ${route.path}`,
          rawPath: url.pathname,
          rawQueryString: url.search.slice(1),
          headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : (v ?? '')])),
          ...(url.search ? { queryStringParameters: queryParameters(url.searchParams) } : {}),
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
        if (error instanceof BodyTooLarge) return send(413, JSON.stringify({ error: 'PayloadTooLarge', message: error.message }));
        send(500, JSON.stringify({ error: 'InternalError', message: (error as Error).message }));
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
