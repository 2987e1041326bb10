/**
 * The local HTTP front door: turns node:http requests into API Gateway HTTP API (v2) events and hands
 * them to the same Lambda handlers that run behind API Gateway in AWS. Loopback only.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';

export type HttpHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

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
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

let seq = 0;

export async function startHttpServer(options: { port?: number; routes: readonly Route[]; pages?: Readonly<Record<string, string>> }): Promise<{ url: string; close(): Promise<void> }> {
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
        const route = options.routes.find((r) => r.path === url.pathname && r.method === req.method);
        if (route === undefined) return send(404, JSON.stringify({ error: 'NotFound', message: `${req.method} ${url.pathname}` }));
        const requestId = `local-${Date.now().toString(36)}-${(++seq).toString(36)}`;
        const body = req.method === 'GET' ? undefined : await readBody(req);
        const event = {
          version: '2.0',
          routeKey: `${route.method} ${route.path}`,
          rawPath: url.pathname,
          rawQueryString: url.search.slice(1),
          headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : (v ?? '')])),
          ...(url.search ? { queryStringParameters: Object.fromEntries(url.searchParams) } : {}),
          requestContext: { http: { method: req.method ?? 'GET', path: url.pathname, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: req.headers['user-agent'] ?? '' }, requestId, routeKey: `${route.method} ${route.path}`, stage: '$default', timeEpoch: Date.now() },
          ...(body !== undefined ? { body, isBase64Encoded: false } : { isBase64Encoded: false }),
        } as unknown as APIGatewayProxyEventV2;
        const result = await route.handler(event, lambdaContext('local', requestId));
        res.writeHead(result.statusCode ?? 200, (result.headers ?? {}) as Record<string, string>);
        res.end(result.body ?? '');
      } catch (error) {
        send(500, JSON.stringify({ error: 'InternalError', message: (error as Error).message }));
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve()))),
  };
}
