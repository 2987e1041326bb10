/**
 * Property-based fuzzing of the public API as served locally: the real Lambda handlers behind the
 * local HTTP server, on dynalite and s3rver with a small simulated world. Whatever arrives (random
 * paths, methods, headers, query strings, bodies: JSON near the schemas, random JSON, non-JSON,
 * unicode, up to 1 MB, malformed HTTP), the answer is 2xx or 4xx, never 5xx, and the server keeps
 * answering. The routes come from the API's own /openapi.json, so a route added there is fuzzed too.
 * Bounded: fixed numRuns and a fixed seed (a failure prints its seed and path to replay it).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalEngines, type LocalEngines } from '../../lib/local/engines.ts';
import { startLocalApi } from '../../lib/local/local-api.ts';
import { uploadDataset } from '../../lib/local/seed-data.ts';
import { generateWorld } from '../../lib/sim/world.ts';
import { RAW_BUCKET } from '../../lib/wiring/resources.ts';

let home: string;
let engines: LocalEngines;
let api: { url: string; close(): Promise<void> };
let port: number;
/** Public routes as the API documents them: [method, path]. */
let routes: [string, string][] = [];
let users: string[] = [];
const SEED = 20261201;

interface Answer {
  readonly status: number;
  readonly body: string;
}

/** One HTTP request with node:http (any method, any header node allows), body as given. */
function send(method: string, path: string, headers: Record<string, string>, body?: Uint8Array | string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(20_000, () => req.destroy(new Error(`no answer in 20 s to ${method} ${path}`)));
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** Raw bytes on a socket: the first status code the server writes, or 0 when it closes without one. */
function sendRaw(bytes: Uint8Array): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.setTimeout(5000, () => socket.destroy());
    socket.on('data', (c: Buffer) => {
      text += c.toString('latin1');
    });
    socket.on('close', () => resolve(Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0)));
    socket.on('error', (e: NodeJS.ErrnoException) => (e.code === 'ECONNRESET' ? resolve(0) : reject(e)));
    socket.end(bytes);
  });
}

const ok = (a: Answer): boolean => (a.status >= 200 && a.status < 300) || (a.status >= 400 && a.status < 500);
const describeAnswer = (a: Answer): string => `${a.status} ${a.body.slice(0, 300)}`;

// ---- generators --------------------------------------------------------------------------------

const tokenChar = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&*+-.^_`|~'.split(''));
const token = fc.string({ unit: tokenChar, minLength: 1, maxLength: 20 });
const methods = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('GET', 'POST') },
  { weight: 3, arbitrary: fc.constantFrom('PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'TRACE') },
  { weight: 1, arbitrary: token.map((t) => t.toUpperCase()) },
);
const unicode = fc.string({ unit: 'grapheme', maxLength: 40 });
const anyString = fc.oneof(fc.string({ maxLength: 30 }), unicode, fc.string({ unit: 'binary', maxLength: 30 }));
/** Header values node accepts: visible ASCII and Latin-1 without control characters. */
const headerValue = fc.string({
  unit: fc.integer({ min: 0x20, max: 0xff }).map((c) => String.fromCharCode(c === 0x7f ? 0x20 : c)),
  maxLength: 80,
});
const headers = fc
  .record({
    extra: fc.dictionary(
      token.filter((t) => !['content-length', 'transfer-encoding', 'host', 'connection', 'expect', 'upgrade'].includes(t.toLowerCase())),
      headerValue,
      { maxKeys: 6 },
    ),
    contentType: fc.option(
      fc.constantFrom(
        'application/json',
        'text/plain',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        'application/json; charset=latin1',
        '',
      ),
      { nil: undefined },
    ),
  })
  .map(({ extra, contentType }) => ({ ...extra, ...(contentType !== undefined ? { 'content-type': contentType } : {}) }));

const query = fc.oneof(
  fc.constant(''),
  fc.webQueryParameters().map((q) => (q === '' ? '' : `?${q}`)),
  fc
    .tuple(fc.oneof(unicode, fc.constantFrom('u-0000001', '', ' ', '%', '%zz', '\u0000'), fc.string({ maxLength: 300 })))
    .map(([id]) => `?userId=${encodeURIComponent(id)}`),
  fc.constantFrom('?userId=a&userId=b', '?userId', '?userId=%E0%A4%A', '?=&&=', `?userId=${'x'.repeat(5000)}`),
);

/** Paths near the routes (the routes themselves, with a suffix, a case change, encoded) and random ones. */
const path = (): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 5, arbitrary: fc.constantFrom(...routes.map(([, p]) => p), '/health', '/dashboard') },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom(...routes.map(([, p]) => p))
        .chain((p) => fc.constantFrom(`${p}/`, p.toUpperCase(), `${p}/x`, p.replace('/v1', '/v1/.'), `/${p}`, p.replace('o', '%6f'))),
    },
    { weight: 2, arbitrary: fc.webPath() },
    { weight: 1, arbitrary: fc.array(unicode, { maxLength: 4 }).map((parts) => `/${parts.map(encodeURIComponent).join('/')}`) },
  );

const iso = fc
  .date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true })
  .map((d) => d.toISOString());
const context = fc.record(
  {
    country: fc.oneof(fc.constantFrom('SE', 'US', 'DE', 'se', 'XX'), anyString),
    device: fc.oneof(fc.constantFrom('mobile', 'desktop', 'tv', 'speaker', 'web', 'car'), anyString),
    localTime: fc.oneof(iso, fc.constant('2026-11-28T08:15:00+01:00'), anyString),
    localHour: fc.oneof(fc.integer({ min: -2, max: 25 }), fc.double()),
    weekday: fc.integer({ min: -1, max: 7 }),
    onboardingGenres: fc.array(fc.oneof(fc.constantFrom('news', 'comedy', 'true-crime'), unicode), { maxLength: 25 }),
    ageBand: fc.oneof(fc.constantFrom('18-24', '25-34', 'unknown'), anyString),
  },
  { requiredKeys: [] },
);
const userId = (): fc.Arbitrary<string> => fc.oneof(fc.constantFrom(...users), unicode, fc.string({ minLength: 250, maxLength: 300 }));
const homeBody = (): fc.Arbitrary<unknown> =>
  fc.oneof(
    fc.record({ userId: userId(), context }, { requiredKeys: ['context'] }),
    fc.record({ userId: userId(), context: fc.record({ country: fc.constantFrom('SE', 'US'), device: fc.constantFrom('mobile', 'tv') }) }),
  );
const event = (): fc.Arbitrary<unknown> =>
  fc.record(
    {
      requestId: fc.oneof(fc.constantFrom('req-1', ''), unicode),
      userId: userId(),
      itemId: fc.oneof(fc.constantFrom('it-1', ''), unicode),
      shelf: fc.oneof(fc.constantFrom('shortcuts', 'podcasts', 'playlists'), anyString),
      variant: fc.constantFrom('live', 'canary', 'fallback', 'other'),
      modelVersion: anyString,
      eventType: fc.oneof(fc.constantFrom('impression', 'play', 'skip', 'save', 'resume', 'complete'), anyString),
      timestamp: fc.oneof(iso, anyString),
      msPlayed: fc.oneof(fc.nat(), fc.integer(), fc.double(), fc.constant(Number.MAX_SAFE_INTEGER)),
    },
    { requiredKeys: ['userId', 'itemId', 'eventType', 'timestamp'] },
  );
const eventsBody = (): fc.Arbitrary<unknown> => fc.record({ events: fc.array(event(), { minLength: 0, maxLength: 600, size: 'small' }) });

/** A body: JSON near the schemas, random JSON, random text or bytes, or a big one (up to 1 MB, sometimes just over). */
const body = (): fc.Arbitrary<Uint8Array | string | undefined> =>
  fc.oneof(
    { weight: 1, arbitrary: fc.constant(undefined) },
    { weight: 4, arbitrary: fc.oneof(homeBody(), eventsBody()).map((b) => JSON.stringify(b)) },
    { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 6 }).map((v) => JSON.stringify(v)) },
    {
      weight: 1,
      arbitrary: fc.oneof(
        anyString,
        fc.constantFrom('{', '{"events":', 'null', '[]', '{"events": null}', '\uFEFF{}', '{"__proto__": {"x": 1}}'),
      ),
    },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 2000 }) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.integer({ min: 1, max: (1 << 20) + 16 }), fc.constantFrom('x', '{', '"', 'é', '[1,'))
        .map(([bytes, unit]) => unit.repeat(Math.ceil(bytes / Buffer.byteLength(unit))).slice(0, bytes)),
    },
  );

// ---- setup -------------------------------------------------------------------------------------

beforeAll(async () => {
  process.env.LOG_LEVEL = 'SILENT';
  home = await mkdtemp(join(tmpdir(), 'shelves-fuzz-'));
  engines = await startLocalEngines({ home });
  const world = join(home, 'world');
  await generateWorld(world, { users: 60, days: 14, seed: 3, start: '2026-09-01' });
  await uploadDataset(world, RAW_BUCKET.localName);
  users = Array.from({ length: 60 }, (_, i) => `u-${String(i + 1).padStart(7, '0')}`);
  api = await startLocalApi();
  port = Number(new URL(api.url).port);
  const doc = JSON.parse((await send('GET', '/openapi.json', {})).body) as { paths: Record<string, Record<string, unknown>> };
  routes = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => [m.toUpperCase(), p] as [string, string]));
}, 120_000);

afterAll(async () => {
  await api?.close();
  await engines?.stop();
  await rm(home, { recursive: true, force: true });
});

describe('the public API under random input', () => {
  it('documents the home and events routes it is fuzzed through', () => {
    expect(routes).toEqual(
      expect.arrayContaining([
        ['GET', '/v1/home'],
        ['POST', '/v1/home'],
        ['POST', '/v1/events'],
      ]),
    );
  });

  it('answers valid requests with 2xx, so that the fuzzing reaches the models and the stores', async () => {
    const got = await send('GET', `/v1/home?userId=${users[0]}`, {});
    expect(got.status, describeAnswer(got)).toBe(200);
    const posted = await send(
      'POST',
      '/v1/events',
      { 'content-type': 'application/json' },
      JSON.stringify({ events: [{ userId: 'u1', itemId: 'i1', eventType: 'play', timestamp: '2026-09-10T00:00:00Z' }] }),
    );
    expect(posted.status, describeAnswer(posted)).toBe(202);
  });

  it('answers any method, path, query, headers and body with 2xx or 4xx, never 5xx', async () => {
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(methods, path(), query, headers, body(), async (method, p, q, h, b) => {
        const hasBody = b !== undefined && method !== 'GET' && method !== 'HEAD';
        const answer = await send(method, `${p}${q}`, h, hasBody ? b : undefined);
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
        if (!ok(answer)) throw new Error(`${method} ${p}${q} answered ${describeAnswer(answer)}`);
      }),
      { numRuns: 300, seed: SEED, endOnFailure: true },
    );
    // The run exercised successes and refusals alike, not one kind only.
    const count = (lo: number, hi: number) => [...statuses].filter(([s]) => s >= lo && s < hi).reduce((n, [, c]) => n + c, 0);
    expect(count(200, 300), JSON.stringify([...statuses])).toBeGreaterThan(10);
    expect(count(400, 500), JSON.stringify([...statuses])).toBeGreaterThan(10);
  }, 120_000);

  it('answers schema-shaped bodies on their own routes with 2xx or 4xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          homeBody().map((b) => ['/v1/home', b] as const),
          eventsBody().map((b) => ['/v1/events', b] as const),
        ),
        async ([p, b]) => {
          const answer = await send('POST', p, { 'content-type': 'application/json' }, JSON.stringify(b));
          if (!ok(answer)) throw new Error(`POST ${p} ${JSON.stringify(b).slice(0, 300)} answered ${describeAnswer(answer)}`);
        },
      ),
      { numRuns: 150, seed: SEED + 1, endOnFailure: true },
    );
  }, 120_000);

  it('answers malformed HTTP with a 4xx or a closed connection, never 5xx', async () => {
    const lines = fc.oneof(
      fc.uint8Array({ minLength: 1, maxLength: 300 }),
      fc
        .tuple(token, fc.webPath(), fc.constantFrom('HTTP/1.1', 'HTTP/9.9', 'HTTX', ''))
        .map(([m, p, v]) => Buffer.from(`${m} ${p} ${v}\r\n\r\n`)),
      fc
        .constantFrom(
          'POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"events":',
          'POST /v1/events HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
          'POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!',
          'GET /v1/home?userId=u HTTP/1.1\r\nHost: x\r\nX: \u0000\r\n\r\n',
          `GET /${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
        )
        .map((s) => Buffer.from(s, 'latin1')),
    );
    await fc.assert(
      fc.asyncProperty(lines, async (bytes) => {
        const status = await sendRaw(bytes);
        if (status >= 500) throw new Error(`raw ${JSON.stringify(Buffer.from(bytes).toString('latin1').slice(0, 200))} answered ${status}`);
      }),
      { numRuns: 60, seed: SEED + 2, endOnFailure: true },
    );
  }, 60_000);

  it("refuses one user's flood of events with 429 and Retry-After, and takes other users' events meanwhile", async () => {
    const batch = (user: string, n: number) =>
      JSON.stringify({
        events: Array.from({ length: n }, (_, i) => ({
          userId: user,
          itemId: `it-${i}`,
          eventType: 'impression',
          timestamp: '2026-09-10T00:00:00Z',
        })),
      });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++)
      statuses.push((await send('POST', '/v1/events', { 'content-type': 'application/json' }, batch('u-flood', 300))).status);
    // The user's bucket holds 600 events: two batches of 300 pass, the third is refused.
    expect(statuses).toEqual([202, 202, 429]);
    const refused = await new Promise<{ status: number; retryAfter: string | undefined }>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port, method: 'POST', path: '/v1/events', headers: { 'content-type': 'application/json' }, agent: false },
        (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] as string | undefined }));
        },
      );
      req.on('error', reject);
      req.end(batch('u-flood', 10));
    });
    expect(refused.status).toBe(429);
    expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(1);
    expect((await send('POST', '/v1/events', { 'content-type': 'application/json' }, batch('u-other', 10))).status).toBe(202);
  });

  it('keeps answering afterwards: health, and a valid home request', async () => {
    expect((await send('GET', '/health', {})).status).toBe(200);
    const got = await send('GET', `/v1/home?userId=${users[1]}`, {});
    expect(got.status, describeAnswer(got)).toBe(200);
    expect((JSON.parse(got.body) as { shelves: unknown[] }).shelves).toHaveLength(3);
  });
});
