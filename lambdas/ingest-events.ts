/** POST /v1/events: feedback (impressions, plays, skips) in batches into the data lake's feedback/ prefix. */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { EventsBodySchema, validationError } from '../lib/api/schemas.ts';
import { logger } from '../lib/lambda/task-handler.ts';
import { awsServingPorts } from '../lib/serving/aws-ports.ts';

const ports = awsServingPorts();

function json(statusCode: number, body: unknown): APIGatewayProxyStructuredResultV2 {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Error, Context>()
  .use(injectLambdaContext(logger, { clearState: true }))
  .handler(async (event) => {
    let body: unknown;
    try {
      body = JSON.parse(event.body ?? '');
    } catch {
      return json(400, { error: 'ValidationError', issues: [{ path: 'body', message: 'the body is not valid JSON' }] });
    }
    const parsed = EventsBodySchema.safeParse(body);
    if (!parsed.success) return json(400, validationError(parsed.error, 'body'));
    await ports.writeFeedback(parsed.data.events);
    return json(202, { accepted: parsed.data.events.length });
  });
