/**
 * The console as a local-only mount of the loopback HTTP server: `shelves serve` mounts it beside the
 * home API, `shelves console` serves it alone (locally, or against a deployed stack with the
 * operator's own AWS credentials). It is never a route of the API Gateway route table.
 */
import { clockFrom } from '../serving/home-service.ts';
import { readEnv } from '../wiring/env.ts';
import type { Mount } from '../local/http-server.ts';
import { consoleContextFromEnv } from './api/context.ts';
import { createConsoleApi } from './api/router.ts';
import { CONSOLE_PREFIX, consoleHandler } from './server.ts';

/** The old dashboard's address sends its bookmarks to the console. */
export const DASHBOARD_REDIRECT = `<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" content="0; url=${CONSOLE_PREFIX}/"><title>moved</title><a href="${CONSOLE_PREFIX}/">The dashboard is now the console</a>`;

/** The console's mount, on serving's clock (SHELVES_NOW locally, the wall clock in AWS). */
export function consoleMount(): Mount {
  const ctx = consoleContextFromEnv(clockFrom(readEnv('SHELVES_NOW')));
  return { prefix: CONSOLE_PREFIX, handle: consoleHandler(createConsoleApi(ctx)) };
}
