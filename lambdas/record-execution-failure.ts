/** RecordExecutionFailure (EventBridge: retraining execution FAILED, TIMED_OUT or ABORTED): the run is recorded failed. */
import { ModelRegistry } from '../lib/aws/registry.ts';
import { taskHandler } from '../lib/middleware/task-handler.ts';
import { ExecutionStatusChangeSchema, recordExecutionFailure } from '../lib/pipeline/execution-failure.ts';
import { RunOutcomeSchema } from '../lib/wiring/pipeline.ts';
import { z } from 'zod';

const deps = { registry: new ModelRegistry(), now: () => new Date() };

const ResultSchema = z.object({ recorded: z.boolean(), reason: z.string(), outcome: RunOutcomeSchema.optional() });

export const handler = taskHandler('RecordExecutionFailure', ExecutionStatusChangeSchema, ResultSchema, (event) =>
  recordExecutionFailure(event, deps),
);
