/**
 * The home API: GET /v1/home?userId=... and POST /v1/home with a context body. Thin: middy, zod, one
 * call into the serving runtime; a 400 names every wrong field. The runtime (models, catalog) lives at
 * module scope, so it is shared by every invocation of a warm container.
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { HomeBodySchema, HomeQuerySchema, validationError } from '../lib/api/schemas.ts';
import { openApiDocument } from '../lib/api/openapi.ts';
import { json, parseJsonBody } from '../lib/middleware/http-response.ts';
import { logger } from '../lib/middleware/task-handler.ts';
import { awsServingPorts } from '../lib/serving/aws-ports.ts';
import { clockFrom, DEFAULT_SERVING_CONFIG, HomeService } from '../lib/serving/home-service.ts';
import { ENV } from '../lib/wiring/resources.ts';

// SHELVES_NOW (ISO) starts the serving clock at a simulated time (a local world's end); unset in AWS.
const now = clockFrom(process.env.SHELVES_NOW);
const service = new HomeService(
  awsServingPorts({ now }),
  {
    ...DEFAULT_SERVING_CONFIG,
    endpointTtlMs: Number(process.env[ENV.endpointCacheSeconds] ?? 30) * 1000,
    catalogRefreshMs: Number(process.env.CATALOG_REFRESH_SECONDS ?? 60) * 1000,
  },
  now,
);

export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Error, Context>()
  .use(injectLambdaContext(logger, { clearState: true }))
  .handler(async (event) => {
    const method = event.requestContext?.http?.method ?? 'GET';
    if (event.rawPath === '/openapi.json') return json(200, openApiDocument());
    let response;
    if (method === 'GET') {
      const query = HomeQuerySchema.safeParse(event.queryStringParameters ?? {});
      if (!query.success) return json(400, validationError(query.error, 'query'));
      response = await service.home({ userId: query.data.userId });
    } else {
      const raw = parseJsonBody(event.body);
      if (!raw.ok) return raw.response;
      const body = raw.value;
      const parsed = HomeBodySchema.safeParse(body);
      if (!parsed.success) return json(400, validationError(parsed.error, 'body'));
      response = await service.home({ ...(parsed.data.userId ? { userId: parsed.data.userId } : {}), context: parsed.data.context });
    }
    await service.flush();
    return json(200, response);
  });
