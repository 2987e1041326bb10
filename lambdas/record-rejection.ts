/** RecordRejection: the candidate failed the gate; the registry keeps it with every reason. */
import { ModelRegistry } from '../lib/aws/registry.ts';
import { taskHandler } from '../lib/middleware/task-handler.ts';
import { recordRejection } from '../lib/pipeline/outcomes.ts';
import { RecordRejectionInputSchema, RunOutcomeSchema, STATES } from '../lib/wiring/pipeline.ts';

const deps = { registry: new ModelRegistry(), now: () => new Date() };

export const handler = taskHandler(STATES.recordRejection, RecordRejectionInputSchema, RunOutcomeSchema, ({ run, evaluation }) =>
  recordRejection(run, evaluation, deps),
);
