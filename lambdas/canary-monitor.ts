/** CanaryMonitor (EventBridge schedule): promotes or rolls back each shelf's canary from online feedback. */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Context } from 'aws-lambda';
import { EndpointStore } from '../lib/aws/endpoints.ts';
import { ModelRegistry } from '../lib/aws/registry.ts';
import { logger, requireEnv } from '../lib/middleware/task-handler.ts';
import { monitorCanaries, type MonitorOutcome } from '../lib/serving/canary-monitor.ts';
import { RAW_BUCKET } from '../lib/wiring/resources.ts';

const deps = {
  registry: new ModelRegistry(),
  endpoints: new EndpointStore(),
  rawBucket: requireEnv(RAW_BUCKET.env),
  now: () => new Date(),
};

export const handler = middy<unknown, MonitorOutcome[], Error, Context>()
  .use(injectLambdaContext(logger, { clearState: true }))
  .handler(async () => {
    const outcomes = await monitorCanaries(deps);
    for (const o of outcomes) if (o.action !== 'none') logger.info('canary decision', { ...o });
    return outcomes;
  });
