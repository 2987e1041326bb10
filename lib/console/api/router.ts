/**
 * The console's JSON API: GET only, every query validated (400 naming each wrong field), answered by
 * the read-only views over the registry, endpoints, reports and request log. Mounted under /console
 * by `shelves serve` and `shelves console`, never on API Gateway's route table.
 */
import type { z } from 'zod';
import { SHELVES, type Shelf } from '../../core/contract.ts';
import { ConflictError, InputError } from '../../core/errors.ts';
import type { ConsoleContext } from './context.ts';
import { Inspector } from './inspector.ts';
import { newContent } from './new-content.ts';
import { repetitionDiagnostic } from './repetition.ts';
import { runQuality, shelfRuns } from './runs.ts';
import { runPrefix } from './context.ts';
import { readText } from './s3-reads.ts';
import {
  CompareQuerySchema,
  EmptyQuerySchema,
  InspectQuerySchema,
  ListenerSchema,
  NewContentQuerySchema,
  RepetitionQuerySchema,
  RunQuerySchema,
  ShelfQuerySchema,
  UsersQuerySchema,
} from './schemas.ts';
import { shelfVersions } from './versions.ts';

export interface ApiResponse {
  readonly status: number;
  readonly body: string;
  readonly contentType: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export type ConsoleApi = (method: string, path: string, query: URLSearchParams) => Promise<ApiResponse>;

const json = (status: number, value: unknown): ApiResponse => ({ status, body: JSON.stringify(value), contentType: 'application/json' });

/** A 400 body naming each wrong field, in the public API's error shape. */
function badRequest(error: z.ZodError): ApiResponse {
  return json(400, {
    error: 'BadRequest',
    issues: error.issues.map((i) => ({ path: `query.${i.path.join('.')}`, message: i.message })),
  });
}

function parse<S extends z.ZodType>(
  schema: S,
  query: URLSearchParams,
): { ok: true; value: z.output<S> } | { ok: false; response: ApiResponse } {
  const raw: Record<string, string> = {};
  for (const [k, v] of query) raw[k] = v;
  const parsed = schema.safeParse(raw);
  return parsed.success ? { ok: true, value: parsed.data } : { ok: false, response: badRequest(parsed.error) };
}

/** The console API over a context; one Inspector (models, catalog) shared by its requests. */
export function createConsoleApi(ctx: ConsoleContext, inspector: Inspector = new Inspector(ctx)): ConsoleApi {
  type Handler = (query: URLSearchParams) => Promise<ApiResponse>;
  const listener = (query: URLSearchParams) => parse(ListenerSchema, query);
  const routes: Readonly<Record<string, Handler>> = {
    '/overview': async (q) => {
      const p = parse(EmptyQuerySchema, q);
      if (!p.ok) return p.response;
      const shelves = [];
      for (const shelf of SHELVES) shelves.push(await ctx.endpoints.getEndpoint(shelf));
      return json(200, { now: new Date(ctx.now()).toISOString(), shelves });
    },
    '/users': async (q) => {
      const p = parse(UsersQuerySchema, q);
      if (!p.ok) return p.response;
      const users = (await inspector.users())
        .slice(0, p.value.limit)
        .map((u) => ({ userId: u.userId, country: u.country, device: u.device, ageBand: u.ageBand }));
      return json(200, { users });
    },
    '/inspect': async (q) => {
      const p = parse(InspectQuerySchema, q);
      if (!p.ok) return p.response;
      const l = listener(q);
      if (!l.ok) return l.response;
      return json(200, await inspector.inspect(l.value));
    },
    '/arms': async (q) => {
      const p = parse(ShelfQuerySchema, q);
      if (!p.ok) return p.response;
      const versions = await ctx.registry.listVersions(p.value.shelf);
      return json(200, {
        arms: [
          ...(await inspector.arms(p.value.shelf)),
          ...versions.map((v) => ({ arm: `version:${v.versionId}`, label: `${v.versionId} (${v.status})`, version: v.versionId })),
        ],
      });
    },
    '/compare': async (q) => {
      const p = parse(CompareQuerySchema, q);
      if (!p.ok) return p.response;
      const l = listener(new URLSearchParams([...q].filter(([k]) => !['shelf', 'a', 'b'].includes(k))));
      if (!l.ok) return l.response;
      return json(200, await inspector.compare(l.value, p.value.shelf, p.value.a, p.value.b));
    },
    '/repetition': async (q) => {
      const p = parse(RepetitionQuerySchema, q);
      if (!p.ok) return p.response;
      return json(200, await repetitionDiagnostic(inspector, p.value.shelf, p.value.population, p.value.size));
    },
    '/versions': async (q) => {
      const p = parse(ShelfQuerySchema, q);
      if (!p.ok) return p.response;
      return json(200, await shelfVersions(ctx, p.value.shelf));
    },
    '/runs': async (q) => {
      const p = parse(ShelfQuerySchema, q);
      if (!p.ok) return p.response;
      return json(200, { shelf: p.value.shelf, runs: await shelfRuns(ctx, p.value.shelf) });
    },
    '/run-quality': async (q) => {
      const p = parse(RunQuerySchema, q);
      if (!p.ok) return p.response;
      return json(200, { shelf: p.value.shelf, runId: p.value.runId, files: await runQuality(ctx, p.value.shelf, p.value.runId) });
    },
    '/report': async (q) => {
      const p = parse(RunQuerySchema, q);
      if (!p.ok) return p.response;
      const html = await readText(`${runPrefix(ctx.artifactsBucket, p.value.shelf as Shelf, p.value.runId)}report/report.html`).catch(
        () => null,
      );
      if (html === null) return json(404, { error: 'NotFound', message: `no report for run ${p.value.runId} of ${p.value.shelf}` });
      // The report is a document of its own: no script, no network, whatever it contains.
      return {
        status: 200,
        body: html,
        contentType: 'text/html; charset=utf-8',
        headers: { 'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox" },
      };
    },
    '/new-content': async (q) => {
      const p = parse(NewContentQuerySchema, q);
      if (!p.ok) return p.response;
      return json(200, await newContent(ctx, inspector, p.value.days));
    },
  };
  return async (method, path, query) => {
    const handler = routes[path];
    if (handler === undefined) return json(404, { error: 'NotFound', message: `${method} /console/api${path}` });
    if (method !== 'GET' && method !== 'HEAD')
      return {
        ...json(405, { error: 'MethodNotAllowed', message: `${method} /console/api${path}; the console is read-only: allowed GET` }),
        headers: { allow: 'GET' },
      };
    try {
      return await handler(query);
    } catch (error) {
      if (error instanceof InputError) return json(400, { error: 'BadRequest', message: error.message });
      if (error instanceof ConflictError) return json(409, { error: 'Conflict', message: error.message });
      throw error;
    }
  };
}
