/** POST /v1/events: feedback (impressions, plays, skips) in batches into the data lake's feedback/ prefix. */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { EventsBodySchema, summarizeEvents, validationError } from '../lib/api/schemas.ts';
import { json, parseJsonBody } from '../lib/middleware/http-response.ts';
import { logger } from '../lib/middleware/task-handler.ts';
import { awsServingPorts } from '../lib/serving/aws-ports.ts';

const ports = awsServingPorts();

export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Error, Context>()
  .use(injectLambdaContext(logger, { clearState: true }))
  .handler(async (event) => {
    const raw = parseJsonBody(event.body);
    if (!raw.ok) return raw.response;
    const body = raw.value;
    const parsed = EventsBodySchema.safeParse(body);
    if (!parsed.success) return json(400, validationError(parsed.error, 'body'));
    await ports.writeFeedback(parsed.data.events);
    return json(202, summarizeEvents(parsed.data.events));
  });
