/** Starts the local home API: the serve and ingest-events Lambda handlers behind the local HTTP server. */
import { formatS3Uri, getObjectBytes } from '../aws/s3-uri.ts';
import { RAW_BUCKET } from '../wiring/resources.ts';
import { DASHBOARD_HTML } from './dashboard.ts';
import { startHttpServer, type HttpHandler } from './http-server.ts';

/** Serving runs on the local world's clock: it starts where the data ends. */
async function worldEnd(): Promise<string | undefined> {
  try {
    const manifest = JSON.parse(
      Buffer.from(await getObjectBytes(formatS3Uri(process.env[RAW_BUCKET.env] ?? RAW_BUCKET.localName, 'manifest.json'))).toString('utf8'),
    ) as { end?: string };
    return manifest.end;
  } catch {
    return undefined;
  }
}

export async function startLocalApi(port = 0): Promise<{ url: string; close(): Promise<void> }> {
  process.env.SHELVES_NOW ??= await worldEnd();
  // Imported after the engines set the environment: handlers read it at module load, as in Lambda.
  const serve = (await import('../../lambdas/serve.ts')).handler as unknown as HttpHandler;
  const events = (await import('../../lambdas/ingest-events.ts')).handler as unknown as HttpHandler;
  return startHttpServer({
    port,
    routes: [
      { method: 'GET', path: '/v1/home', handler: serve },
      { method: 'POST', path: '/v1/home', handler: serve },
      { method: 'GET', path: '/openapi.json', handler: serve },
      { method: 'POST', path: '/v1/events', handler: events },
    ],
    pages: { '/dashboard': DASHBOARD_HTML },
  });
}
