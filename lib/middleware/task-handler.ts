/**
 * One of the two shapes a Lambda handler of this project takes (the other is `httpHandler` for API
 * routes): middy with structured logging first, the zod-parsed input, one call into the core, a checked
 * output. Pipeline tasks and scheduled handlers use it; task schemas come from lib/wiring/pipeline.ts so
 * the state machine, the handler and the local runner agree.
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { logger } from './logger.ts';

/** A task got input that does not match its schema: a wiring bug, never retried. */
export class TaskInputError extends Error {
  override readonly name = 'TaskInputError';
}

/** Wraps `run` as a Lambda handler for the pipeline task `task`. */
export function taskHandler<I extends z.ZodType, O extends z.ZodType>(
  task: string,
  input: I,
  output: O,
  run: (event: z.output<I>) => Promise<z.input<O>>,
): middy.MiddyfiedHandler<unknown, z.output<O>, Error, Context> {
  return middy<unknown, z.output<O>, Error, Context>()
    .use(injectLambdaContext(logger, { clearState: true }))
    .handler(async (event: unknown) => {
      const parsed = input.safeParse(event);
      if (!parsed.success) throw new TaskInputError(`${task}: input does not match its schema:\n${z.prettifyError(parsed.error)}`);
      const started = performance.now();
      let value: z.input<O>;
      try {
        value = await run(parsed.data);
      } catch (error) {
        throw withServiceDetail(error);
      }
      const result = output.parse(value);
      logger.info(`${task} done`, { task, ms: Math.round(performance.now() - started) });
      return result;
    });
}

/** What the AWS SDK attaches to a service error. */
interface ServiceErrorShape {
  $metadata?: { httpStatusCode?: number; requestId?: string; attempts?: number };
  $response?: { body?: unknown };
}

/**
 * An AWS SDK service error whose body the SDK could not read arrives as `Unknown: UnknownError`, with
 * nothing to tell a 500 from a 413 or a throttle. Its message gains the HTTP status, the request id and
 * the attempts made; the name (what Retry and Catch match) is kept.
 */
export function withServiceDetail(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const meta = (error as ServiceErrorShape).$metadata;
  if (meta?.httpStatusCode === undefined || error.message.includes('(HTTP ')) return error;
  const parts = [`HTTP ${meta.httpStatusCode}`];
  if (meta.requestId) parts.push(`request ${meta.requestId}`);
  if (meta.attempts !== undefined) parts.push(`${meta.attempts} attempt${meta.attempts === 1 ? '' : 's'}`);
  error.message = `${error.message} (${parts.join(', ')})`;
  return error;
}
