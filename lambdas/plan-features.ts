/** PlanFeatures: lists the date partitions to build and fixes the training cut-off. */
import { taskHandler } from '../lib/middleware/task-handler.ts';
import { planFeatures } from '../lib/pipeline/data-steps.ts';
import { FeaturePlanSchema, PlanFeaturesInputSchema, STATES } from '../lib/wiring/pipeline.ts';

export const handler = taskHandler(STATES.planFeatures, PlanFeaturesInputSchema, FeaturePlanSchema, ({ run }) => planFeatures(run));
