/** RecordFailure: any step failed; the run is marked failed with the root cause (a failed partition's own error for BuildFeatures). */
import { ModelRegistry } from '../lib/aws/registry.ts';
import { taskHandler, TaskInputError } from '../lib/middleware/task-handler.ts';
import { recordFailure } from '../lib/pipeline/outcomes.ts';
import { failureRootCause } from '../lib/pipeline/failure-cause.ts';
import { RecordFailureInputSchema, RunOutcomeSchema, STATES } from '../lib/wiring/pipeline.ts';

const deps = { registry: new ModelRegistry(), now: () => new Date() };

export const handler = taskHandler(STATES.recordFailure, RecordFailureInputSchema, RunOutcomeSchema, async (input) => {
  const shelf = input.run?.shelf ?? input.shelf;
  const runId = input.run?.runId ?? input.runId;
  if (shelf === undefined || runId === undefined) throw new TaskInputError('RecordFailure needs the shelf and runId of the execution');
  return recordFailure(shelf, runId, await failureRootCause(input.error, input.run, input.plan), deps);
});
