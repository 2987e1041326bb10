/**
 * The console over HTTP: the page (lib/console/web: index.html, console.css and the TypeScript
 * modules, bundled by esbuild on first request and kept in memory) and its JSON API under
 * /console/api. Every response carries a Content-Security-Policy that allows only the console's own
 * script and no inline script, so even a value that escaped escaping could not run.
 * Mounted under /console by `shelves serve` (beside the home API) and by `shelves console`.
 */
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { ConsoleApi } from './api/router.ts';

/** Where the console is mounted. */
export const CONSOLE_PREFIX = '/console';

const WEB_DIR = fileURLToPath(new URL('./web/', import.meta.url));
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

let bundle: Promise<string> | undefined;

/** The console's script: lib/console/web/main.ts and its imports (Observable Plot included), one ES module. */
export function consoleBundle(): Promise<string> {
  bundle ??= build({
    entryPoints: [`${WEB_DIR}main.ts`],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify: true,
    write: false,
    legalComments: 'none',
    logLevel: 'silent',
  }).then(
    (result) => result.outputFiles[0]?.text ?? '',
    (error: unknown) => {
      bundle = undefined;
      throw error;
    },
  );
  return bundle;
}

export type ConsoleRequestHandler = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void>;

/** Serves the console's files and API; `url.pathname` starts with CONSOLE_PREFIX. */
export function consoleHandler(api: ConsoleApi): ConsoleRequestHandler {
  const statics: Readonly<Record<string, { file?: string; type: string; load?: () => Promise<string> }>> = {
    '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
    '/console.css': { file: 'console.css', type: 'text/css; charset=utf-8' },
    '/app.js': { type: 'text/javascript; charset=utf-8', load: consoleBundle },
  };
  return async (req, res, url) => {
    const path = url.pathname.slice(CONSOLE_PREFIX.length);
    const send = (status: number, body: string, type: string, headers: Readonly<Record<string, string>> = {}): void => {
      res.writeHead(status, {
        'content-type': type,
        'content-security-policy': CSP,
        'x-content-type-options': 'nosniff',
        'cache-control': 'no-store',
        ...headers,
      });
      res.end(req.method === 'HEAD' ? '' : body);
    };
    try {
      if (path.startsWith('/api/')) {
        const out = await api(req.method ?? 'GET', path.slice('/api'.length), url.searchParams);
        return send(out.status, out.body, out.contentType, out.headers);
      }
      // The page's relative links (app.js, api/...) need the trailing slash.
      if (path === '') return send(308, '', 'text/plain', { location: `${CONSOLE_PREFIX}/${url.search}` });
      const asset = statics[path];
      if (asset === undefined)
        return send(404, JSON.stringify({ error: 'NotFound', message: `${req.method} ${url.pathname}` }), 'application/json');
      if (req.method !== 'GET' && req.method !== 'HEAD')
        return send(
          405,
          JSON.stringify({ error: 'MethodNotAllowed', message: `${req.method} ${url.pathname}; allowed: GET` }),
          'application/json',
          {
            allow: 'GET',
          },
        );
      const body = asset.load ? await asset.load() : await readFile(`${WEB_DIR}${asset.file as string}`, 'utf8');
      return send(200, body, asset.type);
    } catch (error) {
      send(500, JSON.stringify({ error: 'InternalError', message: (error as Error).message }), 'application/json');
    }
  };
}
