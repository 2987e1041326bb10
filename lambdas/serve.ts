/** GET|POST /v1/home and GET /openapi.json. The serving runtime lives at module scope: a warm container shares it. */
import { openApiDocument } from '../lib/api/openapi.ts';
import { httpHandler } from '../lib/middleware/http-handler.ts';
import { awsServingPorts } from '../lib/serving/aws-ports.ts';
import { clockFrom, DEFAULT_SERVING_CONFIG, HomeService, type HomeRequest } from '../lib/serving/home-service.ts';
import { loadEnv } from '../lib/wiring/env.ts';

const env = loadEnv(['SHELVES_NOW', 'ENDPOINT_CACHE_SECONDS', 'CATALOG_REFRESH_SECONDS']);
const now = clockFrom(env.SHELVES_NOW);
const config = { endpointTtlMs: env.ENDPOINT_CACHE_SECONDS * 1000, catalogRefreshMs: env.CATALOG_REFRESH_SECONDS * 1000 };
const service = new HomeService(awsServingPorts({ now }), { ...DEFAULT_SERVING_CONFIG, ...config }, now);
// The feature log is flushed before answering: a frozen Lambda must not hold records.
const home = (request: HomeRequest) => service.home(request).finally(() => service.flush());

export const handler = httpHandler('serve', {
  'GET /v1/home': ({ query }) => home({ userId: query.userId }),
  'POST /v1/home': ({ body }) => home(body),
  'GET /openapi.json': async () => openApiDocument(),
});
