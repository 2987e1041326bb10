/** ValidateData: quality across the run, the temporal split, and the train / eval channels. */
import { taskHandler } from '../lib/middleware/task-handler.ts';
import { validateData } from '../lib/pipeline/data-steps.ts';
import { dataStepConfigFromEnv } from '../lib/pipeline/step-config.ts';
import { STATES, ValidateDataInputSchema, ValidatedDataSchema } from '../lib/wiring/pipeline.ts';

const config = dataStepConfigFromEnv();

export const handler = taskHandler(STATES.validateData, ValidateDataInputSchema, ValidatedDataSchema, ({ run, plan, partitions }) =>
  validateData(run, plan, partitions, config),
);
