/**
 * Starts the local home API: every public route of THE route table (lib/api/routes.ts), each served by
 * its own Lambda handler module as behind API Gateway, plus the local-only ML console under /console. Admin routes
 * are IAM-authorized in AWS and not served here (`shelves promote|rollback` do the same locally).
 */
import { handlerEntry, parseRouteKey, publicRouteKeys, ROUTES, type RouteKey } from '../api/routes.ts';
import { formatS3Uri, getObjectBytes } from '../aws/s3-uri.ts';
import { flushRecordStreams } from '../serving/record-stream.ts';
import { readEnv } from '../wiring/env.ts';
import { startHttpServer, type HttpHandler, type Route } from './http-server.ts';

/** Serving runs on the local world's clock: it starts where the data ends. */
export async function worldEnd(): Promise<string | undefined> {
  try {
    const manifest = JSON.parse(
      Buffer.from(await getObjectBytes(formatS3Uri(readEnv('RAW_BUCKET'), 'manifest.json'))).toString('utf8'),
    ) as { end?: string };
    return manifest.end;
  } catch {
    return undefined;
  }
}

/** The public routes, each with the `handler` export of its Lambda module. */
export async function localRoutes(): Promise<Route[]> {
  return Promise.all(
    publicRouteKeys().map(async (key) => {
      // Entries are relative to the repository root, two folders up from here.
      const entry = new URL(`../../${handlerEntry(ROUTES[key as RouteKey])}`, import.meta.url);
      const module = (await import(entry.href)) as { handler: HttpHandler };
      return { ...parseRouteKey(key), handler: module.handler };
    }),
  );
}

export async function startLocalApi(port = 0): Promise<{ url: string; close(): Promise<void> }> {
  // The local runtime sets the serving clock; the handlers read it at module load, as in Lambda.
  if (readEnv('SHELVES_NOW') === undefined) {
    const end = await worldEnd();
    if (end !== undefined) process.env.SHELVES_NOW = end;
  }
  const { consoleMount, DASHBOARD_REDIRECT } = await import('../console/mount.ts');
  const server = await startHttpServer({
    port,
    routes: await localRoutes(),
    mounts: [consoleMount()],
    pages: { '/dashboard': DASHBOARD_REDIRECT },
  });
  // Feedback accepted by POST /v1/events is buffered locally (lib/serving/record-stream.ts): written before close returns.
  return { url: server.url, close: () => server.close().finally(flushRecordStreams) };
}
