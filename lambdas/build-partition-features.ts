/** BuildPartitionFeatures: validates and cleans one date partition (one Map iteration). */
import { taskHandler } from '../lib/middleware/task-handler.ts';
import { buildPartitionFeatures } from '../lib/pipeline/data-steps.ts';
import { dataStepConfigFromEnv } from '../lib/pipeline/step-config.ts';
import { BuildPartitionInputSchema, PartitionResultSchema, STATES } from '../lib/wiring/pipeline.ts';

const config = dataStepConfigFromEnv();

export const handler = taskHandler(
  STATES.buildPartitionFeatures,
  BuildPartitionInputSchema,
  PartitionResultSchema,
  ({ run, plan, partition }) => buildPartitionFeatures(run, plan, partition, config),
);
