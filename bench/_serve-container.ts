/**
 * One serving container, in its own process so its memory is its own (serve.bench.ts starts it with the
 * local engines' environment): the real serving ports (lib/serving/aws-ports.ts: catalog snapshot and
 * models from s3rver, endpoints and registry and each listener from dynalite), the first request (which
 * loads and indexes the catalog and the models), then REQUESTS home requests for random listeners among
 * SERVE_CONTAINER_USERS, each with its user-state Query. Prints one JSON line of figures.
 *
 * Request logs are left out of the measured path (in AWS they are a Firehose put after the response).
 */
import { awsServingPorts } from '../lib/serving/aws-ports.ts';
import { HomeService } from '../lib/serving/home-service.ts';

const NOW = Date.parse(process.env.SERVE_CONTAINER_NOW ?? '2026-10-01T00:00:00Z');
const USERS = Number(process.env.SERVE_CONTAINER_USERS ?? 1000);
const REQUESTS = Number(process.env.SERVE_CONTAINER_REQUESTS ?? 2000);
const MB = 2 ** 20;

const gc = (globalThis as { gc?: () => void }).gc;
const memory = () => {
  gc?.();
  const m = process.memoryUsage();
  return { rssMb: m.rss / MB, heapMb: m.heapUsed / MB };
};
const percentile = (sorted: readonly number[], q: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;

const before = memory();
const now = () => NOW;
const ports = { ...awsServingPorts({ now }), logRequests: async () => undefined };
const service = new HomeService(ports, { catalogRefreshMs: 3_600_000, endpointTtlMs: 3_600_000 }, now);
let t = performance.now();
const first = await service.home({ userId: 'u-0' });
const firstMs = performance.now() - t;
const loaded = memory();
// A deterministic spread of listeners over the whole table (a multiplicative hash of the request number).
const userOf = (i: number): string => `u-${Number((BigInt(i) * 2654435761n) % BigInt(USERS))}`;
for (let i = 0; i < 200; i++) await service.home({ userId: userOf(i + REQUESTS) }); // warm-up
const times: number[] = [];
let withHistory = 0;
for (let i = 0; i < REQUESTS; i++) {
  t = performance.now();
  const home = await service.home({ userId: userOf(i) });
  times.push(performance.now() - t);
  if ((home.shelves[0]?.items.length ?? 0) > 0) withHistory++;
}
times.sort((a, b) => a - b);
const after = memory();
process.stdout.write(
  `${JSON.stringify({
    users: USERS,
    requests: REQUESTS,
    shelvesOfFirst: first.shelves.map((s) => `${s.shelf}:${s.modelVersion}`).join(','),
    firstRequestMs: firstMs,
    rssBeforeLoadMb: before.rssMb,
    rssAfterLoadMb: loaded.rssMb,
    heapAfterLoadMb: loaded.heapMb,
    rssAfterRequestsMb: after.rssMb,
    heapAfterRequestsMb: after.heapMb,
    p50Ms: percentile(times, 0.5),
    p99Ms: percentile(times, 0.99),
    shortcutsFilledShare: withHistory / REQUESTS,
  })}\n`,
);
