/** TrainBaselines: fits the shelf's dummy models on the candidate's own training channel. */
import { taskHandler } from '../lib/middleware/task-handler.ts';
import { trainBaselines } from '../lib/pipeline/model-steps.ts';
import { BaselinesResultSchema, STATES, TrainBaselinesInputSchema } from '../lib/wiring/pipeline.ts';

export const handler = taskHandler(STATES.trainBaselines, TrainBaselinesInputSchema, BaselinesResultSchema, ({ run, data }) =>
  trainBaselines(run, data),
);
