/**
 * Admin actions behind IAM-authorized routes (POST /admin/{shelf}/promote, /admin/{shelf}/rollback):
 * not on the public API. Body (optional): {"reason": "..."}.
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { z } from 'zod';
import { EndpointStore } from '../lib/aws/endpoints.ts';
import { ModelRegistry } from '../lib/aws/registry.ts';
import { ShelfSchema } from '../lib/core/contract.ts';
import { ConflictError } from '../lib/core/errors.ts';
import { json, parseJsonBody } from '../lib/middleware/http-response.ts';
import { logger } from '../lib/middleware/task-handler.ts';
import { promote, rollback } from '../lib/pipeline/endpoint-actions.ts';

const deps = { registry: new ModelRegistry(), endpoints: new EndpointStore(), now: () => new Date() };

const AdminRequestSchema = z.object({
  pathParameters: z.object({ shelf: ShelfSchema, action: z.enum(['promote', 'rollback']) }),
  body: z.string().optional(),
});
const AdminBodySchema = z.object({ reason: z.string().min(1).max(500).default('by an operator through the admin API') });

export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Error, Context>()
  .use(injectLambdaContext(logger, { clearState: true }))
  .handler(async (event) => {
    const request = AdminRequestSchema.safeParse(event);
    if (!request.success)
      return json(400, {
        error: 'ValidationError',
        issues: request.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
      });
    const raw = request.data.body ? parseJsonBody(request.data.body) : { ok: true as const, value: {} };
    if (!raw.ok) return raw.response;
    const body = AdminBodySchema.safeParse(raw.value);
    if (!body.success)
      return json(400, {
        error: 'ValidationError',
        issues: body.error.issues.map((i) => ({ path: `body.${i.path.join('.')}`, message: i.message })),
      });
    const { shelf, action } = request.data.pathParameters;
    try {
      const endpoint = await (action === 'promote' ? promote : rollback)(shelf, body.data.reason, deps);
      return json(200, endpoint);
    } catch (error) {
      if (error instanceof ConflictError) return json(409, { error: error.name, message: error.message });
      throw error;
    }
  });
